package imagefile

import (
	"image"
	"image/color"
	"testing"

	"github.com/splatbench/splatbench/internal/benchtest"
)

// atSet is the pixel-by-pixel conversion through color.NRGBAModel: the
// reference NRGBA is checked against, and the benchmark's baseline.
func atSet(img image.Image) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			out.Set(x, y, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return out
}

// testPicture fills an image of each kind with a gradient, translucent
// where the kind has alpha.
func testPicture(kind string, w, h int) image.Image {
	r := image.Rect(0, 0, w, h)
	switch kind {
	case "gray":
		g := image.NewGray(r)
		for i := range g.Pix {
			g.Pix[i] = uint8(i * 7)
		}
		return g
	case "ycbcr":
		y := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
		for i := range y.Y {
			y.Y[i] = uint8(i * 5)
		}
		for i := range y.Cb {
			y.Cb[i], y.Cr[i] = uint8(i*3), uint8(255-i)
		}
		return y
	}
	n := image.NewNRGBA(r)
	for y := range h {
		for x := range w {
			n.SetNRGBA(x, y, color.NRGBA{uint8(x * 9), uint8(y * 13), uint8(x * y), uint8(255 - 40*(x%3))})
		}
	}
	if kind == "rgba" { // premultiplied, as a PNG with alpha decodes
		rgba := image.NewRGBA(r)
		for y := range h {
			for x := range w {
				rgba.Set(x, y, n.At(x, y))
			}
		}
		return rgba
	}
	return n
}

func TestNRGBA(t *testing.T) {
	sub := testPicture("nrgba", 9, 7).(*image.NRGBA).SubImage(image.Rect(2, 1, 8, 6))
	for _, tc := range []struct {
		name string
		img  image.Image
		same bool // NRGBA returns img itself
	}{
		{"nrgba at the origin", testPicture("nrgba", 9, 7), true},
		{"nrgba sub-image", sub, false},
		{"rgba, translucent", testPicture("rgba", 9, 7), false},
		{"gray", testPicture("gray", 9, 7), false},
		{"ycbcr", testPicture("ycbcr", 10, 8), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := NRGBA(tc.img)
			if same := image.Image(got) == tc.img; same != tc.same {
				t.Errorf("returned the input itself: %v, want %v", same, tc.same)
			}
			want := atSet(tc.img)
			if got.Bounds() != want.Bounds() {
				t.Fatalf("bounds %v, want %v", got.Bounds(), want.Bounds())
			}
			for y := range want.Bounds().Dy() {
				for x := range want.Bounds().Dx() {
					if g, w := got.NRGBAAt(x, y), want.NRGBAAt(x, y); g != w {
						t.Fatalf("pixel (%d, %d) = %v, want %v (color.NRGBAModel)", x, y, g, w)
					}
				}
			}
		})
	}
}

// BenchmarkNRGBA converts a decoded 512² RGB PNG (an *image.RGBA, as the
// scene pictures decode) against the pixel-by-pixel baseline.
func BenchmarkNRGBA(b *testing.B) {
	img := testPicture("rgba", 512, 512)
	benchtest.Ratio(b, "ms/op",
		benchtest.Case{Name: "at-set", Run: func() error { atSet(img); return nil }},
		benchtest.Case{Name: "draw", Run: func() error { NRGBA(img); return nil }},
	)
}
