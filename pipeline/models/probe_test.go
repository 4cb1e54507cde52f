package models

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/splatbench/splatbench/pipeline/ort"
	ot "github.com/splatbench/splatbench/pipeline/ort/onnxtest"
)

func TestProbeShapes(t *testing.T) {
	sig := &ort.Signature{Inputs: []ort.Tensor{
		ort.T("hidden_states", ort.Float16, -1, -1, 64),
		ort.T("txt_ids", ort.Float32, 256, 3),
		ort.T("img_ids", ort.Float32, -1, 3),
		ort.T("odd", ort.Float32, -1, -1),
	}}
	got := ProbeShapes(sig, "flux/transformer")
	want := []ort.Tensor{
		ort.T("hidden_states", ort.Float16, 1, 1024, 64),
		ort.T("txt_ids", ort.Float32, 256, 3),
		ort.T("img_ids", ort.Float32, 1024, 3),
		ort.T("odd", ort.Float32, 1, 1),
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ProbeShapes (-want +got):\n%s", d)
	}
	if sig.Inputs[0].Shape[1] != -1 {
		t.Error("ProbeShapes changed the signature")
	}
}

// TestProbe runs real models on the CPU provider: a dynamic CLIP image
// tower stand-in gets the probe's 224 px, and asking for a provider the
// build lacks is a warning naming it, not an error.
func TestProbe(t *testing.T) {
	rt := testRuntime(t)
	dir := t.TempDir()
	path := ot.Model{
		Inputs:  []ot.Value{ot.V("pixel_values", ot.Float, -1, 3, -1, -1)},
		Outputs: []ot.Value{ot.V("image_embeds", ot.Float, -1, 3)},
		Nodes: []ot.Node{{Op: "ReduceMean", Inputs: []string{"pixel_values"}, Outputs: []string{"image_embeds"},
			Attrs: []ot.Attr{{Name: "axes", Kind: "ints", Ints: []int64{2, 3}}, {Name: "keepdims", Kind: "i", Int: 0}}}},
	}.Write(t, dir, "vision_model.onnx")
	f, p, err := Probe(context.Background(), rt, path, "cpu")
	if err != nil {
		t.Fatal(err)
	}
	if f.Stage != "clip/image" || p == nil || p.Nodes[ort.CPU] != 1 || !strings.Contains(f.Message, "on cpu: cpu 1 nodes") {
		t.Fatalf("Probe = %+v, %v", f, p)
	}
	if !contains(rt.Providers(), ort.CUDA) {
		f, p, err = Probe(context.Background(), rt, path, "CUDAExecutionProvider")
		if err != nil || p != nil || f.Status != Warn || !strings.Contains(f.Message, "cuda probe failed") {
			t.Fatalf("Probe on a build without CUDA = %+v, %v, %v; want a warning", f, p, err)
		}
	}
	// A file that fits no stage is not run.
	bad := ot.Model{
		Inputs:  []ot.Value{ot.V("x", ot.Float, 1)},
		Outputs: []ot.Value{ot.V("y", ot.Float, 1)},
		Nodes:   []ot.Node{{Op: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}}},
	}.Write(t, dir, "other.onnx")
	if f, p, err := Probe(context.Background(), rt, bad, "cpu"); err != nil || p != nil || f.Status != Fail {
		t.Fatalf("Probe(unfit) = %+v, %v, %v; want Fail and no run", f, p, err)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
