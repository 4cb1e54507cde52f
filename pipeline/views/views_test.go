package views

import (
	"context"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splatbench/splatbench/pipeline/ort/onnxtest"
	"github.com/splatbench/splatbench/pipeline/ort/orttest"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// fakeModel returns the input image as each of K views (Concat of K
// copies), with a signature of side s.
func fakeModel(t testing.TB, s, k int64) string {
	m := onnxtest.Model{
		Inputs:  []onnxtest.Value{onnxtest.V("image", onnxtest.Float, 1, 4, s, s)},
		Outputs: []onnxtest.Value{onnxtest.V("views", onnxtest.Float, 1, k, 4, s, s)},
		Inits:   []onnxtest.Init{{Name: "ax1", Shape: []int64{1}, Ints: []int64{1}}},
		Nodes:   []onnxtest.Node{{Op: "Unsqueeze", Inputs: []string{"image", "ax1"}, Outputs: []string{"one"}}},
	}
	ins := make([]string, k)
	for i := range ins {
		ins[i] = "one"
	}
	m.Nodes = append(m.Nodes, onnxtest.Node{Op: "Concat", Inputs: ins, Outputs: []string{"views"},
		Attrs: []onnxtest.Attr{{Name: "axis", Kind: "i", Int: 1}}})
	return m.Write(t, t.TempDir(), "views.onnx")
}

func testImage(s int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, s, s))
	for y := range s {
		for x := range s {
			img.SetNRGBA(x, y, color.NRGBA{uint8(8 * x), uint8(8 * y), 200, uint8(255 - 4*x)})
		}
	}
	return img
}

func TestRunFake(t *testing.T) {
	t.Parallel()
	const s, k = 32, 3
	v, err := New(context.Background(), testRuntime(t), Options{Model: fakeModel(t, s, k)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if v.K() != k || v.Size() != s {
		t.Fatalf("K, Size = %d, %d", v.K(), v.Size())
	}
	img := testImage(s)
	out, err := v.Run(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != k {
		t.Fatalf("%d views", len(out))
	}
	for i, fv := range out {
		for p := range s * s {
			px := img.Pix[4*p:]
			for c := range 3 {
				if got, want := fv.RGB[3*p+c], float32(px[c])/255; got != want {
					t.Fatalf("view %d pixel %d channel %d = %v, want %v", i, p, c, got, want)
				}
			}
			if got, want := fv.Alpha[p], float32(px[3])/255; got != want {
				t.Fatalf("view %d pixel %d alpha = %v, want %v", i, p, got, want)
			}
		}
		// Poses: radius 1.5, elevation 0, azimuth 120·i.
		pos := fv.Camera.Position()
		wantPos := splat.OrbitPosition(DefaultRadius, 120*float64(i), 0)
		for a := range 3 {
			if math.Abs(pos[a]-wantPos[a]) > 1e-9 {
				t.Errorf("view %d camera at %v, want %v", i, pos, wantPos)
				break
			}
		}
		if fv.Camera.Width != s || math.Abs(fv.Camera.Fy-splat.FocalFromFOV(s, DefaultFOVDeg)) > 1e-9 {
			t.Errorf("view %d camera %+v", i, fv.Camera)
		}
	}
	// Another size is resized to the model's.
	if out, err := v.Run(context.Background(), testImage(50)); err != nil || len(out) != k || len(out[0].Alpha) != s*s {
		t.Errorf("50×50 input: %v", err)
	}
	if _, err := v.Run(context.Background(), nil); err == nil {
		t.Error("nil image: no error")
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	rt := testRuntime(t)
	dir := t.TempDir()
	bad := onnxtest.Signature(
		[]onnxtest.Value{onnxtest.V("rgba", onnxtest.Float, 1, 4, 256, 256)},
		[]onnxtest.Value{onnxtest.V("views", onnxtest.Float, 1, 4, 3, 256, 256)}).Write(t, dir, "bad.onnx")
	dyn := onnxtest.Signature(
		[]onnxtest.Value{onnxtest.V("image", onnxtest.Float, 1, 4, -1, -1)},
		[]onnxtest.Value{onnxtest.V("views", onnxtest.Float, 1, 4, 4, -1, -1)}).Write(t, dir, "dyn.onnx")
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"no model", Options{}, []string{"no model"}},
		{"missing", Options{Model: filepath.Join(dir, "none.onnx")}, []string{"file not found"}},
		{"signature", Options{Model: bad}, []string{`missing input "image"`, `input "rgba"`, `output "views": dimension 2 is 3, want 4`}},
		{"dynamic", Options{Model: dyn}, []string{"must be fixed"}},
		{"orbit", Options{Model: bad, FOVDeg: 200}, []string{"fov"}},
	}
	for _, tt := range tests {
		_, err := New(context.Background(), rt, tt.opts, nil)
		for _, w := range tt.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %v, want it to contain %q", tt.name, err, w)
			}
		}
	}
}

// TestTinyModel runs testdata/models/views-tiny (tools/make_tiny_models.py).
func TestTinyModel(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "testdata", "models", "views-tiny", "model.onnx")
	orttest.TestData(t, path)
	v, err := New(context.Background(), testRuntime(t), Options{Model: path, Threads: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if v.K() != 4 || v.Size() != 256 {
		t.Fatalf("K, Size = %d, %d; want 4, 256", v.K(), v.Size())
	}
	out, err := v.Run(context.Background(), testImage(64))
	if err != nil {
		t.Fatal(err)
	}
	for i, fv := range out {
		for _, x := range append(fv.RGB[:16], fv.Alpha[:16]...) {
			if !(x >= 0 && x <= 1) {
				t.Fatalf("view %d: value %v outside 0..1", i, x)
			}
		}
	}
}
