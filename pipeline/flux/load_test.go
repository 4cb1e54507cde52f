package flux

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splatbench/splatbench/pipeline/ort/onnxtest"
)

// TestSignatureMismatch builds a directory whose every model is wrong in a
// different way, and one file missing, and expects ONE error listing them
// all.
func TestSignatureMismatch(t *testing.T) {
	t.Parallel()
	rt := testRuntime(t)
	dir := t.TempDir()
	write := func(rel string, m onnxtest.Model) {
		sub := filepath.Join(dir, filepath.Dir(rel))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		m.Write(t, sub, filepath.Base(rel))
	}
	V := onnxtest.V
	// CLIP: output renamed.
	write("clip.opt/model.onnx", onnxtest.Signature(
		[]onnxtest.Value{V("input_ids", onnxtest.Int64, -1, 77)},
		[]onnxtest.Value{V("pooled", onnxtest.Float, -1, 768)}))
	// T5: dev's 512 tokens.
	write("t5.opt/model.onnx", onnxtest.Signature(
		[]onnxtest.Value{V("input_ids", onnxtest.Int64, -1, 512)},
		[]onnxtest.Value{V("text_embeddings", onnxtest.Float, -1, 512, 4096)}))
	// Transformer, in the bf16 subdirectory: a dev export (guidance input),
	// txt_ids missing, img_ids with a batch dimension. (onnxtest.Signature
	// writes float32 outputs only.)
	write("transformer.opt/bf16/model.onnx", onnxtest.Signature(
		[]onnxtest.Value{
			V("hidden_states", onnxtest.BFloat16, -1, -1, 64),
			V("encoder_hidden_states", onnxtest.BFloat16, -1, 256, 4096),
			V("pooled_projections", onnxtest.BFloat16, -1, 768),
			V("timestep", onnxtest.BFloat16, -1),
			V("img_ids", onnxtest.Float, -1, -1, 3),
			V("guidance", onnxtest.Float, -1),
		},
		[]onnxtest.Value{V("latent", onnxtest.Float, -1, -1, 64)}))
	// VAE: missing.
	_, err := New(context.Background(), rt, Options{Dir: dir, Resolution: 64}, fakeTok{}, fakeTok{}, nil)
	var de *DirError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T), want *DirError", err, err)
	}
	msg := err.Error()
	for _, want := range []string{
		"flux/vae-decoder: missing",
		`flux/clip: ` + filepath.Join(dir, "clip.opt", "model.onnx") + `: missing output "pooled_embeddings"`,
		`flux/t5: ` + filepath.Join(dir, "t5.opt", "model.onnx") + `: input "input_ids": dimension 1 is 512, want 256`,
		`output "text_embeddings": dimension 1 is 512, want 256`,
		filepath.Join("transformer.opt", "bf16", "model.onnx") + `: missing input "txt_ids"`,
		`input "img_ids": rank 3`,
		`input "guidance"`,
		"at 64×64",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q:\n%s", want, msg)
		}
	}
	if len(de.Problems) != 7 {
		t.Errorf("%d problems, want 7:\n%s", len(de.Problems), msg)
	}
}

// TestFixedResolution: a transformer exported for one token count refuses
// another resolution with the dimension named.
func TestFixedResolution(t *testing.T) {
	t.Parallel()
	rt := testRuntime(t)
	dir := writeFakeDir(t, onnxtest.Float)
	m := fakeTransformer(onnxtest.Float)
	m.Inputs[0].Shape = []int64{1, 16, 64} // 64×64 only
	m.Write(t, filepath.Join(dir, "transformer.opt"), "model.onnx")
	f, err := New(context.Background(), rt, Options{Dir: dir, Resolution: 64, Steps: 1}, fakeTok{}, fakeTok{}, nil)
	if err != nil {
		t.Fatalf("64×64 on a 16-token export: %v", err)
	}
	f.Close()
	_, err = New(context.Background(), rt, Options{Dir: dir, Resolution: 128}, fakeTok{}, fakeTok{}, nil)
	if err == nil || !strings.Contains(err.Error(), `input "hidden_states": dimension 1 is 16, want 64`) {
		t.Errorf("128×128 on a 16-token export: %v", err)
	}
}

func TestMissingDir(t *testing.T) {
	t.Parallel()
	_, err := New(context.Background(), testRuntime(t), Options{Dir: filepath.Join(t.TempDir(), "nope")}, fakeTok{}, fakeTok{}, nil)
	var de *DirError
	if !errors.As(err, &de) || len(de.Problems) != 4 {
		t.Fatalf("error %v, want a DirError with the 4 models missing", err)
	}
}
