#!/usr/bin/env python3
"""Reference token ids for the Go tokenizers in pipeline/tokenizer.

Usage:
    python3 tools/tokenizer_refs.py DIR [-o pipeline/tokenizer/testdata/reference_ids.json]

DIR holds the same files as pipeline/tokenizer/testdata (or shared/data/tokenizers):
    DIR/clip/{vocab.json,merges.txt,tokenizer_config.json,special_tokens_map.json}
    DIR/t5/{tokenizer.json,tokenizer_config.json,special_tokens_map.json}

Needs transformers (5.x) and tokenizers. It writes
    {"clip": [{"text", "ids", "mask", "full"}...], "t5": [...], ...}
where "ids"/"mask" are padded + truncated (CLIP to 77, T5 to 256, as FLUX.1-schnell
does) and "full" is the untruncated, unpadded encoding (specials included).
Extra keys record the library versions and, as a cross-check, the ids from the bare
`tokenizers` pipelines ("clip_raw", "t5_raw"); a failure there is recorded, not fatal.
"""

import argparse
import json
import os
import sys

CLIP_MAX = 77
T5_MAX = 256

LONG_SENTENCE = "a highly detailed photograph of a vintage red sports car parked on a cobblestone street, "

PROMPTS = [
    "",
    " ",
    "a red cube",
    "A photo of a cat sitting on a wooden table",
    "a blue sphere on a yellow box",
    "   leading and trailing spaces   ",
    "multiple     spaces    between  words",
    "tabs\tand\nnewlines\r\nand\fform feeds",
    "café crème brûlée",
    "naïve résumé façade jalapeño",
    "ÀÉÎÕÜ Ünïcödé ÇÑ",
    "東京タワーの夜景",
    "一只可爱的猫坐在桌子上",
    "한국어 텍스트 테스트",
    "Привет мир, красный куб",
    "Ελληνικά ΣΟΦΙΑ σοφία",
    "emoji 🐱🚀✨ party 🎉",
    "family 👨‍👩‍👧‍👦 and flag 🇯🇵",
    "heart ❤️ and thumbs 👍🏽",
    "numbers 1234567890 3.14159 1,000,000",
    "date 2024-01-01 12:30:45",
    "punctuation!!! ??? ... ,,, ;; :: --",
    "(parentheses) [brackets] {braces} <angle>",
    "quotes \"double\" 'single' \u201ccurly\u201d \u2018curly\u2019",
    "apostrophes: don't it's we're I've I'm you'll he'd",
    "DON'T IT'S WE'RE",
    "rock'n'roll o'clock",
    "hyphenated well-known state-of-the-art self-driving",
    "email user@example.com and url https://example.com/path?q=1&x=2",
    "HTML &amp; entities &lt;b&gt; &quot;x&quot; &#39;y&#39; &nbsp;z",
    "C++ and C# code_snake_case camelCase",
    "ALL CAPS SHOUTING ROBOT",
    "3d render, 8k, octane render, trending on artstation, unreal engine",
    "a 1920s art-deco lamp",
    "\ufb01 ligature \uff46\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48 \u2460 x\u00b2",
    "non-breaking\u00a0space",
    "ideographic\u3000space",
    "zero\u200bwidth\u200djoiner",
    "combining e\u0301 a\u0308 n\u0303",
    "\u0130stanbul",
    "\u00df stra\u00dfe",
    "control\x07char\x00nul",
    "<|startoftext|> special <|endoftext|> tokens",
    "</s> <pad> <unk> <extra_id_0> t5 specials",
    "math \u2211 \u222b \u221a \u03c0 \u2248 \u2260",
    "currency $100 \u20ac50 \u00a330 \u00a51000",
    "arabic \u0645\u0631\u062d\u0628\u0627",
    "hindi \u0928\u092e\u0938\u094d\u0924\u0947",
    "thai \u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "x" * 300,
    "   ",
    "\u2581already metaspace\u2581here",
    "a\u2028line separator\u0085next line",
    "tilde~ backtick` pipe| caret^ backslash\\ slash/",
    "ThE QuIcK BrOwN FoX jumps over 13 lazy dogs.",
    LONG_SENTENCE * 4,
    LONG_SENTENCE * 30,
    " ".join(str(i) for i in range(200)),
    # Cases that separate transformers 5.x's T5Tokenizer from the bare tokenizer.json
    # pipeline (Go: WithWhitespaceSplit): text right after an added token, a space
    # next to a literal U+2581, U+0085 (the one white space the charsmap keeps).
    "</s>x <extra_id_1>word word<pad>",
    "a \u2581b c\u2581 d",
    "x\u0085y \u0085 z\u0085",
    "\u0085leading nel",
    # CLIP added-token and case edge cases.
    "<|STARTOFTEXT|> <|ENDOFTEXT|> \u0130I",
    "IT'S \u00a0\u00a0 twice",
]


def load_clip(path):
    import transformers

    for name in ("CLIPTokenizer", "CLIPTokenizerFast"):
        cls = getattr(transformers, name, None)
        if cls is None:
            continue
        try:
            return name, cls.from_pretrained(path)
        except Exception as e:  # try the next class
            print(f"{name}.from_pretrained({path}) failed: {e}", file=sys.stderr)
    raise SystemExit("no CLIP tokenizer class could load " + path)


def load_t5(path):
    import transformers

    for name in ("T5TokenizerFast", "T5Tokenizer"):
        cls = getattr(transformers, name, None)
        if cls is None:
            continue
        try:
            return name, cls.from_pretrained(path)
        except Exception as e:
            print(f"{name}.from_pretrained({path}) failed: {e}", file=sys.stderr)
    raise SystemExit("no T5 tokenizer class could load " + path)


def encode(tok, text, max_len):
    enc = tok(text, padding="max_length", max_length=max_len, truncation=True)
    full = tok(text)["input_ids"]
    return {
        "text": text,
        "ids": [int(i) for i in enc["input_ids"]],
        "mask": [int(m) for m in enc["attention_mask"]],
        "full": [int(i) for i in full],
    }


def raw_clip(path):
    """The CLIP pipeline built from bare `tokenizers` parts (cross-check only)."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors

    bpe = models.BPE.from_file(
        os.path.join(path, "vocab.json"),
        os.path.join(path, "merges.txt"),
        continuing_subword_prefix="",
        end_of_word_suffix="</w>",
        unk_token="<|endoftext|>",
    )
    tok = Tokenizer(bpe)
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    pat = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(pat), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    tok.post_processor = processors.RobertaProcessing(
        ("<|endoftext|>", 49407), ("<|startoftext|>", 49406), add_prefix_space=False, trim_offsets=False
    )
    tok.add_special_tokens(["<|startoftext|>", "<|endoftext|>"])
    return [tok.encode(t).ids for t in PROMPTS]


def raw_t5(path):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(os.path.join(path, "tokenizer.json"))
    return [tok.encode(t).ids for t in PROMPTS]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", help="directory with clip/ and t5/ tokenizer files")
    ap.add_argument("-o", "--out", default="-", help="output JSON file (default stdout)")
    args = ap.parse_args()

    import tokenizers
    import transformers

    clip_dir = os.path.join(args.dir, "clip")
    t5_dir = os.path.join(args.dir, "t5")
    clip_cls, clip = load_clip(clip_dir)
    t5_cls, t5 = load_t5(t5_dir)

    out = {
        "versions": {
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "python": sys.version.split()[0],
            "clip_class": clip_cls + " (" + type(clip).__name__ + ")",
            "t5_class": t5_cls + " (" + type(t5).__name__ + ")",
        },
        "clip_max_length": CLIP_MAX,
        "t5_max_length": T5_MAX,
        "clip": [encode(clip, t, CLIP_MAX) for t in PROMPTS],
        "t5": [encode(t5, t, T5_MAX) for t in PROMPTS],
    }
    for key, fn, path in (("clip_raw", raw_clip, clip_dir), ("t5_raw", raw_t5, t5_dir)):
        try:
            out[key] = fn(path)
        except Exception as e:  # cross-check only
            out[key + "_error"] = repr(e)

    text = json.dumps(out, ensure_ascii=False, indent=1)
    if args.out == "-":
        sys.stdout.write(text + "\n")
    else:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        print(f"wrote {args.out}: {len(PROMPTS)} prompts", file=sys.stderr)


if __name__ == "__main__":
    main()
