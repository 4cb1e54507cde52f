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
		taps tapTable
		want []float32
	}{
		// torch: x = (i+0.5)·2 − 0.5 = 0.5, 2.5; a = −0.75 weights
		// (−0.09375, 0.59375, 0.59375, −0.09375), edge-clamped.
		{"torch", torchTaps(4, 2), []float32{0.40625, 2.59375}},
		// PIL: centre 1, support 4, taps k(−0.25), k(0.25), k(0.75), k(1.25)
		// with a = −0.5, normalised by their sum 1.890625.
		{"pil", pilTaps(4, 2), []float32{1.109375 / 1.890625, 3 - 1.109375/1.890625}},
	}
	gray := make([]float32, 0, 3*len(src))
	for _, v := range src {
		gray = append(gray, v, v, v)
	}
	var one tapTable
	one.add([]int32{0}, []float64{1})
	for _, tt := range tests {
		got := resizeRGB(gray, 4, 1, tt.taps, one)
		for c := range 3 {
			if diff := cmp.Diff(tt.want, got[c], cmpopts.EquateApprox(0, 1e-6)); diff != "" {
				t.Errorf("%s, channel %d (-want +got):\n%s", tt.name, c, diff)
			}
		}
	}
}

// resizeRGB is the resize Apply streams, into three planes.
func resizeRGB(rgb []float32, w, h int, xs, ys tapTable) [3][]float32 {
	ow, oh := xs.n(), ys.n()
	var out [3][]float32
	for c := range 3 {
		out[c] = make([]float32, ow*oh)
	}
	new(resizeScratch).resize(rgb, w, h, xs, ys, func(y int, acc []float64) {
		for x := range ow {
			for c := range 3 {
				out[c][y*ow+x] = float32(acc[3*x+c])
			}
		}
	})
	return out
}

// TestTapsMatchReference: the flat tap tables hold exactly the taps of
// the per-output ones before session 16.
func TestTapsMatchReference(t *testing.T) {
	t.Parallel()
	for _, sz := range [][2]int{{518, 224}, {300, 420}, {160, 224}, {37, 224}, {1, 1}, {1, 7}, {7, 1}, {4, 2}} {
		for _, k := range []struct {
			name string
			flat func(in, out int) tapTable
			ref  func(in, out int) []refTaps
		}{{"pil", pilTaps, refPilWeights}, {"torch", torchTaps, refTorchCubicWeights}} {
			got, want := k.flat(sz[0], sz[1]), k.ref(sz[0], sz[1])
			if got.n() != len(want) || len(got.off) != len(want)+1 {
				t.Fatalf("%s %d→%d: %d outputs, want %d", k.name, sz[0], sz[1], got.n(), len(want))
			}
			for i, r := range want {
				idx, w := got.idx[got.off[i]:got.off[i+1]], got.w[got.off[i]:got.off[i+1]]
				ok := len(idx) == len(r.idx) && slices.Equal(w, r.w) && int(got.lo[i]) == slices.Min(r.idx) && int(got.hi[i]) == slices.Max(r.idx)
				for k := range min(len(idx), len(r.idx)) {
					ok = ok && int(idx[k]) == r.idx[k]
				}
				if !ok {
					t.Errorf("%s %d→%d output %d: taps %v %v (lo %d hi %d), want %v %v", k.name, sz[0], sz[1], i, idx, w, got.lo[i], got.hi[i], r.idx, r.w)
				}
			}
		}
	}
}

// resizePlane is the plain separable resize of one channel plane, rows
// first, each output summing its taps in order: the resize must equal it
// bit for bit, and it is the baseline of BenchmarkResizeRGB.
func resizePlane(src []float32, w, h int, xs, ys []refTaps) []float32 {
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
func resizePlanes(rgb []float32, w, h int, xs, ys []refTaps) [3][]float32 {
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
		weights      func(in, out int) []refTaps
		taps         func(in, out int) tapTable
	}{
		{"pil down", 518, 518, 224, 224, refPilWeights, pilTaps},
		{"pil wide", 300, 160, 420, 224, refPilWeights, pilTaps},
		{"torch down", 518, 518, 224, 224, refTorchCubicWeights, torchTaps},
		{"torch up", 37, 53, 224, 224, refTorchCubicWeights, torchTaps},
		{"torch 1 row", 5, 1, 3, 9, refTorchCubicWeights, torchTaps},
		{"pil 2 rows", 9, 2, 4, 3, refPilWeights, pilTaps},
	}
	for _, tt := range tests {
		rgb := make([]float32, 3*tt.w*tt.h)
		for i := range rgb {
			rgb[i] = rng.Float32()
		}
		want := resizePlanes(rgb, tt.w, tt.h, tt.weights(tt.w, tt.ow), tt.weights(tt.h, tt.oh))
		got := resizeRGB(rgb, tt.w, tt.h, tt.taps(tt.w, tt.ow), tt.taps(tt.h, tt.oh))
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

// TestCLIPLevel: clip8 finds each sample's 8-bit level as the rounding
// does, around every level step, at the edges and far outside 0..1.
func TestCLIPLevel(t *testing.T) {
	t.Parallel()
	as := []float64{0, math.Copysign(0, -1), -1, 2, 1, 0.5 / 255, math.SmallestNonzeroFloat64, math.MaxFloat64, -math.MaxFloat64,
		math.Inf(1), math.Inf(-1), math.MaxFloat32, 1e39, 254.5 / 255, 0.999}
	for q := 1; q < 256; q++ {
		s := levelStep[q]
		as = append(as, s, math.Nextafter(s, 0), math.Nextafter(s, 2), (float64(q)-0.5)/255, float64(q)/255)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 100000 {
		as = append(as, rng.Float64()*1.1-0.05)
	}
	for _, a := range as {
		for c := range 3 {
			want := clipNorm(level(a), c)
			if got := clip8(&clipLUT[c], a, c); math.Float32bits(got) != math.Float32bits(want) {
				t.Fatalf("clip8(%v) channel %d = %v, want %v (level %v)", a, c, got, want, level(a))
			}
		}
	}
	if got := clip8(&clipLUT[0], math.NaN(), 0); got == got {
		t.Errorf("clip8(NaN) = %v, want NaN", got)
	}
}

// TestResizeMatchesReference64: the streamed resize's float64 sums, before
// any rounding to float32, are bit for bit those of the resize before
// session 16 (so each sums its taps in the same order), for both
// kernels, down and up, and for windows of the output as CLIP's crop
// takes them.
func TestResizeMatchesReference64(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	tests := []struct {
		name         string
		w, h, ow, oh int
		x0, y0, n, m int // the window: outputs x0..x0+n−1, y0..y0+m−1
		ref          func(in, out int) []refTaps
		flat         func(in, out int) tapTable
	}{
		{"pil down", 518, 518, 224, 224, 0, 0, 224, 224, refPilWeights, pilTaps},
		{"pil wide crop", 300, 160, 420, 224, 98, 0, 224, 224, refPilWeights, pilTaps},
		{"pil tall crop", 61, 150, 40, 98, 0, 29, 40, 40, refPilWeights, pilTaps},
		{"pil up", 37, 53, 224, 320, 0, 48, 224, 224, refPilWeights, pilTaps},
		{"torch down", 518, 518, 224, 224, 0, 0, 224, 224, refTorchCubicWeights, torchTaps},
		{"torch up", 37, 53, 224, 224, 0, 0, 224, 224, refTorchCubicWeights, torchTaps},
		{"torch 1 row", 5, 1, 3, 9, 0, 0, 3, 9, refTorchCubicWeights, torchTaps},
		{"pil 1×1", 1, 1, 1, 1, 0, 0, 1, 1, refPilWeights, pilTaps},
	}
	for _, tt := range tests {
		rgb := make([]float32, 3*tt.w*tt.h)
		for i := range rgb {
			rgb[i] = rng.Float32()
		}
		want := refResize64(rgb, tt.w, tt.h, tt.ref(tt.w, tt.ow), tt.ref(tt.h, tt.oh))
		xs, ys := tt.flat(tt.w, tt.ow).sub(tt.x0, tt.x0+tt.n), tt.flat(tt.h, tt.oh).sub(tt.y0, tt.y0+tt.m)
		rows := 0
		new(resizeScratch).resize(rgb, tt.w, tt.h, xs, ys, func(y int, acc []float64) {
			rows++
			if y != rows-1 || len(acc) != 3*tt.n {
				t.Fatalf("%s: row %d (%d values) after %d rows, want %d values", tt.name, y, len(acc), rows-1, 3*tt.n)
			}
			ref := want[3*((tt.y0+y)*tt.ow+tt.x0):][:3*tt.n]
			for j := range acc {
				if math.Float64bits(acc[j]) != math.Float64bits(ref[j]) {
					t.Fatalf("%s: x %d y %d channel %d = %v, the reference gives %v", tt.name, j/3, y, j%3, acc[j], ref[j])
				}
			}
		})
		if rows != tt.m {
			t.Errorf("%s: %d rows, want %d", tt.name, rows, tt.m)
		}
	}
}
