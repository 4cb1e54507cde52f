package flux

import (
	"context"
	"fmt"
	"strings"
)

// Sequence lengths of FLUX.1-schnell's text encoders (§1.2).
const (
	CLIPSeqLen    = 77
	DefaultT5Len  = 256 // schnell; dev uses 512
	CLIPPooledDim = 768
	T5Dim         = 4096
)

// Tokenizer turns a prompt into one encoder's input: token ids padded (or
// truncated) to the encoder's sequence length, and the attention mask, 1
// for the prompt's tokens and specials and 0 for padding (same length).
// pipeline/tokenizer's CLIP BPE and T5 Unigram tokenizers satisfy it.
type Tokenizer interface {
	Encode(text string) (ids, mask []int64, err error)
}

// TextInfo says how a prompt was tokenised.
type TextInfo struct {
	CLIPTokens int // tokens of the CLIP window in use (mask sum, specials included)
	T5Tokens   int // tokens of the T5 window in use
	// CLIPFull and T5Full report a window filled to its last position: the
	// prompt was cut to fit (or fits exactly). CLIP keeps 75 content
	// tokens; T5 keeps MaxSeqLen − 1.
	CLIPFull, T5Full bool
}

// Truncated reports whether either window is full.
func (t TextInfo) Truncated() bool { return t.CLIPFull || t.T5Full }

// checkPrompt rejects prompts with no text.
func checkPrompt(prompt string) error {
	if strings.TrimSpace(prompt) == "" {
		return fmt.Errorf("flux: empty prompt: text-to-image needs a text prompt")
	}
	return nil
}

// tokenize runs one tokenizer and checks its output against the encoder's
// sequence length. It returns the ids as float32 (ort's feed type; every id
// below 2^24 is exact) and the number of unmasked positions.
func tokenize(ctx context.Context, name string, tok Tokenizer, prompt string, seqLen int) ([]float32, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("flux: %s tokenizer: %w", name, err)
	}
	ids, mask, err := tok.Encode(prompt)
	if err != nil {
		return nil, 0, fmt.Errorf("flux: %s tokenizer: %w", name, err)
	}
	if len(ids) != seqLen {
		return nil, 0, fmt.Errorf("flux: %s tokenizer returned %d ids; the %s encoder takes exactly %d (pad and truncate to it)", name, len(ids), name, seqLen)
	}
	if len(mask) != len(ids) {
		return nil, 0, fmt.Errorf("flux: %s tokenizer returned %d ids but a mask of %d", name, len(ids), len(mask))
	}
	out := make([]float32, seqLen)
	used := 0
	for i, id := range ids {
		if id < 0 || id >= 1<<24 {
			return nil, 0, fmt.Errorf("flux: %s tokenizer: id %d at position %d is out of range", name, id, i)
		}
		out[i] = float32(id)
		if mask[i] != 0 {
			used++
		}
	}
	return out, used, nil
}
