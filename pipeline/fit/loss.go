package fit

import (
	"fmt"
	"math"
)

// Loss is one iteration's loss and its parts (each already weighted).
type Loss struct {
	Total float64 // L1 + DSSIM + Alpha + Prior
	L1    float64 // (1−λ_dssim)·mean|x − y|
	DSSIM float64 // λ_dssim·(1 − SSIM)
	Alpha float64 // λ_alpha·mean|α − α*| (or squared)
	Prior float64 // λ_p·mean α of the area prior's random view (0 when off)
}

// target is a view prepared for the loss: the composited colour and the
// SSIM maps of it.
type target struct {
	w, h  int
	rgb   []float32 // composited on the background
	alpha []float32
	ssim  *ssimTarget
}

func newTarget(v View, bg [3]float32, workers int) *target {
	w, h := v.Camera.Width, v.Camera.Height
	rgb := v.composite(bg)
	return &target{w: w, h: h, rgb: rgb, alpha: v.Alpha, ssim: newSSIMTarget(rgb, w, h, workers)}
}

// lossConfig is the part of Options the loss reads.
type lossConfig struct {
	lambdaDSSIM, lambdaAlpha float64
	alphaMSE                 bool
	workers                  int
}

// loss evaluates the image loss of a render (rgb interleaved, alpha) and
// writes its gradients into dRGB and dAlpha (overwriting them):
//
//	L = (1−λd)·mean|x−y| + λd·(1 − SSIM(x, y)) + λa·mean ℓ(α − α*)
//
// with ℓ = |·| or (·)². The L1 and SSIM means run over 3·W·H values, the
// alpha mean over W·H. The gradient of |d| at d = 0 is taken as 0.
func (t *target) loss(rgb, alpha, dRGB, dAlpha []float32, cfg lossConfig, s *ssimScratch) (Loss, error) {
	n := 3 * t.w * t.h
	if len(rgb) != n || len(dRGB) != n || len(alpha) != t.w*t.h || len(dAlpha) != t.w*t.h {
		return Loss{}, fmt.Errorf("fit: render is %d RGB / %d alpha values (gradients %d / %d), target %d×%d",
			len(rgb), len(alpha), len(dRGB), len(dAlpha), t.w, t.h)
	}
	var out Loss
	wl1 := 1 - cfg.lambdaDSSIM
	g1 := float32(wl1 / float64(n))
	sum := 0.0
	for i, x := range rgb {
		d := x - t.rgb[i]
		switch {
		case d > 0:
			sum += float64(d)
			dRGB[i] = g1
		case d < 0:
			sum -= float64(d)
			dRGB[i] = -g1
		default:
			dRGB[i] = 0
		}
	}
	out.L1 = wl1 * sum / float64(n)
	if cfg.lambdaDSSIM > 0 {
		ss := t.ssim.ssim(rgb, dRGB, -cfg.lambdaDSSIM, s, cfg.workers)
		out.DSSIM = cfg.lambdaDSSIM * (1 - ss)
	}
	m := len(alpha)
	sum = 0
	for i, a := range alpha {
		d := float64(a - t.alpha[i])
		if cfg.alphaMSE {
			sum += d * d
			dAlpha[i] = float32(cfg.lambdaAlpha * 2 * d / float64(m))
			continue
		}
		sum += math.Abs(d)
		switch {
		case d > 0:
			dAlpha[i] = float32(cfg.lambdaAlpha / float64(m))
		case d < 0:
			dAlpha[i] = float32(-cfg.lambdaAlpha / float64(m))
		default:
			dAlpha[i] = 0
		}
	}
	out.Alpha = cfg.lambdaAlpha * sum / float64(m)
	out.Total = out.L1 + out.DSSIM + out.Alpha
	return out, nil
}

// PSNR returns the peak signal-to-noise ratio in dB of a against b (values
// in 0..1, same length); +Inf when they are equal.
func PSNR(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return math.NaN()
	}
	mse := 0.0
	for i := range a {
		d := float64(a[i] - b[i])
		mse += d * d
	}
	mse /= float64(len(a))
	if mse == 0 {
		return math.Inf(1)
	}
	return -10 * math.Log10(mse)
}
