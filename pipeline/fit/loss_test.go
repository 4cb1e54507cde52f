package fit

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randImage(r *rand.Rand, n int, lo, hi float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = lo + (hi-lo)*r.Float32()
	}
	return out
}

// fdCheck compares an analytic gradient with central differences of f at
// every coordinate of x.
func fdCheck(t *testing.T, name string, x []float32, grad []float32, f func([]float32) float64, eps float32, tol float64) {
	t.Helper()
	maxG := 0.0
	for _, g := range grad {
		maxG = math.Max(maxG, math.Abs(float64(g)))
	}
	for i := range x {
		orig := x[i]
		x[i] = orig + eps
		fp := f(x)
		x[i] = orig - eps
		fm := f(x)
		x[i] = orig
		fd := (fp - fm) / float64(2*eps)
		if d := math.Abs(fd - float64(grad[i])); d > tol*maxG {
			t.Errorf("%s: d/dx[%d]: analytic %g, finite difference %g (|diff| %g > %g·max|g| %g)", name, i, grad[i], fd, d, tol, maxG)
		}
	}
}

func TestSSIMGradientFiniteDifference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		w, h int
	}{
		{"smaller than the window", 7, 5},
		{"interior and borders", 16, 13},
	}
	for _, tc := range tests {
		r := rand.New(rand.NewPCG(1, uint64(tc.w)))
		n := 3 * tc.w * tc.h
		x := randImage(r, n, 0.1, 0.9)
		y := randImage(r, n, 0.1, 0.9)
		tgt := newSSIMTarget(y, tc.w, tc.h, 2)
		var s ssimScratch
		grad := make([]float32, n)
		tgt.ssim(x, grad, 1, &s, 2)
		f := func(x []float32) float64 { return tgt.ssim(x, nil, 0, &s, 2) }
		fdCheck(t, tc.name, x, grad, f, 1e-3, 2e-3)
	}
}

func TestSSIMIdentical(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(2, 2))
	w, h := 12, 10
	y := randImage(r, 3*w*h, 0, 1)
	tgt := newSSIMTarget(y, w, h, 1)
	var s ssimScratch
	grad := make([]float32, len(y))
	if got := tgt.ssim(append([]float32(nil), y...), grad, 1, &s, 1); math.Abs(got-1) > 1e-9 {
		t.Errorf("SSIM(y, y) = %v, want 1", got)
	}
	for i, g := range grad {
		if math.Abs(float64(g)) > 1e-9 {
			t.Fatalf("∂SSIM/∂x[%d] at x = y is %g, want 0 (maximum)", i, g)
		}
	}
	// A different image scores below 1.
	x := randImage(r, len(y), 0, 1)
	if got := tgt.ssim(x, nil, 0, &s, 1); !(got < 0.9) {
		t.Errorf("SSIM of unrelated noise = %v, want < 0.9", got)
	}
}

func TestLossGradientFiniteDifference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  lossConfig
	}{
		{"l1 alpha", lossConfig{lambdaDSSIM: 0.2, lambdaAlpha: 0.5, workers: 1}},
		{"mse alpha", lossConfig{lambdaDSSIM: 0.2, lambdaAlpha: 0.5, alphaMSE: true, workers: 2}},
		{"no dssim", lossConfig{lambdaDSSIM: 0, lambdaAlpha: 0.1, workers: 1}},
	}
	for _, tc := range tests {
		r := rand.New(rand.NewPCG(3, 3))
		w, h := 9, 8
		view := View{RGB: randImage(r, 3*w*h, 0, 1), Alpha: randImage(r, w*h, 0, 1)}
		view.Camera.Width, view.Camera.Height = w, h
		tgt := newTarget(view, [3]float32{1, 1, 1}, 1)
		rgb := randImage(r, 3*w*h, 0, 1)
		alpha := randImage(r, w*h, 0, 1)
		dRGB := make([]float32, len(rgb))
		dA := make([]float32, len(alpha))
		var s ssimScratch
		l, err := tgt.loss(rgb, alpha, dRGB, dA, tc.cfg, &s)
		if err != nil {
			t.Fatal(err)
		}
		if d := l.Total - (l.L1 + l.DSSIM + l.Alpha); math.Abs(d) > 1e-12 {
			t.Errorf("%s: Total %v is not the sum of its parts", tc.name, l.Total)
		}
		tmpR := make([]float32, len(rgb))
		tmpA := make([]float32, len(alpha))
		fRGB := func(x []float32) float64 {
			l, _ := tgt.loss(x, alpha, tmpR, tmpA, tc.cfg, &s)
			return l.Total
		}
		fA := func(a []float32) float64 {
			l, _ := tgt.loss(rgb, a, tmpR, tmpA, tc.cfg, &s)
			return l.Total
		}
		// eps smaller than any |x−y| gap keeps L1 differentiable.
		fdCheck(t, tc.name+" rgb", rgb, dRGB, fRGB, 1e-4, 2e-2)
		fdCheck(t, tc.name+" alpha", alpha, dA, fA, 1e-4, 2e-2)
	}
}

func TestLossRejectsSizeMismatch(t *testing.T) {
	t.Parallel()
	view := View{RGB: make([]float32, 12), Alpha: make([]float32, 4)}
	view.Camera.Width, view.Camera.Height = 2, 2
	tgt := newTarget(view, [3]float32{}, 1)
	var s ssimScratch
	_, err := tgt.loss(make([]float32, 3), make([]float32, 4), make([]float32, 12), make([]float32, 4), lossConfig{}, &s)
	if err == nil {
		t.Fatal("loss accepted a 3-value render for a 2×2 target")
	}
}

func TestPSNR(t *testing.T) {
	t.Parallel()
	a := []float32{0, 0.5, 1, 1}
	tests := []struct {
		name string
		b    []float32
		want float64
	}{
		{"equal", []float32{0, 0.5, 1, 1}, math.Inf(1)},
		{"off by 0.1 everywhere", []float32{0.1, 0.6, 0.9, 0.9}, 20},
	}
	for _, tc := range tests {
		got := PSNR(a, tc.b)
		if !(math.Abs(got-tc.want) < 1e-4 || got == tc.want) {
			t.Errorf("%s: PSNR = %v, want %v", tc.name, got, tc.want)
		}
	}
	if !math.IsNaN(PSNR(a, a[:2])) {
		t.Error("PSNR of different lengths is not NaN")
	}
}
