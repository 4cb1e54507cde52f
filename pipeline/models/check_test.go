package models

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/splatbench/splatbench/pipeline/ort"
	ot "github.com/splatbench/splatbench/pipeline/ort/onnxtest"
	"github.com/splatbench/splatbench/pipeline/ort/orttest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func testRuntime(t testing.TB) *ort.Runtime { return orttest.Runtime(t) }

// modelDir fills dir with stand-ins for the models a user might have: the
// right signatures with empty bodies, and some that are wrong.
func modelDir(t *testing.T, dir string) {
	sig := func(name string, in, out []ot.Value) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		ot.Signature(in, out).Write(t, dir, name)
	}
	v := ot.V
	sig("isnet-small.onnx", []ot.Value{v("input", ot.Float, 1, 3, 1024, 1024)}, []ot.Value{v("output", ot.Float, 1, 1, 1024, 1024)})
	sig("rmbg/model.onnx", []ot.Value{v("pixel_values", ot.Float, -1, 3, 1024, 1024)}, []ot.Value{v("alphas", ot.Float, -1, 1, 1024, 1024)})
	sig("rmbg/model_dynamic.onnx", []ot.Value{v("pixel_values", ot.Float, -1, 3, -1, -1)}, []ot.Value{v("alphas", ot.Float, -1, 1, -1, -1)})
	sig("flux/clip.opt/model.onnx", []ot.Value{v("input_ids", ot.Int32, -1, 77)}, []ot.Value{v("pooled_embeddings", ot.Float, -1, 768), v("text_embeddings", ot.Float, -1, 77, 768)})
	transformer := []ot.Value{
		v("hidden_states", ot.Float, -1, -1, 64), v("encoder_hidden_states", ot.Float, -1, 256, 4096),
		v("pooled_projections", ot.Float, -1, 768), v("timestep", ot.Float, -1),
		v("img_ids", ot.Float, -1, 3), v("txt_ids", ot.Float, 256, 3),
	}
	sig("flux/transformer.opt/model.onnx", transformer, []ot.Value{v("latent", ot.Float, -1, -1, 64)})
	sig("flux-dev/transformer.onnx", append(transformer, v("guidance", ot.Float, -1)), []ot.Value{v("latent", ot.Float, -1, -1, 64)})
	sig("flux/vae.opt/model.onnx", []ot.Value{v("latent", ot.Float, -1, 16, -1, -1)}, []ot.Value{v("images", ot.Float, -1, 3, -1, -1)})
	sig("flux/t5-512.onnx", []ot.Value{v("input_ids", ot.Int64, -1, 512)}, []ot.Value{v("text_embeddings", ot.Float, -1, 512, 4096)})
	sig("clip/vision_model.onnx", []ot.Value{v("pixel_values", ot.Float, -1, 3, 224, 224)}, []ot.Value{v("image_embeds", ot.Float, -1, 768)})
	sig("clip/text_model.onnx", []ot.Value{v("input_ids", ot.Int64, -1, -1)}, []ot.Value{v("text_embeds", ot.Float, -1, 768)})
	// As tools/make_gpu_models.py marks its real-size random-weight models.
	if err := os.MkdirAll(filepath.Join(dir, "random"), 0o755); err != nil {
		t.Fatal(err)
	}
	random := ot.Signature([]ot.Value{v("pixel_values", ot.Float, -1, 3, 224, 224)}, []ot.Value{v("image_embeds", ot.Float, -1, 768)})
	random.Metadata = map[string]string{ort.WeightsKey: ort.RandomWeights}
	random.Write(t, dir, "random/vision_model.onnx")
	sig("other/u2net.onnx", []ot.Value{v("input.1", ot.Float, 1, 3, 320, 320)}, []ot.Value{v("1959", ot.Float, 1, 1, 320, 320)})
	for name, data := range map[string]string{
		"flux/transformer.opt/backbone.onnx_data": "weights",
		"README.md":           "# my models\n",
		"broken.onnx":         "this is not protobuf",
		".cache/ignored.onnx": "hidden directories are skipped",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// render prints findings one per line with paths relative to dir.
func render(dir string, fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		rel, err := filepath.Rel(dir, f.Path)
		if err != nil {
			rel = f.Path
		}
		msg := strings.ReplaceAll(f.Message, dir+string(filepath.Separator), "")
		fmt.Fprintf(&b, "%-4s %-40s %-18s %s\n", f.Status, rel, f.Stage, msg)
	}
	return b.String()
}

func TestCheckDirGolden(t *testing.T) {
	rt := testRuntime(t)
	dir := t.TempDir()
	modelDir(t, dir)
	found, err := CheckDir(context.Background(), rt, dir)
	if err != nil {
		t.Fatal(err)
	}
	got := render(dir, found)
	golden := filepath.Join("testdata", "checkdir.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestCheckDirSingleFileAndErrors(t *testing.T) {
	rt := testRuntime(t)
	dir := t.TempDir()
	p := ot.Signature([]ot.Value{ot.V("input", ot.Float, 1, 3, 1024, 1024)}, []ot.Value{ot.V("output", ot.Float, 1, 1, 1024, 1024)}).Write(t, dir, "m.onnx")
	found, err := CheckDir(context.Background(), rt, p)
	if err != nil || len(found) != 1 || found[0].Stage != "matte/isnet" || found[0].Status != OK {
		t.Errorf("CheckDir(file) = %+v, %v", found, err)
	}
	if _, err := CheckDir(context.Background(), rt, filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("CheckDir(missing) = %v, want an error naming it", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := CheckDir(ctx, rt, dir); err == nil {
		t.Error("CheckDir with a cancelled context succeeded")
	}
}

// TestRealISNet checks the models set-up installs, when they are there.
func TestRealISNet(t *testing.T) {
	rt := testRuntime(t)
	for _, name := range []string{"isnet-small.onnx", "isnet-medium.onnx"} {
		p := orttest.SetupModel(t, name)
		f, err := CheckFile(context.Background(), rt, p)
		if err != nil || f.Status != OK || f.Stage != "matte/isnet" {
			t.Errorf("CheckFile(%s) = %+v, %v; want ok matte/isnet", name, f, err)
		}
	}
}

func TestSpecsAreWellFormed(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, st := range Specs {
		if seen[st.Name] || st.Source == "" || st.About == "" || len(st.Spec.Inputs) == 0 || len(st.Spec.Outputs) == 0 {
			t.Errorf("stage %q: duplicate, or missing source, description, inputs or outputs", st.Name)
		}
		seen[st.Name] = true
		if got, ok := Lookup(st.Name); !ok || got.Name != st.Name {
			t.Errorf("Lookup(%q) failed", st.Name)
		}
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("Lookup(nope) succeeded")
	}
}
