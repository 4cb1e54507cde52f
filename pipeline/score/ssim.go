package score

import (
	"fmt"
	"math"
)

// SSIM constants of Wang et al. 2004, as torchmetrics and the validator use
// them (data range 1).
const (
	SSIMWindow = 11   // Gaussian window side
	SSIMSigma  = 1.5  // Gaussian window σ in pixels
	SSIMK1     = 0.01 // C1 = (K1·L)²
	SSIMK2     = 0.03 // C2 = (K2·L)²
)

// ssimKernel is the normalised 1D Gaussian; the 2D window is its outer
// product, so filtering is separable.
var ssimKernel = func() [SSIMWindow]float64 {
	var k [SSIMWindow]float64
	var s float64
	for i := range k {
		d := float64(i - SSIMWindow/2)
		k[i] = math.Exp(-d * d / (2 * SSIMSigma * SSIMSigma))
		s += k[i]
	}
	for i := range k {
		k[i] /= s
	}
	return k
}()

// SSIM is the mean structural similarity of two images with values in
// 0..1 (data range L = 1), computed per channel and averaged over channels
// and positions — not on luminance. Images are w×h with `channels`
// interleaved values per pixel.
//
// Only windows that lie entirely inside the image are used ("valid"
// filtering, as in Wang et al.'s reference code); torchmetrics'
// StructuralSimilarityIndexMeasure, which the validator calls, pads by
// reflection and then crops the padded border away, which keeps the same
// (w−10)×(h−10) windows. Images smaller than the 11×11 window are an error.
func SSIM(a, b []float32, w, h, channels int) (float64, error) {
	if w < SSIMWindow || h < SSIMWindow || channels < 1 {
		return 0, fmt.Errorf("%w: SSIM needs at least %d×%d pixels and 1 channel, got %d×%d×%d",
			ErrShape, SSIMWindow, SSIMWindow, w, h, channels)
	}
	n := w * h * channels
	if len(a) != n || len(b) != n {
		return 0, fmt.Errorf("%w: SSIM of %d×%d×%d wants %d values, got %d and %d",
			ErrShape, w, h, channels, n, len(a), len(b))
	}
	f := newSSIMFilter(w, h)
	var sum float64
	for c := range channels {
		sum += f.channel(a, b, c, channels)
	}
	return sum / float64(channels), nil
}

// ssimFilter holds the horizontally filtered moment maps of one channel.
type ssimFilter struct {
	w, h, ow, oh int
	// ma, mb, maa, mbb, mab are h×ow maps of the horizontally filtered
	// a, b, a², b², a·b.
	ma, mb, maa, mbb, mab []float64
}

func newSSIMFilter(w, h int) *ssimFilter {
	ow, oh := w-SSIMWindow+1, h-SSIMWindow+1
	return &ssimFilter{
		w: w, h: h, ow: ow, oh: oh,
		ma: make([]float64, h*ow), mb: make([]float64, h*ow),
		maa: make([]float64, h*ow), mbb: make([]float64, h*ow), mab: make([]float64, h*ow),
	}
}

// channel returns the mean SSIM of channel c over the valid windows.
func (f *ssimFilter) channel(a, b []float32, c, stride int) float64 {
	k := &ssimKernel
	w, ow := f.w, f.ow
	for y := range f.h {
		row := y * w
		for x := range ow {
			var sa, sb, saa, sbb, sab float64
			for t := range SSIMWindow {
				i := (row+x+t)*stride + c
				va, vb := float64(a[i]), float64(b[i])
				g := k[t]
				ga, gb := g*va, g*vb
				sa += ga
				sb += gb
				saa += ga * va
				sbb += gb * vb
				sab += ga * vb
			}
			o := y*ow + x
			f.ma[o], f.mb[o], f.maa[o], f.mbb[o], f.mab[o] = sa, sb, saa, sbb, sab
		}
	}
	const c1 = (SSIMK1 * 1) * (SSIMK1 * 1)
	const c2 = (SSIMK2 * 1) * (SSIMK2 * 1)
	var total float64
	for y := range f.oh {
		for x := range ow {
			var ua, ub, uaa, ubb, uab float64
			for t := range SSIMWindow {
				o := (y+t)*ow + x
				g := k[t]
				ua += g * f.ma[o]
				ub += g * f.mb[o]
				uaa += g * f.maa[o]
				ubb += g * f.mbb[o]
				uab += g * f.mab[o]
			}
			va := uaa - ua*ua
			vb := ubb - ub*ub
			cov := uab - ua*ub
			total += ((2*ua*ub + c1) * (2*cov + c2)) / ((ua*ua + ub*ub + c1) * (va + vb + c2))
		}
	}
	return total / float64(f.oh*ow)
}
