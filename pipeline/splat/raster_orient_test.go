package splat

import (
	"context"
	"testing"
)

// centroid returns the alpha-weighted centroid of pixels whose colour is
// dominated by channel ch.
func centroid(im *Image, ch int) (x, y float64, ok bool) {
	var sx, sy, sw float64
	for py := range im.Height {
		for px := range im.Width {
			c := im.At(px, py)
			o1, o2 := c[(ch+1)%3], c[(ch+2)%3]
			if c[ch] > 0.6 && o1 < 0.35 && o2 < 0.35 {
				sx += float64(px)
				sy += float64(py)
				sw++
			}
		}
	}
	if sw == 0 {
		return 0, 0, false
	}
	return sx / sw, sy / sw, true
}

func TestValidatorOrientation(t *testing.T) {
	t.Parallel()
	cams := ValidatorCameras()
	im, err := Render(context.Background(), axesScene(), cams[0], RenderOptions{Background: [3]float32{1, 1, 1}, Mode: ModeGsplat})
	if err != nil {
		t.Fatal(err)
	}
	rx, ry, okR := centroid(im, 0)
	gx, gy, okG := centroid(im, 1)
	if !okR || !okG {
		t.Fatalf("red or green blob not found (red %v, green %v)", okR, okG)
	}
	const c = ValidatorSize / 2
	t.Logf("azimuth 0: red (+X) at (%.1f, %.1f), green (+Y) at (%.1f, %.1f)", rx, ry, gx, gy)
	if rx <= c+20 || abs64(ry-c) > 30 {
		t.Errorf("+X blob at (%.1f, %.1f); want right of centre %d at about the centre row", rx, ry, c)
	}
	if gy >= c-20 || abs64(gx-c) > 10 {
		t.Errorf("+Y blob at (%.1f, %.1f); want above centre %d on the centre column", gx, gy, c)
	}
}

func abs64(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
