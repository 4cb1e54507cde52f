package proxy

import (
	"image"
	"image/color"
	"math"
	"testing"
)

// disc draws a disc of colour c (radius r at (cx, cy)) on an n×n frame:
// into a straight-alpha prompt, or onto the judge's grey for a render.
func disc(n int, cx, cy, r float64, c color.NRGBA, prompt bool) *image.NRGBA {
	im := image.NewNRGBA(image.Rect(0, 0, n, n))
	for y := range n {
		for x := range n {
			in := math.Hypot(float64(x)+0.5-cx, float64(y)+0.5-cy) <= r
			switch {
			case in:
				im.SetNRGBA(x, y, c)
			case !prompt:
				im.SetNRGBA(x, y, color.NRGBA{128, 128, 128, 255})
			}
		}
	}
	return im
}

func TestCompare(t *testing.T) {
	red := color.NRGBA{200, 30, 30, 255}
	p := disc(64, 32, 32, 20, red, true)
	same, err := Compare(p, disc(64, 32, 32, 20, red, false))
	if err != nil {
		t.Fatal(err)
	}
	if same.IoU != 1 || same.DeltaE > 1e-9 || same.SSIM < 0.999 || same.Proxy < 0.999 {
		t.Errorf("identical: %+v", same)
	}
	shifted, _ := Compare(p, disc(64, 40, 32, 20, red, false))
	blue, _ := Compare(p, disc(64, 32, 32, 20, color.NRGBA{30, 30, 200, 255}, false))
	smaller, _ := Compare(p, disc(64, 32, 32, 10, red, false))
	// IoU of a disc with a quarter-area disc inside it is 1/4
	if math.Abs(smaller.IoU-0.25) > 0.03 {
		t.Errorf("smaller disc IoU %v, want ≈0.25", smaller.IoU)
	}
	if blue.IoU != 1 || blue.DeltaE < 50 {
		t.Errorf("recoloured: %+v", blue)
	}
	for name, s := range map[string]Score{"shifted": shifted, "recoloured": blue, "smaller": smaller} {
		if s.Proxy >= same.Proxy {
			t.Errorf("%s: proxy %v not below identical %v", name, s.Proxy, same.Proxy)
		}
	}
	if _, err := Compare(p, disc(32, 16, 16, 8, red, false)); err == nil {
		t.Error("different sizes: no error")
	}
}
