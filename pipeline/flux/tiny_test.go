package flux

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/splatbench/splatbench/pipeline/tokenizer"
)

// The tiny models tools/make_tiny_models.py writes (committed under the
// repository's testdata/models) and the real tokenizer files (committed
// with pipeline/tokenizer).
var (
	tinyDir     = filepath.Join("..", "..", "testdata", "models", "flux-schnell-tiny")
	tinyBF16Dir = filepath.Join("..", "..", "testdata", "models", "flux-schnell-tiny-bf16")
	tokDir      = filepath.Join("..", "tokenizer", "testdata")
)

// The real tokenizers satisfy the stage's interface.
var (
	_ Tokenizer = (*tokenizer.CLIP)(nil)
	_ Tokenizer = (*tokenizer.T5)(nil)
)

var (
	toksOnce sync.Once
	clipTok  *tokenizer.CLIP
	t5Tok    *tokenizer.T5
	toksErr  error
)

func realTokenizers(t testing.TB) (*tokenizer.CLIP, *tokenizer.T5) {
	t.Helper()
	toksOnce.Do(func() {
		if clipTok, toksErr = tokenizer.LoadCLIP(filepath.Join(tokDir, "clip")); toksErr != nil {
			return
		}
		t5Tok, toksErr = tokenizer.LoadT5(filepath.Join(tokDir, "t5"))
	})
	if toksErr != nil {
		t.Fatal(toksErr)
	}
	return clipTok, t5Tok
}

// TestTinyModels runs the stage end to end on the exported tiny FLUX
// models (float32 and the bf16-boundary variant) with the real
// tokenizers: output size, determinism per seed, one transformer call per
// step, truncation of an over-long prompt.
func TestTinyModels(t *testing.T) {
	t.Parallel()
	rt := testRuntime(t)
	ct, tt := realTokenizers(t)
	for _, dir := range []string{tinyDir, tinyBF16Dir} {
		for _, res := range []int{64, 96} {
			for steps := 1; steps <= MaxSteps; steps++ {
				if testing.Short() && (res != 64 || steps == 3) {
					continue
				}
				f, err := New(context.Background(), rt, Options{Dir: dir, Steps: steps, Resolution: res, Threads: 1}, ct, tt, nil)
				if err != nil {
					t.Fatal(err)
				}
				name := filepath.Base(dir)
				a, tm, err := f.Generate(context.Background(), "a red cube on a table", 3)
				if err != nil {
					t.Fatalf("%s %d px %d steps: %v", name, res, steps, err)
				}
				if a.Bounds().Dx() != res || a.Bounds().Dy() != res {
					t.Errorf("%s: image %v, want %d²", name, a.Bounds(), res)
				}
				if len(tm.Steps) != steps {
					t.Errorf("%s: %d transformer calls for %d steps", name, len(tm.Steps), steps)
				}
				b, _, err := f.Generate(context.Background(), "a red cube on a table", 3)
				if err != nil {
					t.Fatal(err)
				}
				c, _, err := f.Generate(context.Background(), "a red cube on a table", 4)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(a.Pix, b.Pix) {
					t.Errorf("%s %d steps: same seed, different pixels", name, steps)
				}
				if bytes.Equal(a.Pix, c.Pix) {
					t.Errorf("%s %d steps: seeds 3 and 4 gave identical pixels", name, steps)
				}
				f.Close()
			}
		}
	}
	f, err := New(context.Background(), rt, Options{Dir: tinyDir, Steps: 1, Resolution: 64, Threads: 1}, ct, tt, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	long := strings.Repeat("a highly detailed ornate golden baroque candlestick, ", 40)
	img, tm, err := f.Generate(context.Background(), long, 1)
	if err != nil || img == nil {
		t.Fatalf("long prompt: %v", err)
	}
	if !tm.Tokens.Truncated() || tm.Tokens.CLIPDropped != tm.Tokens.CLIPTokens-CLIPSeqLen || tm.Tokens.T5Dropped != tm.Tokens.T5Tokens-DefaultT5Len {
		t.Errorf("long prompt: %+v, want both encoders truncated", tm.Tokens)
	}
	if _, _, err := f.Generate(context.Background(), "", 1); err == nil {
		t.Error("empty prompt: no error")
	}
}

// TestWarmUp runs the load-time warm-up on every model of the tiny exports,
// CPU included (New warms only a GPU provider's): it needs each session's
// shapes static at the stage's size, and a generation after it must still
// match one without it.
func TestWarmUp(t *testing.T) {
	t.Parallel()
	rt := testRuntime(t)
	ct, tt := realTokenizers(t)
	for _, dir := range []string{tinyDir, tinyBF16Dir} {
		for _, res := range []int{64, 96} {
			name := fmt.Sprintf("%s %d px", filepath.Base(dir), res)
			var imgs [2]*image.NRGBA
			for i, warm := range []bool{false, true} {
				f, err := New(context.Background(), rt, Options{Dir: dir, Steps: 1, Resolution: res, Threads: 1}, ct, tt, nil)
				if err != nil {
					t.Fatal(err)
				}
				if warm {
					if err := f.warmUp(context.Background(), true); err != nil {
						t.Errorf("%s: %v", name, err)
					}
				}
				if imgs[i], _, err = f.Generate(context.Background(), "a red cube", 5); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				f.Close()
			}
			if !bytes.Equal(imgs[0].Pix, imgs[1].Pix) {
				t.Errorf("%s: the warmed stage made other pixels", name)
			}
		}
	}
}
