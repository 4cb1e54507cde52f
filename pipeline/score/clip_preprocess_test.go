package score

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestResampleGolden checks both bicubic kernels on a 4→2 ramp against
// values worked out by hand from each library's formula.
func TestResampleGolden(t *testing.T) {
	t.Parallel()
	src := []float32{0, 1, 2, 3}
	tests := []struct {
		name string
		taps []taps
		want []float32
	}{
		// torch: x = (i+0.5)·2 − 0.5 = 0.5, 2.5; a = −0.75 weights
		// (−0.09375, 0.59375, 0.59375, −0.09375), edge-clamped.
		{"torch", torchCubicWeights(4, 2), []float32{0.40625, 2.59375}},
		// PIL: centre 1, support 4, taps k(−0.25), k(0.25), k(0.75), k(1.25)
		// with a = −0.5, normalised by their sum 1.890625.
		{"pil", pilWeights(4, 2), []float32{1.109375 / 1.890625, 3 - 1.109375/1.890625}},
	}
	for _, tt := range tests {
		got := resize(src, 4, 1, tt.taps, []taps{{idx: []int{0}, w: []float64{1}}})
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateApprox(0, 1e-6)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func ramp(w, h int) []float32 {
	rgb := make([]float32, 3*w*h)
	for y := range h {
		for x := range w {
			for c := range 3 {
				rgb[3*(y*w+x)+c] = float32((x+2*y+40*c)%256) / 255
			}
		}
	}
	return rgb
}

// TestPreprocessIdentity: at the model's size both resizes are the
// identity, leaving only the normalisation (and CLIP's 8-bit rounding,
// exact on 8-bit inputs).
func TestPreprocessIdentity(t *testing.T) {
	t.Parallel()
	const n = 24
	rgb := ramp(n, n)
	for _, p := range []Preprocess{PreprocessCLIP, PreprocessValidator} {
		got, err := p.Apply(rgb, n, n, n)
		if err != nil {
			t.Fatal(err)
		}
		k := 1.0
		if p == PreprocessValidator {
			k = 3 // the validator's ×3 mean and std
		}
		for c := range 3 {
			for i := range n * n {
				want := (float64(rgb[3*i+c]) - k*CLIPMean[c]) / (k * CLIPStd[c])
				if d := math.Abs(float64(got[c*n*n+i]) - want); d > 1e-5 {
					t.Fatalf("%s: channel %d pixel %d = %v, want %v", p, c, i, got[c*n*n+i], want)
				}
			}
		}
	}
}

// TestPreprocessConstant: a flat image stays flat through any resize.
func TestPreprocessConstant(t *testing.T) {
	t.Parallel()
	rgb := make([]float32, 3*518*518)
	for i := range rgb {
		rgb[i] = 1 // white, the validator's background
	}
	for _, p := range []Preprocess{PreprocessCLIP, PreprocessValidator} {
		got, err := p.Apply(rgb, 518, 518, 224)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3*224*224 {
			t.Fatalf("%s: %d values", p, len(got))
		}
		k := 1.0
		if p == PreprocessValidator {
			k = 3
		}
		for c := range 3 {
			want := (1 - k*CLIPMean[c]) / (k * CLIPStd[c])
			for i := range 224 * 224 {
				if d := math.Abs(float64(got[c*224*224+i]) - want); d > 1e-5 {
					t.Fatalf("%s: channel %d value %d = %v, want %v", p, c, i, got[c*224*224+i], want)
				}
			}
		}
	}
}

// TestPreprocessCrop: CLIP resizes the short side and centre-crops, so a
// wide image keeps its middle; the validator squashes the whole image.
func TestPreprocessCrop(t *testing.T) {
	t.Parallel()
	// 48×16: left third red, middle green, right blue.
	w, h := 48, 16
	rgb := make([]float32, 3*w*h)
	for y := range h {
		for x := range w {
			rgb[3*(y*w+x)+x/16] = 1
		}
	}
	got, err := PreprocessCLIP.Apply(rgb, w, h, 16)
	if err != nil {
		t.Fatal(err)
	}
	green := (1 - CLIPMean[1]) / CLIPStd[1]
	if g := float64(got[16*16+8*16+8]); math.Abs(g-green) > 1e-5 {
		t.Errorf("centre green after crop = %v, want %v", g, green)
	}
	v, err := PreprocessValidator.Apply(rgb, w, h, 16)
	if err != nil {
		t.Fatal(err)
	}
	red := (1 - 3*CLIPMean[0]) / (3 * CLIPStd[0])
	if r := float64(v[8*16+0]); math.Abs(r-red) > 0.05 {
		t.Errorf("validator left edge red = %v, want ≈ %v (no crop)", r, red)
	}
}

func TestPreprocessErrors(t *testing.T) {
	t.Parallel()
	if _, err := PreprocessCLIP.Apply(make([]float32, 5), 2, 2, 224); err == nil {
		t.Error("short image: no error")
	}
	if _, err := PreprocessCLIP.Apply(make([]float32, 12), 2, 2, 0); err == nil {
		t.Error("size 0: no error")
	}
	if _, err := Preprocess(9).Apply(make([]float32, 12), 2, 2, 2); err == nil {
		t.Error("unknown mode: no error")
	}
	for _, s := range []string{"", "clip", "validator"} {
		if _, err := ParsePreprocess(s); err != nil {
			t.Errorf("ParsePreprocess(%q): %v", s, err)
		}
	}
	if _, err := ParsePreprocess("x3"); err == nil {
		t.Error("ParsePreprocess(x3): no error")
	}
}
