package matte

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splatbench/splatbench/pipeline/ort/onnxtest"
)

// fakeModel writes a model with a matting signature whose output is the
// channel mean of its input plus add: for grey pixels v, IS-Net's input is
// (v−128)/256 in every channel, so output = v/256 with add 0.5, exactly.
func fakeModel(t testing.TB, dir, name, in, out string, res int64, add float32) string {
	r := res
	return onnxtest.Model{
		Inputs:  []onnxtest.Value{onnxtest.V(in, onnxtest.Float, 1, 3, r, r)},
		Outputs: []onnxtest.Value{onnxtest.V(out, onnxtest.Float, 1, 1, r, r)},
		Inits:   []onnxtest.Init{{Name: "add", Shape: []int64{1}, Values: []float32{add}}},
		Nodes: []onnxtest.Node{
			{Op: "ReduceMean", Inputs: []string{in}, Outputs: []string{"mean"},
				Attrs: []onnxtest.Attr{{Name: "axes", Kind: "ints", Ints: []int64{1}}, {Name: "keepdims", Kind: "i", Int: 1}}},
			{Op: "Add", Inputs: []string{"mean", "add"}, Outputs: []string{out}},
		},
	}.Write(t, dir, name)
}

// greyImage is a w×h grey ramp: v = (x + 3y) mod 256.
func greyImage(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint8((x + 3*y) % 256)
			img.SetNRGBA(x, y, color.NRGBA{v, v, v, 255})
		}
	}
	return img
}

func TestRunWithFakeISNet(t *testing.T) {
	rt := testRuntime(t)
	const res = 64
	path := fakeModel(t, t.TempDir(), "isnet-fake.onnx", "input", "output", res, 0.5)
	m, err := New(context.Background(), rt, Options{Model: path, Resolution: res}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Kind() != ISNet || m.Provider() != "cpu" {
		t.Errorf("Kind, Provider = %s, %s", m.Kind(), m.Provider())
	}
	// At the model's own size both resizes are the identity, so the mask is
	// exactly trunc(v/256·255) per pixel.
	img := greyImage(res, res)
	out, err := m.Run(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < res*res; i++ {
		v := img.Pix[4*i]
		want := uint8(float64(v) / 256 * 255)
		if got := out.Pix[4*i : 4*i+4]; got[0] != v || got[1] != v || got[2] != v || got[3] != want {
			t.Fatalf("pixel %d = %v, want colour %d (straight, not premultiplied) and alpha %d", i, got, v, want)
		}
	}
	// Another size: the mask comes back at the image's size.
	odd := greyImage(37, 91)
	mask, err := m.Mask(context.Background(), odd)
	if err != nil {
		t.Fatal(err)
	}
	if mask.Bounds() != image.Rect(0, 0, 37, 91) {
		t.Errorf("mask bounds %v, want 37×91", mask.Bounds())
	}
}

func TestRunWithFakeBiRefNet(t *testing.T) {
	rt := testRuntime(t)
	const res = 32
	// Channel mean of ImageNet-normalised values lies in about [-2, 2.6]:
	// logits, so the stage must apply the sigmoid.
	path := fakeModel(t, t.TempDir(), "rmbg-fake.onnx", "pixel_values", "alphas", res, 0)
	m, err := New(context.Background(), rt, Options{Model: path, Resolution: res}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Kind() != BiRefNet {
		t.Fatalf("Kind = %s, want birefnet", m.Kind())
	}
	img := greyImage(res, res)
	mask, err := m.Mask(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	mean, std := [3]float64{0.485, 0.456, 0.406}, [3]float64{0.229, 0.224, 0.225}
	for i := 0; i < res*res; i++ {
		v := float64(img.Pix[4*i]) / 255
		var logit float64
		for c := range 3 {
			logit += (v - mean[c]) / std[c] / 3
		}
		want := 255 / (1 + math.Exp(-logit))
		if got := float64(mask.Pix[i]); math.Abs(got-want) > 1 {
			t.Fatalf("pixel %d: alpha %v, want %.2f ± 1", i, got, want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	rt := testRuntime(t)
	dir := t.TempDir()
	good := fakeModel(t, dir, "good.onnx", "input", "output", 64, 0.5)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	neither := fakeModel(t, dir, "neither.onnx", "image", "mask", 64, 0)
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"truncated model", Options{Model: write("trunc.onnx", data[:len(data)/2]), Resolution: 64}, []string{"trunc.onnx", "not a loadable ONNX model"}},
		{"text file", Options{Model: write("notes.onnx", []byte("not a model")), Resolution: 64}, []string{"notes.onnx", "not a loadable ONNX model"}},
		{"missing file", Options{Model: filepath.Join(dir, "gone.onnx")}, []string{"gone.onnx", "file not found"}},
		{"fits neither kind", Options{Model: neither, Resolution: 64}, []string{"neither.onnx", "as isnet: missing input \"input\"", "as birefnet: missing input \"pixel_values\""}},
		{"wrong resolution", Options{Model: good, Resolution: 128}, []string{"dimension 2 is 64, want 128"}},
		{"forced wrong kind", Options{Model: good, Kind: BiRefNet, Resolution: 64}, []string{"as birefnet"}},
		{"unknown kind", Options{Model: good, Kind: "u2net", Resolution: 64}, []string{`unknown kind "u2net"`}},
		{"no model", Options{}, []string{"no model given"}},
		{"bad resolution", Options{Model: good, Resolution: 7}, []string{"resolution 7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(context.Background(), rt, tt.opts, nil)
			if err == nil {
				m.Close()
				t.Fatal("New succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestRunBadImages(t *testing.T) {
	rt := testRuntime(t)
	path := fakeModel(t, t.TempDir(), "isnet-fake.onnx", "input", "output", 32, 0.5)
	m, err := New(context.Background(), rt, Options{Model: path, Resolution: 32}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for name, img := range map[string]image.Image{"nil": nil, "empty": image.NewNRGBA(image.Rect(0, 0, 0, 5))} {
		if _, err := m.Run(context.Background(), img); err == nil {
			t.Errorf("%s image: Run succeeded, want an error", name)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Run(ctx, greyImage(8, 8)); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("cancelled Run = %v", err)
	}
}

func TestConcurrentRuns(t *testing.T) {
	rt := testRuntime(t)
	path := fakeModel(t, t.TempDir(), "isnet-fake.onnx", "input", "output", 32, 0.5)
	m, err := New(context.Background(), rt, Options{Model: path, Resolution: 32}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	want, err := m.Mask(context.Background(), greyImage(50, 40))
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			got, err := m.Mask(context.Background(), greyImage(50, 40))
			if err == nil && !bytes.Equal(got.Pix, want.Pix) {
				err = errors.New("concurrent run gave a different mask")
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
