package flux

import (
	"context"
	"fmt"
	"strings"
)

// Sequence lengths of FLUX.1-schnell's text encoders (docs/algorithms.md §1.2).
const (
	CLIPSeqLen    = 77
	DefaultT5Len  = 256 // schnell; dev uses 512
	CLIPPooledDim = 768
	T5Dim         = 4096
)

// Tokenizer is what the stage needs of a tokenizer; pipeline/tokenizer's
// CLIP BPE and T5 Unigram tokenizers satisfy it. Encode returns the ids
// with the special tokens and never truncates; Pad cuts (keeping the
// specials) or pads them to exactly n, with the attention mask (1 for
// tokens, 0 for padding) and how many tokens were cut.
type Tokenizer interface {
	Encode(text string) ([]int64, error)
	Pad(ids []int64, n int) (padded, mask []int64, dropped int)
}

// TextInfo says how a prompt was tokenised.
type TextInfo struct {
	CLIPTokens  int // the prompt's CLIP tokens before truncation, specials included
	T5Tokens    int // the same for T5
	CLIPDropped int // tokens cut to fit CLIP's 77 (the end of the prompt did not reach it)
	T5Dropped   int // tokens cut to fit T5's MaxSeqLen
}

// Truncated reports whether either encoder saw a cut prompt.
func (t TextInfo) Truncated() bool { return t.CLIPDropped > 0 || t.T5Dropped > 0 }

// checkPrompt rejects prompts with no text.
func checkPrompt(prompt string) error {
	if strings.TrimSpace(prompt) == "" {
		return fmt.Errorf("flux: empty prompt: text-to-image needs a text prompt")
	}
	return nil
}

// tokenize runs one tokenizer and fits its ids to the encoder's sequence
// length. It returns the ids as float32 (ort's feed type; every id below
// 2^24 is exact), the untruncated token count and how many were cut.
func tokenize(ctx context.Context, name string, tok Tokenizer, prompt string, seqLen int) ([]float32, int, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, 0, fmt.Errorf("flux: %s tokenizer: %w", name, err)
	}
	raw, err := tok.Encode(prompt)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("flux: %s tokenizer: %w", name, err)
	}
	ids, mask, dropped := tok.Pad(raw, seqLen)
	if len(ids) != seqLen || len(mask) != seqLen {
		return nil, 0, 0, fmt.Errorf("flux: %s tokenizer padded to %d ids and a mask of %d; the %s encoder takes exactly %d", name, len(ids), len(mask), name, seqLen)
	}
	out := make([]float32, seqLen)
	for i, id := range ids {
		if id < 0 || id >= 1<<24 {
			return nil, 0, 0, fmt.Errorf("flux: %s tokenizer: id %d at position %d is out of range", name, id, i)
		}
		out[i] = float32(id)
	}
	return out, len(raw), dropped, nil
}
