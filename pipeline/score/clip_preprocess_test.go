package score

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
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
	gray := make([]float32, 0, 3*len(src))
	for _, v := range src {
		gray = append(gray, v, v, v)
	}
	for _, tt := range tests {
		got := resizeRGB(gray, 4, 1, tt.taps, []taps{{idx: []int{0}, w: []float64{1}}})
		for c := range 3 {
			if diff := cmp.Diff(tt.want, got[c], cmpopts.EquateApprox(0, 1e-6)); diff != "" {
				t.Errorf("%s, channel %d (-want +got):\n%s", tt.name, c, diff)
			}
		}
	}
}

// resizePlane is the plain separable resize of one channel plane, rows
// first, each output summing its taps in order: the reference resizeRGB
// must equal bit for bit, and the baseline of BenchmarkResizeRGB.
func resizePlane(src []float32, w, h int, xs, ys []taps) []float32 {
	ow := len(xs)
	tmp := make([]float64, ow*h)
	for y := range h {
		for x, t := range xs {
			var s float64
			for k, i := range t.idx {
				s += t.w[k] * float64(src[y*w+i])
			}
			tmp[y*ow+x] = s
		}
	}
	out := make([]float32, ow*len(ys))
	for y, t := range ys {
		for x := range ow {
			var s float64
			for k, i := range t.idx {
				s += t.w[k] * tmp[i*ow+x]
			}
			out[y*ow+x] = float32(s)
		}
	}
	return out
}

// resizePlanes is resizePlane on each channel of an interleaved image.
func resizePlanes(rgb []float32, w, h int, xs, ys []taps) [3][]float32 {
	var out [3][]float32
	for c := range 3 {
		plane := make([]float32, w*h)
		for i := range plane {
			plane[i] = rgb[3*i+c]
		}
		out[c] = resizePlane(plane, w, h, xs, ys)
	}
	return out
}

// TestResizeRGBMatchesPlanes: resizing the interleaved image at once gives
// exactly what resizing each plane does, for both kernels, down and up, in
// both directions, on a random image.
func TestResizeRGBMatchesPlanes(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name         string
		w, h, ow, oh int
		weights      func(in, out int) []taps
	}{
		{"pil down", 518, 518, 224, 224, pilWeights},
		{"pil wide", 300, 160, 420, 224, pilWeights},
		{"torch down", 518, 518, 224, 224, torchCubicWeights},
		{"torch up", 37, 53, 224, 224, torchCubicWeights},
	}
	for _, tt := range tests {
		rgb := make([]float32, 3*tt.w*tt.h)
		for i := range rgb {
			rgb[i] = rng.Float32()
		}
		xs, ys := tt.weights(tt.w, tt.ow), tt.weights(tt.h, tt.oh)
		want, got := resizePlanes(rgb, tt.w, tt.h, xs, ys), resizeRGB(rgb, tt.w, tt.h, xs, ys)
		for c := range 3 {
			if len(got[c]) != len(want[c]) {
				t.Fatalf("%s, channel %d: %d values, want %d", tt.name, c, len(got[c]), len(want[c]))
			}
			if slices.Equal(got[c], want[c]) {
				continue
			}
			for i := range want[c] {
				if got[c][i] != want[c][i] {
					t.Errorf("%s, channel %d: value %d (x %d, y %d) is %v, the per-plane resize gives %v",
						tt.name, c, i, i%tt.ow, i/tt.ow, got[c][i], want[c][i])
					break
				}
			}
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

// TestPreprocessMatchesReference: Apply gives exactly, bit for bit, what
// applyRef (the preprocessing before session 16) gives, for both modes,
// down and up, square and not, down to 1×1, on random images (values a
// little outside 0..1 too, to reach the 8-bit clamp) and on one with
// infinities and NaNs.
func TestPreprocessMatchesReference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		w, h, size int
		special    bool
	}{
		{518, 518, 224, false},
		{518, 518, 224, true},
		{300, 160, 224, false},
		{160, 300, 224, false},
		{519, 517, 224, false},
		{1000, 37, 64, false},
		{37, 53, 224, false},
		{53, 37, 224, true},
		{24, 24, 24, false},
		{7, 3, 5, false},
		{2, 9, 4, false},
		{1, 1, 1, false},
		{1, 1, 7, false},
		{3, 1, 2, false},
		{1, 5, 3, false},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tt := range tests {
		rgb := make([]float32, 3*tt.w*tt.h)
		for i := range rgb {
			rgb[i] = rng.Float32()*1.2 - 0.1
		}
		if tt.special {
			for i, v := range []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 0, 1} {
				rgb[rng.IntN(len(rgb))] = v
				rgb[(i*7919)%len(rgb)] = v
			}
		}
		for _, p := range []Preprocess{PreprocessCLIP, PreprocessValidator} {
			name := fmt.Sprintf("%s %d×%d→%d special=%v", p, tt.w, tt.h, tt.size, tt.special)
			want, err := applyRef(p, rgb, tt.w, tt.h, tt.size)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Apply(rgb, tt.w, tt.h, tt.size)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(got) != len(want) {
				t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
			}
			bad := 0
			for i := range want {
				g, w := got[i], want[i]
				if math.Float32bits(g) == math.Float32bits(w) || (g != g && w != w) {
					continue
				}
				if bad++; bad <= 3 {
					n := tt.size * tt.size
					t.Errorf("%s: channel %d x %d y %d = %v (%#x), the reference gives %v (%#x)",
						name, i/n, i%n%tt.size, i%n/tt.size, g, math.Float32bits(g), w, math.Float32bits(w))
				}
			}
			if bad > 3 {
				t.Errorf("%s: %d values differ", name, bad)
			}
		}
	}
}
