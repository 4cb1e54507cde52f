package flux

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/splatbench/splatbench/pipeline/ort"
	"github.com/splatbench/splatbench/pipeline/ort/onnxtest"
)

const fakeRes = 64

func newFake(t *testing.T, dir string, steps int) *Flux {
	t.Helper()
	f, err := New(context.Background(), testRuntime(t), Options{Dir: dir, Steps: steps, Resolution: fakeRes, Threads: 1},
		fakeTok{}, fakeTok{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestGenerateFake runs the whole sampler on the fake models and compares
// the image with the one computed in Go: noise, packing, the Euler loop on
// schnell's schedule, unpacking, the VAE scale and shift and the 8-bit
// conversion all have to be right for the pixels to match.
func TestGenerateFake(t *testing.T) {
	t.Parallel()
	f := newFake(t, writeFakeDir(t, onnxtest.Float), 4)
	if _, _, err := f.GenerateSteps(context.Background(), "a red cube", 7, 5); err == nil {
		t.Error("5 steps: no error")
	}
	for steps := 1; steps <= MaxSteps; steps++ {
		img, tm, err := f.GenerateSteps(context.Background(), "a red cube", 7, steps)
		if err != nil {
			t.Fatalf("%d steps: %v", steps, err)
		}
		if got := img.Bounds().Dx(); got != fakeRes || img.Bounds().Dy() != fakeRes {
			t.Fatalf("%d steps: image %v, want %d×%d", steps, img.Bounds(), fakeRes, fakeRes)
		}
		if len(tm.Steps) != steps {
			t.Errorf("%d steps: %d transformer calls", steps, len(tm.Steps))
		}
		want := ToImage(expectedFake("a red cube", 7, steps, fakeRes), fakeRes, fakeRes)
		worst := 0
		for i := range img.Pix {
			worst = max(worst, absDiff(img.Pix[i], want.Pix[i]))
		}
		// ORT's float32 reductions differ from Go's in the last bits, which
		// can move a truncated 8-bit value by one.
		if worst > 1 {
			t.Errorf("%d steps: pixels differ from the Go reference by up to %d", steps, worst)
		}
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestGenerateDeterministic(t *testing.T) {
	t.Parallel()
	for _, dt := range []int{onnxtest.Float, onnxtest.BFloat16} {
		f := newFake(t, writeFakeDir(t, dt), 2)
		wantT := ort.Float32
		if dt == onnxtest.BFloat16 {
			wantT = ort.BFloat16
		}
		if f.latentT != wantT {
			t.Errorf("latent dtype %s, want %s", f.latentT, wantT)
		}
		a, ta, err := f.Generate(context.Background(), "a blue sphere", 1)
		if err != nil {
			t.Fatal(err)
		}
		b, tb, err := f.Generate(context.Background(), "a blue sphere", 1)
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := f.Generate(context.Background(), "a blue sphere", 2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Pix, b.Pix) {
			t.Errorf("%s: the same seed gave different images", wantT)
		}
		if bytes.Equal(a.Pix, c.Pix) {
			t.Errorf("%s: seeds 1 and 2 gave the same image", wantT)
		}
		// The second generation encodes the same prompt again, as a job
		// with a new prompt would: both pay the text encoders.
		if ta.Text <= 0 || tb.Text <= 0 {
			t.Errorf("%s: text encoders took %v then %v, want both to run", wantT, ta.Text, tb.Text)
		}
		d, _, err := f.Generate(context.Background(), "a green torus", 1)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(a.Pix, d.Pix) {
			t.Errorf("%s: two prompts gave the same image", wantT)
		}
	}
}

func TestGeneratePrompts(t *testing.T) {
	t.Parallel()
	f := newFake(t, writeFakeDir(t, onnxtest.Float), 1)
	for _, p := range []string{"", "   \n\t"} {
		if _, _, err := f.Generate(context.Background(), p, 1); err == nil || !strings.Contains(err.Error(), "empty prompt") {
			t.Errorf("prompt %q: error %v, want an empty-prompt error", p, err)
		}
	}
	_, tm, err := f.Generate(context.Background(), "a chair", 1)
	if err != nil {
		t.Fatal(err)
	}
	if tm.Tokens.Truncated() || tm.Tokens.CLIPTokens != 9 {
		t.Errorf("short prompt: %+v, want 9 CLIP tokens and no truncation", tm.Tokens)
	}
	long := strings.Repeat("a very long prompt ", 40) // 760 bytes: over both windows
	img, tm, err := f.Generate(context.Background(), long, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := TextInfo{CLIPTokens: 762, T5Tokens: 762, CLIPDropped: 762 - 77, T5Dropped: 762 - fakeSeq}
	if img == nil || tm.Tokens != want || !tm.Tokens.Truncated() {
		t.Errorf("long prompt: %+v, want %+v", tm.Tokens, want)
	}
}

func TestGenerateCancelled(t *testing.T) {
	t.Parallel()
	f := newFake(t, writeFakeDir(t, onnxtest.Float), 4)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := f.Generate(ctx, "a cup", 1); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}

// badTok returns the wrong length.
type badTok struct{ fakeTok }

func (badTok) Pad([]int64, int) ([]int64, []int64, int) { return []int64{1, 2}, []int64{1, 1}, 0 }

func TestTokenizerLength(t *testing.T) {
	t.Parallel()
	f, err := New(context.Background(), testRuntime(t), Options{Dir: writeFakeDir(t, onnxtest.Float), Steps: 1, Resolution: fakeRes},
		badTok{}, fakeTok{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, _, err := f.Generate(context.Background(), "x", 1); err == nil || !strings.Contains(err.Error(), "CLIP tokenizer padded to 2 ids") {
		t.Errorf("error %v, want one naming the CLIP tokenizer's length", err)
	}
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	rt := testRuntime(t)
	dir := writeFakeDir(t, onnxtest.Float)
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no dir", Options{}, "no model directory"},
		{"steps", Options{Dir: dir, Steps: 5}, "5 steps"},
		{"resolution", Options{Dir: dir, Resolution: 100}, "multiples of 16"},
		{"seq", Options{Dir: dir, MaxSeqLen: 1000}, "max_seq_len"},
	}
	for _, tt := range tests {
		_, err := New(context.Background(), rt, tt.opts, fakeTok{}, fakeTok{}, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to mention %q", tt.name, err, tt.want)
		}
	}
	if _, err := New(context.Background(), rt, Options{Dir: dir}, nil, fakeTok{}, nil); err == nil {
		t.Error("no CLIP tokenizer: no error")
	}
}
