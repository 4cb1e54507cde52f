package pipeline

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline/cuda"
	"github.com/splatbench/splatbench/pipeline/ort/orttest"
	"github.com/splatbench/splatbench/prompts"
)

// tinyModels lays out the committed tiny models (testdata/models, made by
// tools/make_tiny_models.py) the way users' model folders look: FLUX with
// its tokenizers beside it, CLIP towers with theirs.
func tinyModels(t *testing.T) (fluxDir, clipDir string) {
	t.Helper()
	orttest.Library(t)
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	root := t.TempDir()
	link := func(target, name string) {
		if err := os.Symlink(abs(target), filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	link("../testdata/models/flux-schnell-tiny", "flux")
	link("tokenizer/testdata/clip", "tokenizer")
	link("tokenizer/testdata/t5", "tokenizer_2")
	clipDir = filepath.Join(root, "clip")
	if err := os.MkdirAll(clipDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"text_model.onnx", "vision_model.onnx"} {
		if err := os.Symlink(abs("../testdata/models/clip-tiny/"+f), filepath.Join(clipDir, f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(abs("tokenizer/testdata/clip"), filepath.Join(clipDir, "tokenizer")); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "flux"), clipDir
}

// tinyFluxProfile is tinyProfile with FLUX (steps steps at 64 px) and the
// CLIP scorer on the tiny models.
func tinyFluxProfile(t *testing.T, steps int) configs.Profile {
	t.Helper()
	fluxDir, clipDir := tinyModels(t)
	p := tinyProfile()
	p.Text2Img.Source, p.Text2Img.Model, p.Text2Img.Resolution, p.Text2Img.Steps = "flux", fluxDir, 64, steps
	p.Score.ClipModel = clipDir
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTextTo3DWithTinyModels runs the whole text-to-3D pipeline (FLUX →
// fit → CLIP score → SPZ) on the CPU with the tiny models: it checks
// shapes, step counts, determinism per seed and timing records, not
// quality (the weights are random).
func TestTextTo3DWithTinyModels(t *testing.T) {
	t.Parallel()
	p := tinyFluxProfile(t, 2)
	b := NewBuilder(slog.New(slog.DiscardHandler), "")
	defer b.Close()
	pl, err := b.Build(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	run := func(seed int64) *State {
		st, timings, err := pl.Run(context.Background(), Job{ID: "j", Prompt: prompts.Text("a wooden rocking chair"), Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		if len(timings) != 6 || timings[0].Stage != "text2img" || timings[2].Stage != "lift" || timings[4].Stage != "score" {
			t.Fatalf("timings %+v", timings)
		}
		if timings[0].Device != "ort:cpu" {
			t.Errorf("text2img ran on %q, want ort:cpu", timings[0].Device)
		}
		return st
	}
	a, again, other := run(1), run(1), run(2)
	if got := a.Image.Bounds().Dx(); got != 64 {
		t.Errorf("image %d px, want 64", got)
	}
	if a.Scores["t2i_steps"] != 2 {
		t.Errorf("%v transformer steps, want 2", a.Scores["t2i_steps"])
	}
	if string(a.Image.Pix) != string(again.Image.Pix) {
		t.Error("same seed, different images")
	}
	if string(a.Image.Pix) == string(other.Image.Pix) {
		t.Error("different seeds, same image")
	}
	if a.ScoreKind != "validator" {
		t.Errorf("score kind %q, want validator", a.ScoreKind)
	}
	if _, ok := a.Scores["alignment"]; !ok {
		t.Errorf("no CLIP alignment in %v", a.Scores)
	}
	if len(a.Encoded) == 0 {
		t.Error("no encoded output")
	}
}

func TestFluxEmptyPrompt(t *testing.T) {
	t.Parallel()
	fluxDir, _ := tinyModels(t)
	p := tinyProfile()
	p.Text2Img.Source, p.Text2Img.Model, p.Text2Img.Resolution = "flux", fluxDir, 64
	pl, err := NewBuilder(slog.New(slog.DiscardHandler), "").Build(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := pl.Run(context.Background(), Job{ID: "j", Prompt: prompts.Prompt{ID: "e"}}); err == nil {
		t.Fatal("an empty prompt generated an image")
	}
}

// TestCUDAGraphWithoutGPU: a profile that asks for CUDA graphs on a machine
// whose GPU (or CUDA-enabled ONNX Runtime) is missing still generates, on
// the CPU, and says why it has no graph when no GPU memory could be had.
func TestCUDAGraphWithoutGPU(t *testing.T) {
	t.Parallel()
	p := tinyFluxProfile(t, 1)
	p.Providers, p.CUDAGraph = []string{"cuda", "cpu"}, true
	var logs bytes.Buffer
	b := NewBuilder(slog.New(slog.NewTextHandler(&logs, nil)), "")
	defer b.Close()
	pl, err := b.Build(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	_, timings, err := pl.Run(context.Background(), Job{ID: "j", Prompt: prompts.Text("a wooden rocking chair"), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if timings[0].Device != "ort:cpu" {
		t.Errorf("text2img ran on %q, want ort:cpu (the tests' library has no CUDA provider)", timings[0].Device)
	}
	if c, err := cuda.Retain(0); err == nil {
		c.Release() // a GPU machine: the memory was there
	} else if !strings.Contains(logs.String(), "running without CUDA graphs") {
		t.Errorf("no GPU (%v), and no warning in the log:\n%s", err, logs.String())
	}
}
