package fit

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/splatbench/splatbench/pipeline/splat"
)

func TestResizeView(t *testing.T) {
	t.Parallel()
	cam := splat.OrbitCameras(1, 2.5, -15, 40, 4, 4)[0]
	// 4×4: alpha 1 on the left half (red), 0 on the right (colour ignored, green).
	src := View{Camera: cam, RGB: make([]float32, 48), Alpha: make([]float32, 16)}
	for p := range 16 {
		if p%4 < 2 {
			src.Alpha[p] = 1
			src.RGB[3*p] = 1
		} else {
			src.RGB[3*p+1] = 1
		}
	}
	// Mixed 2×2 block: two opaque red pixels, two transparent green ones.
	mixed := View{Camera: cam, RGB: make([]float32, 48), Alpha: make([]float32, 16)}
	for p := range 16 {
		if p%2 == 0 {
			mixed.Alpha[p] = 1
			mixed.RGB[3*p] = 1
		} else {
			mixed.RGB[3*p+1] = 1
		}
	}
	tests := []struct {
		name      string
		in        View
		w, h      int
		wantRGB   []float32
		wantAlpha []float32
	}{
		{"halve", src, 2, 2,
			[]float32{1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0},
			[]float32{1, 0, 1, 0}},
		{"halve mixed: transparent colour does not bleed", mixed, 2, 2,
			[]float32{1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0},
			[]float32{0.5, 0.5, 0.5, 0.5}},
		{"one pixel", src, 1, 1, []float32{1, 0, 0}, []float32{0.5}},
	}
	for _, tc := range tests {
		got := resizeView(tc.in, tc.w, tc.h)
		opt := cmpopts.EquateApprox(0, 1e-6)
		if d := cmp.Diff(tc.wantRGB, got.RGB, opt); d != "" {
			t.Errorf("%s: RGB (-want +got):\n%s", tc.name, d)
		}
		if d := cmp.Diff(tc.wantAlpha, got.Alpha, opt); d != "" {
			t.Errorf("%s: Alpha (-want +got):\n%s", tc.name, d)
		}
		if got.Camera.Width != tc.w || got.Camera.Height != tc.h {
			t.Errorf("%s: camera %d×%d", tc.name, got.Camera.Width, got.Camera.Height)
		}
	}
}

// TestResizeViewCamera checks that a world point lands on the same
// relative image position before and after resizing.
func TestResizeViewCamera(t *testing.T) {
	t.Parallel()
	cam := splat.LookAt([3]float64{1, 0.5, 2.2}, [3]float64{}, [3]float64{0, 1, 0}, 120, 80, 45)
	v := View{Camera: cam, RGB: make([]float32, 3*120*80), Alpha: make([]float32, 120*80)}
	r := resizeView(v, 48, 32)
	proj := func(c splat.Camera, p [3]float64) (float64, float64) {
		x := c.R[0]*p[0] + c.R[1]*p[1] + c.R[2]*p[2] + c.T[0]
		y := c.R[3]*p[0] + c.R[4]*p[1] + c.R[5]*p[2] + c.T[1]
		z := c.R[6]*p[0] + c.R[7]*p[1] + c.R[8]*p[2] + c.T[2]
		return (c.Fx*x/z + c.Cx) / float64(c.Width), (c.Fy*y/z + c.Cy) / float64(c.Height)
	}
	for _, p := range [][3]float64{{0, 0, 0}, {0.3, -0.2, 0.1}, {-0.4, 0.25, -0.3}} {
		u0, v0 := proj(cam, p)
		u1, v1 := proj(r.Camera, p)
		if math.Abs(u0-u1) > 1e-12 || math.Abs(v0-v1) > 1e-12 {
			t.Errorf("point %v: relative position (%v, %v) became (%v, %v)", p, u0, v0, u1, v1)
		}
	}
}

func TestFitSize(t *testing.T) {
	t.Parallel()
	tests := []struct{ w, h, res, ww, wh int }{
		{256, 256, 128, 128, 128},
		{512, 256, 128, 128, 64},
		{100, 300, 128, 43, 128},
		{64, 64, 0, 64, 64},
		{64, 64, 64, 64, 64},
		{3, 1000, 10, 1, 10},
	}
	for _, tc := range tests {
		if w, h := fitSize(tc.w, tc.h, tc.res); w != tc.ww || h != tc.wh {
			t.Errorf("fitSize(%d, %d, %d) = %d×%d, want %d×%d", tc.w, tc.h, tc.res, w, h, tc.ww, tc.wh)
		}
	}
}

// TestResizeMatchesLowResRender compares an area-downsampled 96² render
// with a direct 48² render of the same scene.
func TestResizeMatchesLowResRender(t *testing.T) {
	t.Parallel()
	gt := groundTruth(12, 1)
	hi, _ := renderViews(t, gt, splat.OrbitCameras(1, 2.5, -15, 30, 96, 96))
	lo, _ := renderViews(t, gt, splat.OrbitCameras(1, 2.5, -15, 30, 48, 48))
	got := resizeView(hi[0], 48, 48)
	if psnr := PSNR(got.composite(white), lo[0].composite(white)); psnr < 40 {
		t.Errorf("downsampled 96² vs direct 48²: PSNR %.2f dB < 40", psnr)
	} else {
		t.Logf("downsampled 96² vs direct 48²: PSNR %.2f dB", psnr)
	}
}
