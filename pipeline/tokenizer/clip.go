package tokenizer

import (
	"strings"
)

// CLIP special tokens (openai/clip-vit-large-patch14).
const (
	CLIPStartID = 49406 // <|startoftext|>
	CLIPEndID   = 49407 // <|endoftext|>, also the pad token in the FLUX tokenizer_config.json
)

const (
	clipStart     = "<|startoftext|>"
	clipEnd       = "<|endoftext|>"
	clipEndOfWord = "</w>"
)

// CLIP is the CLIP byte-level BPE tokenizer.
type CLIP struct {
	vocab     map[string]int64
	merges    map[uint64]bpeMerge
	byteID    [256]int64 // id of the byte's symbol inside a word
	byteIDEnd [256]int64 // id of the byte's symbol + "</w>" (last symbol of a word)
	rawAdded  *addedMatcher
	normAdded *addedMatcher
	sp        specials
	cfg       clipConfig
}

var _ Tokenizer = (*CLIP)(nil)

// bpeMerge is one merge rule: its rank (lower merges first) and the merged id.
type bpeMerge struct {
	rank int32
	id   int64
}

type clipConfig struct {
	openAIClean bool
	pad         int64
	padSet      bool
	padToken    string // resolved against the vocabulary when padSet is false
}

// CLIPOption configures a CLIP tokenizer.
type CLIPOption func(*clipConfig)

// WithOpenAIClean adds the part of OpenAI's text cleaning that the Hugging Face
// tokenizer lacks: HTML entities unescaped twice ("&amp;" -> "&") and whitespace
// trimmed. Use it to match open_clip/OpenAI tokenisation (the SN17 validator's CLIP
// scorer); leave it off to match the FLUX pipelines (transformers' CLIPTokenizer).
// ftfy's mojibake repair is not reproduced in either mode.
func WithOpenAIClean() CLIPOption { return func(c *clipConfig) { c.openAIClean = true } }

// WithPadID sets the pad id (default <|endoftext|> = 49407 as in FLUX's
// tokenizer_config.json; OpenAI's clip.tokenize pads with 0).
func WithPadID(id int64) CLIPOption {
	return func(c *clipConfig) { c.pad, c.padSet = id, true }
}

// newCLIP builds the tokenizer from a parsed vocabulary and merge list.
// mergeSource names where merges came from, for errors.
func newCLIP(vocab map[string]int64, merges [][2]string, mergeSource string, added []addedToken, opts []CLIPOption) (*CLIP, error) {
	c := &CLIP{vocab: vocab, merges: make(map[uint64]bpeMerge, len(merges))}
	for _, o := range opts {
		o(&c.cfg)
	}
	syms := byteSymbols()
	for b := 0; b < 256; b++ {
		id, ok := vocab[syms[b]]
		idEnd, okEnd := vocab[syms[b]+clipEndOfWord]
		if !ok || !okEnd {
			return nil, errorf("vocabulary lacks the byte symbol %q or %q (byte 0x%02x): not a CLIP byte-level vocabulary", syms[b], syms[b]+clipEndOfWord, b)
		}
		c.byteID[b], c.byteIDEnd[b] = id, idEnd
	}
	for i, m := range merges {
		a, okA := vocab[m[0]]
		b, okB := vocab[m[1]]
		ab, okAB := vocab[m[0]+m[1]]
		if !okA || !okB || !okAB {
			return nil, errorf("%s: merge %d %q: a part or the merged token is not in the vocabulary", mergeSource, i, m[0]+" "+m[1])
		}
		k := pairKey(a, b)
		if _, dup := c.merges[k]; !dup {
			c.merges[k] = bpeMerge{rank: int32(i), id: ab}
		}
	}
	start, okS := vocab[clipStart]
	end, okE := vocab[clipEnd]
	if !okS || !okE {
		return nil, errorf("vocabulary lacks %s or %s", clipStart, clipEnd)
	}
	if added == nil {
		// Hugging Face's CLIP files: <|startoftext|> is matched in normalised text,
		// <|endoftext|> in the raw text.
		added = []addedToken{{content: clipStart, id: start, normalized: true}, {content: clipEnd, id: end}}
	}
	all := newAddedMatcher(added)
	c.rawAdded, c.normAdded = all.subset(false), all.subset(true)
	pad := end
	switch {
	case c.cfg.padSet:
		pad = c.cfg.pad
	case c.cfg.padToken != "":
		id, ok := vocab[c.cfg.padToken]
		if !ok {
			return nil, errorf("pad token %q (tokenizer_config.json pad_token) is not in the vocabulary", c.cfg.padToken)
		}
		pad = id
	}
	c.sp = specials{prefix: []int64{start}, suffix: []int64{end}, pad: pad}
	return c, nil
}

func pairKey(a, b int64) uint64 { return uint64(a)<<32 | uint64(uint32(b)) }

// VocabSize is the number of ids (the largest id + 1).
func (c *CLIP) VocabSize() int {
	n := 0
	for _, id := range c.vocab {
		if int(id) >= n {
			n = int(id) + 1
		}
	}
	return n
}

// PadID is the id padding uses.
func (c *CLIP) PadID() int64 { return c.sp.pad }

// Encode returns <|startoftext|> + BPE ids + <|endoftext|>, untruncated.
func (c *CLIP) Encode(text string) ([]int64, error) {
	text = strings.ToValidUTF8(text, "\uFFFD")
	if c.cfg.openAIClean {
		text = openAIClean(text)
	}
	content := make([]int64, 0, len(text)/3+4)
	var word []int64
	emit := func(w string) {
		word = word[:0]
		for i := 0; i < len(w); i++ {
			if i == len(w)-1 {
				word = append(word, c.byteIDEnd[w[i]])
			} else {
				word = append(word, c.byteID[w[i]])
			}
		}
		content = append(content, c.bpe(word)...)
	}
	for _, seg := range c.rawAdded.split(text, true) {
		if seg.added {
			content = append(content, seg.id)
			continue
		}
		for _, s2 := range c.normAdded.split(clipNormalize(seg.text), false) {
			if s2.added {
				content = append(content, s2.id)
				continue
			}
			clipPreSplit(s2.text, emit)
		}
	}
	return c.sp.wrap(content), nil
}

// bpe applies the merges to one word's symbol ids, in place: repeatedly the pair
// with the lowest rank is merged, every occurrence left to right.
func (c *CLIP) bpe(word []int64) []int64 {
	for len(word) > 1 {
		best := -1
		var bestM bpeMerge
		for i := 0; i+1 < len(word); i++ {
			m, ok := c.merges[pairKey(word[i], word[i+1])]
			if ok && (best < 0 || m.rank < bestM.rank) {
				best, bestM = i, m
			}
		}
		if best < 0 {
			break
		}
		a, b := word[best], word[best+1]
		out := word[:best]
		for i := best; i < len(word); {
			if i+1 < len(word) && word[i] == a && word[i+1] == b {
				out = append(out, bestM.id)
				i += 2
			} else {
				out = append(out, word[i])
				i++
			}
		}
		word = out
	}
	return word
}

// Pad fits ids to n tokens; see Tokenizer.
func (c *CLIP) Pad(ids []int64, n int) (padded, mask []int64, dropped int) {
	return c.sp.fit(ids, n)
}

// EncodePadded encodes text and fits it to n tokens (CLIPContext for FLUX).
func (c *CLIP) EncodePadded(text string, n int) (Encoding, error) {
	if err := c.sp.checkLen(n); err != nil {
		return Encoding{}, err
	}
	ids, err := c.Encode(text)
	if err != nil {
		return Encoding{}, err
	}
	return c.sp.encodePadded(ids, n), nil
}
