// Package tokenizer owns the text tokenizers of the FLUX.1 text encoders: the CLIP
// ViT-L/14 byte-level BPE tokenizer (vocab.json + merges.txt, or a BPE tokenizer.json)
// and the T5 v1.1 SentencePiece Unigram tokenizer (a Hugging Face tokenizer.json). Both
// read the Hugging Face files directly and reproduce what the Hugging Face `tokenizers`
// pipelines (as loaded by transformers' CLIPTokenizer / T5TokenizerFast) produce: the
// same normalisation, pre-tokenisation, model and special tokens, so the ids can be fed
// to the ONNX text encoders unchanged.
//
// Encode returns the unpadded ids with the special tokens; Pad (or EncodePadded) cuts
// and pads them to the encoder's fixed length and says how many tokens were dropped.
// Truncation is never silent.
//
// Tokenizers are immutable after construction and safe for concurrent use.
package tokenizer

import "fmt"

// Fixed sequence lengths used by the FLUX.1 pipelines.
const (
	// CLIPContext is the CLIP text encoder's context length (model_max_length).
	CLIPContext = 77
	// T5SchnellLength is the T5 max_sequence_length FLUX.1-schnell uses.
	T5SchnellLength = 256
	// T5DevLength is the T5 max_sequence_length FLUX.1-dev uses.
	T5DevLength = 512
)

// Tokenizer is what the text encoders need from a tokenizer.
type Tokenizer interface {
	// Encode tokenizes text and adds the model's special tokens. It never truncates:
	// the result may be longer than the encoder accepts. The empty prompt is valid
	// and gives only the special tokens.
	Encode(text string) ([]int64, error)
	// Pad fits ids (as returned by Encode) to exactly n tokens: a longer sequence is
	// cut keeping its leading and trailing special tokens (dropped > 0 then), a
	// shorter one is padded with the pad id. mask is 1 for real tokens, 0 for padding.
	Pad(ids []int64, n int) (padded, mask []int64, dropped int)
	// EncodePadded is Encode followed by Pad.
	EncodePadded(text string, n int) (Encoding, error)
}

// Encoding is a fixed-length encoding of one prompt.
type Encoding struct {
	IDs  []int64 // exactly the requested length
	Mask []int64 // 1 for real tokens, 0 for padding
	// Tokens is the length of the untruncated encoding, special tokens included.
	Tokens int
	// Dropped is how many tokens truncation removed (0 when the prompt fitted).
	// A caller should surface it: the end of the prompt did not reach the encoder.
	Dropped int
}

// Truncated reports whether part of the prompt was cut off.
func (e Encoding) Truncated() bool { return e.Dropped > 0 }

// specials are the ids a post-processor wraps around the content, and the pad id.
type specials struct {
	prefix []int64
	suffix []int64
	pad    int64
}

// wrap returns prefix + content + suffix.
func (s specials) wrap(content []int64) []int64 {
	out := make([]int64, 0, len(s.prefix)+len(content)+len(s.suffix))
	out = append(out, s.prefix...)
	out = append(out, content...)
	return append(out, s.suffix...)
}

// fit truncates (keeping the specials) and pads ids to n.
func (s specials) fit(ids []int64, n int) (padded, mask []int64, dropped int) {
	if n < 0 {
		n = 0
	}
	padded = make([]int64, n)
	mask = make([]int64, n)
	keep := ids
	if len(ids) > n {
		dropped = len(ids) - n
		np, ns := len(s.prefix), len(s.suffix)
		if np+ns <= n && len(ids) >= np+ns {
			content := ids[np : len(ids)-ns]
			keep = make([]int64, 0, n)
			keep = append(keep, ids[:np]...)
			keep = append(keep, content[:n-np-ns]...)
			keep = append(keep, ids[len(ids)-ns:]...)
		} else {
			keep = ids[:n]
		}
	}
	copy(padded, keep)
	for i := range padded {
		if i < len(keep) {
			mask[i] = 1
		} else {
			padded[i] = s.pad
		}
	}
	return padded, mask, dropped
}

func (s specials) encodePadded(ids []int64, n int) Encoding {
	p, m, d := s.fit(ids, n)
	return Encoding{IDs: p, Mask: m, Tokens: len(ids), Dropped: d}
}

// checkLen rejects lengths that cannot hold the special tokens.
func (s specials) checkLen(n int) error {
	if need := len(s.prefix) + len(s.suffix); n < need {
		return fmt.Errorf("tokenizer: length %d cannot hold the %d special tokens", n, need)
	}
	return nil
}
