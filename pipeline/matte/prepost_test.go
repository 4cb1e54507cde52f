package matte

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/splatbench/splatbench/internal/benchtest"
)

func TestResizeBilinear(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   plane
		w, h int
		want []uint8
	}{
		{
			// 2→4: srcX = x/2 → 0, .5, 1, 1.5; taps clamp to the last column,
			// so the right edge repeats (no half-pixel centres).
			name: "upscale row",
			in:   plane{w: 2, h: 1, c: 1, pix: []uint8{0, 101}},
			w:    4, h: 1,
			want: []uint8{0, 51, 101, 101}, // 50.5 rounds half up
		},
		{
			// 4→2: srcX = 2x → taps 0 and 2 exactly, no blending.
			name: "downscale picks samples",
			in:   plane{w: 4, h: 1, c: 1, pix: []uint8{10, 20, 30, 40}},
			w:    2, h: 1,
			want: []uint8{10, 30},
		},
		{
			name: "2d with channels",
			in:   plane{w: 2, h: 2, c: 2, pix: []uint8{0, 200, 100, 200, 100, 0, 200, 0}},
			w:    3, h: 3,
			// srcX = x·2/3 = 0, .667, 1.333 (clamped tap 1 and weight .333)
			want: func() []uint8 {
				p := func(x, y, c int) float64 {
					src := []uint8{0, 200, 100, 200, 100, 0, 200, 0}
					return float64(src[(y*2+x)*2+c])
				}
				var out []uint8
				for y := range 3 {
					for x := range 3 {
						sx, sy := float64(x)*2/3, float64(y)*2/3
						x1, y1 := int(math.Floor(sx)), int(math.Floor(sy))
						x2, y2 := min(int(math.Ceil(sx)), 1), min(int(math.Ceil(sy)), 1)
						dx, dy := sx-float64(x1), sy-float64(y1)
						for c := range 2 {
							v := (1-dx)*(1-dy)*p(x1, y1, c) + dx*(1-dy)*p(x2, y1, c) + (1-dx)*dy*p(x1, y2, c) + dx*dy*p(x2, y2, c)
							out = append(out, uint8(math.Floor(v+0.5)))
						}
					}
				}
				return out
			}(),
		},
		{
			name: "identity size",
			in:   plane{w: 3, h: 1, c: 1, pix: []uint8{7, 8, 9}},
			w:    3, h: 1,
			want: []uint8{7, 8, 9},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := resizeBilinear(tt.in, tt.w, tt.h)
			if diff := cmp.Diff(tt.want, got.pix); diff != "" {
				t.Errorf("pixels (-want +got):\n%s", diff)
			}
		})
	}
}

func TestToMask(t *testing.T) {
	t.Parallel()
	nan := float32(math.NaN())
	in := []float32{0, 1, 0.5, 0.999, 1.2, -0.3, nan, 1.0 / 255, 0.9999999}
	// 0.5·255 = 127.5 → 127 (truncation, as imgly's Uint8Array store); 1.2
	// would wrap to 50 in JavaScript, we clamp to 255; -0.3 would wrap to
	// 180, we clamp to 0.
	want := []uint8{0, 255, 127, 254, 255, 0, 0, 1, 254}
	if diff := cmp.Diff(want, toMask(in, len(in), 1).pix); diff != "" {
		t.Errorf("mask (-want +got):\n%s", diff)
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	p := plane{w: 2, h: 1, c: 3, pix: []uint8{0, 128, 255, 10, 20, 30}}
	isnet := normalize(p, 1, [3]float64{128, 128, 128}, [3]float64{256, 256, 256})
	want := []float32{-0.5, (10 - 128) / 256.0, 0, (20 - 128) / 256.0, 127 / 256.0, (30 - 128) / 256.0}
	if diff := cmp.Diff(want, isnet); diff != "" {
		t.Errorf("isnet CHW (-want +got):\n%s", diff)
	}
	bire := normalize(p, 255, [3]float64{0.485, 0.456, 0.406}, [3]float64{0.229, 0.224, 0.225})
	if got, want := bire[2], float32((128/255.0-0.456)/0.224); got != want { // G plane starts at 2
		t.Errorf("birefnet G of pixel 0 = %v, want %v", got, want)
	}
}

func TestSigmoidIfLogits(t *testing.T) {
	t.Parallel()
	probs := []float32{0, 0.5, 1, 1.0005}
	if sigmoidIfLogits(probs) || probs[1] != 0.5 {
		t.Errorf("probabilities were changed: %v", probs)
	}
	logits := []float32{-4, 0, 4}
	if !sigmoidIfLogits(logits) || logits[1] != 0.5 || logits[0] > 0.02 || logits[2] < 0.98 {
		t.Errorf("logits not squashed: %v", logits)
	}
}

func TestRGBPlaneDropsAlphaKeepsColours(t *testing.T) {
	t.Parallel()
	img := image.NewNRGBA(image.Rect(5, 5, 7, 6)) // offset bounds
	img.SetNRGBA(5, 5, color.NRGBA{200, 100, 50, 0})
	img.SetNRGBA(6, 5, color.NRGBA{1, 2, 3, 128})
	if diff := cmp.Diff([]uint8{200, 100, 50, 1, 2, 3}, rgbPlane(img).pix); diff != "" {
		t.Errorf("NRGBA (-want +got):\n%s", diff)
	}
	// Premultiplied input is converted to straight colour.
	rgba := image.NewRGBA(image.Rect(0, 0, 1, 1))
	rgba.SetRGBA(0, 0, color.RGBA{100, 50, 0, 128})
	if got := rgbPlane(rgba).pix; got[0] < 198 || got[0] > 200 {
		t.Errorf("RGBA → straight colour red = %d, want about 199", got[0])
	}
}

// normalizeSerial is normalize as it was before session 12, the formula
// for every value: the reference normalize's table must equal bit for bit,
// and BenchmarkPreprocess's baseline with the serial resize and mask.
func normalizeSerial(p plane, scale float64, mean, std [3]float64) []float32 {
	n := p.w * p.h
	out := make([]float32, 3*n)
	for i := range n {
		for c := range 3 {
			out[c*n+i] = float32((float64(p.pix[3*i+c])/scale - mean[c]) / std[c])
		}
	}
	return out
}

func randomPlane(rng *rand.Rand, w, h, c int) plane {
	p := plane{w: w, h: h, c: c, pix: make([]uint8, w*h*c)}
	for i := range p.pix {
		p.pix[i] = uint8(rng.IntN(256))
	}
	return p
}

// TestPrePostMatchSerial: the looked-up normalisation and the parallel mask
// conversion give exactly what the serial loops give, on random data (mask
// values with NaN, negatives and values over 1). The resize's serial and
// parallel runs: TestResizeMatchesReference.
func TestPrePostMatchSerial(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	p := randomPlane(rng, 300, 200, 3)
	for _, n := range []struct {
		scale     float64
		mean, std [3]float64
	}{
		{1, [3]float64{128, 128, 128}, [3]float64{256, 256, 256}},
		{255, [3]float64{0.485, 0.456, 0.406}, [3]float64{0.229, 0.224, 0.225}},
	} {
		samePix(t, fmt.Sprintf("normalize (scale %v)", n.scale), normalizeSerial(p, n.scale, n.mean, n.std), normalize(p, n.scale, n.mean, n.std))
	}
	v := make([]float32, 100_000)
	for i := range v {
		v[i] = float32(rng.NormFloat64()*0.6 + 0.5)
	}
	v[7], v[8] = float32(math.NaN()), float32(math.Inf(1))
	samePix(t, "toMask", toMaskOn(v, 1000, 100, 1).pix, toMask(v, 1000, 100).pix)
}

// samePix reports the first value where got differs from the serial want.
func samePix[T uint8 | float32](t *testing.T, what string, want, got []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, the serial loop gives %d", what, len(got), len(want))
		return
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: value %d is %v, the serial loop gives %v", what, i, got[i], want[i])
			return
		}
	}
}

// resizeRef is resizeBilinear as it was before its weights were computed
// once a pixel (session 16): the formula per channel, kept as the
// reference TestResizeMatchesReference holds the faster loop to.
func resizeRef(p plane, w, h int) plane {
	out := plane{w: w, h: h, c: p.c, pix: make([]uint8, w*h*p.c)}
	scaleX := float64(p.w) / float64(w)
	scaleY := float64(p.h) / float64(h)
	for y := range h {
		ty := newTap(float64(y)*scaleY, p.h)
		row1 := p.pix[ty.i1*p.w*p.c:]
		row2 := p.pix[ty.i2*p.w*p.c:]
		o := out.pix[y*w*p.c:]
		for x := range w {
			tx := newTap(float64(x)*scaleX, p.w)
			for c := range p.c {
				p1 := float64(row1[tx.i1*p.c+c])
				p2 := float64(row1[tx.i2*p.c+c])
				p3 := float64(row2[tx.i1*p.c+c])
				p4 := float64(row2[tx.i2*p.c+c])
				v := (1-tx.d)*(1-ty.d)*p1 + tx.d*(1-ty.d)*p2 + (1-tx.d)*ty.d*p3 + tx.d*ty.d*p4
				o[x*p.c+c] = uint8(math.Floor(v + 0.5))
			}
		}
	}
	return out
}

// TestResizeMatchesReference: the resize, serial and on all cores, gives
// resizeRef's bytes on random planes, up and down, odd and prime sizes,
// one, three and four channels, and on flat 0 and 255 planes (the
// rounding's ends).
func TestResizeMatchesReference(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tt := range []struct{ w, h, c, ow, oh int }{
		{512, 512, 3, 1024, 1024}, {1024, 1024, 1, 512, 512}, {640, 480, 3, 1024, 1024}, {1024, 1024, 1, 640, 480},
		{37, 5, 3, 3, 41}, {1, 1, 3, 7, 7}, {7, 7, 4, 1, 1}, {101, 97, 1, 211, 13}, {3, 300, 3, 300, 3},
	} {
		p := randomPlane(rng, tt.w, tt.h, tt.c)
		name := fmt.Sprintf("%dx%dx%d to %dx%d", tt.w, tt.h, tt.c, tt.ow, tt.oh)
		for _, v := range []int{-1, 0, 255} { // -1: random
			if v >= 0 {
				for i := range p.pix {
					p.pix[i] = uint8(v)
				}
			}
			want := resizeRef(p, tt.ow, tt.oh).pix
			samePix(t, fmt.Sprintf("%s, fill %d, serial", name, v), want, resizeBilinearOn(p, tt.ow, tt.oh, 1).pix)
			samePix(t, fmt.Sprintf("%s, fill %d", name, v), want, resizeBilinear(p, tt.ow, tt.oh).pix)
		}
	}
}

// BenchmarkResize is the matte's two resizes on one core (the 512² picture
// to the network's 1024², the 1024² mask back), the reference loop against
// the current one in one run: ms per image and the reference's time over
// the current's.
func BenchmarkResize(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	rgb, mask := randomPlane(rng, 512, 512, 3), randomPlane(rng, 1024, 1024, 1)
	job := func(resize func(plane, int, int) plane) func() error {
		return func() error {
			_ = resize(rgb, 1024, 1024)
			_ = resize(mask, 512, 512)
			return nil
		}
	}
	benchtest.Ratio(b, "ms/image",
		benchtest.Case{Name: "reference", Run: job(resizeRef)},
		benchtest.Case{Name: "now", Run: job(func(p plane, w, h int) plane { return resizeBilinearOn(p, w, h, 1) })},
	)
}
