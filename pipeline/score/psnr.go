package score

import (
	"errors"
	"fmt"
	"math"
)

// MaxPSNR is what PSNR returns for identical images (whose PSNR is +Inf),
// so that results stay finite and JSON-encodable.
const MaxPSNR = 100.0

// ErrShape is wrapped by every error about image sizes that do not match.
var ErrShape = errors.New("image shape mismatch")

// MSE is the mean squared difference of two equally long images.
func MSE(a, b []float32) (float64, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("%w: %d values vs %d", ErrShape, len(a), len(b))
	}
	if len(a) == 0 {
		return 0, fmt.Errorf("%w: empty image", ErrShape)
	}
	var s float64
	for i, x := range a {
		d := float64(x) - float64(b[i])
		s += d * d
	}
	return s / float64(len(a)), nil
}

// PSNR is the peak signal-to-noise ratio in dB of two images with values
// in 0..1 (peak 1): 10·log10(1/MSE) over every value of the slices. Identical
// images give MaxPSNR; any larger value is clipped to MaxPSNR too.
func PSNR(a, b []float32) (float64, error) {
	mse, err := MSE(a, b)
	if err != nil {
		return 0, err
	}
	if mse == 0 {
		return MaxPSNR, nil
	}
	return min(-10*math.Log10(mse), MaxPSNR), nil
}
