package resample

import (
	"fmt"
	"image"
	"image/draw"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/splatbench/splatbench/internal/benchtest"
	xdraw "golang.org/x/image/draw"
)

// picture is a w×h NRGBA picture of random colour whose alpha has the
// shapes the stages see: opaque and empty areas and a soft edge between.
func picture(w, h int, seed uint64) *image.NRGBA {
	r := rand.New(rand.NewPCG(seed, 7))
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			p := m.Pix[m.PixOffset(x, y):]
			p[0], p[1], p[2] = uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256))
			d := math.Hypot(float64(x)-float64(w)/2, float64(y)-float64(h)/2) / (0.35 * float64(min(w, h)))
			switch {
			case d < 0.8:
				p[3] = 255
			case d < 1.2:
				p[3] = uint8(r.IntN(256))
			}
		}
	}
	return m
}

// TestMatchesXImage holds Scale to golang.org/x/image/draw's Kernel.Scale
// of the same kernel (another implementation, premultiplied 8-bit, which
// truncates): every channel within one 8-bit level, shrinking, growing
// and from a part of the picture.
func TestMatchesXImage(t *testing.T) {
	kernels := []struct {
		name string
		ours Kernel
		ref  *xdraw.Kernel
	}{{"bilinear", BiLinear, xdraw.BiLinear}, {"catmull-rom", CatmullRom, xdraw.CatmullRom}}
	cases := []struct {
		sw, sh int
		sr     image.Rectangle // empty: the whole picture
		w, h   int
	}{
		{256, 256, image.Rectangle{}, 64, 64},            // 4× smaller, as 1024² to 256²
		{200, 120, image.Rectangle{}, 77, 53},            // uneven factors
		{64, 48, image.Rectangle{}, 150, 101},            // larger
		{160, 160, image.Rect(30, 40, 130, 110), 90, 63}, // a part, as the lift frames its box
		{5, 3, image.Rectangle{}, 1, 1},
	}
	for _, k := range kernels {
		for i, c := range cases {
			t.Run(fmt.Sprintf("%s/%d", k.name, i), func(t *testing.T) {
				src := picture(c.sw, c.sh, uint64(i+1))
				sr := c.sr
				if sr.Empty() {
					sr = src.Bounds()
				}
				ref := image.NewRGBA(image.Rect(0, 0, c.w, c.h))
				k.ref.Scale(ref, ref.Bounds(), src, sr, draw.Src, nil)
				got := k.ours.Scale(src, sr, c.w, c.h, 3)
				worst := 0.0
				for j, v := range got.Pix {
					worst = max(worst, math.Abs(float64(v)*255-float64(ref.Pix[j])))
				}
				if worst > 1 {
					t.Errorf("largest difference from x/image %.3f of an 8-bit level, want at most 1", worst)
				}
			})
		}
	}
}

func TestScaleEdges(t *testing.T) {
	src := picture(8, 8, 1)
	for _, c := range []struct {
		name string
		sr   image.Rectangle
		w, h int
	}{{"no output", src.Bounds(), 0, 4}, {"empty region", image.Rect(3, 3, 3, 5), 4, 4}, {"region outside", image.Rect(20, 20, 30, 30), 4, 4}} {
		got := BiLinear.Scale(src, c.sr, c.w, c.h, 0)
		if got.W != c.w || got.H != c.h || len(got.Pix) != 4*max(c.w, 0)*max(c.h, 0) {
			t.Errorf("%s: %d×%d with %d values", c.name, got.W, got.H, len(got.Pix))
		}
		for _, v := range got.Pix {
			if v != 0 {
				t.Errorf("%s: a non-zero value %v", c.name, v)
				break
			}
		}
	}
	// Straight colour divides by alpha; none where alpha is 0.
	m := Image{W: 2, H: 1, Pix: []float32{0.25, 0.5, 0, 0.5, 0.3, 0.3, 0.3, 0}}
	if r, g, b, a := m.Straight(0, 0); r != 0.5 || g != 1 || b != 0 || a != 0.5 {
		t.Errorf("Straight(0, 0) = %v %v %v %v", r, g, b, a)
	}
	if r, g, b, a := m.Straight(1, 0); r != 0 || g != 0 || b != 0 || a != 0 {
		t.Errorf("Straight(1, 0) = %v %v %v %v", r, g, b, a)
	}
	// NRGBA rounds straight colour to 8 bits; no colour where alpha is 0.
	if got, want := m.NRGBA().Pix, []uint8{128, 255, 0, 128, 0, 0, 0, 0}; string(got) != string(want) {
		t.Errorf("NRGBA() = %v, want %v", got, want)
	}
}

// BenchmarkScale: a 1024² picture (FLUX's size) to the fit's 256², with
// x/image's Kernel.Scale into an RGBA picture as the baseline in the same
// loop.
func BenchmarkScale(b *testing.B) {
	src := picture(1024, 1024, 1)
	for _, k := range []struct {
		name string
		ours Kernel
		ref  *xdraw.Kernel
	}{{"bilinear", BiLinear, xdraw.BiLinear}, {"catmull-rom", CatmullRom, xdraw.CatmullRom}} {
		b.Run(k.name, func(b *testing.B) {
			dst := image.NewRGBA(image.Rect(0, 0, 256, 256))
			benchtest.Ratio(b, "ms/op",
				benchtest.Case{Name: "x-image", Run: func() error {
					k.ref.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
					return nil
				}},
				benchtest.Case{Name: "resample", Run: func() error {
					k.ours.Scale(src, src.Bounds(), 256, 256, 0)
					return nil
				}})
		})
	}
}
