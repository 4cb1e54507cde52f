package fit

import (
	"math"

	"github.com/splatbench/splatbench/internal/parallel"
)

// SSIM constants (Wang et al. 2004, as 3DGS uses them): an 11×11 Gaussian
// window with σ 1.5, C1 = 0.01², C2 = 0.03², zero padding at the borders
// (PyTorch conv2d with padding 5), mean over pixels and channels.
const (
	ssimRadius = 5
	ssimSigma  = 1.5
	ssimC1     = 0.01 * 0.01
	ssimC2     = 0.03 * 0.03
)

// ssimWindow is the normalised 1-D Gaussian; the 2-D window is its outer
// product, so every blur is separable.
var ssimWindow = func() [2*ssimRadius + 1]float64 {
	var g [2*ssimRadius + 1]float64
	sum := 0.0
	for i := range g {
		d := float64(i - ssimRadius)
		g[i] = math.Exp(-d * d / (2 * ssimSigma * ssimSigma))
		sum += g[i]
	}
	for i := range g {
		g[i] /= sum
	}
	return g
}()

// ssimTarget holds one reference image (interleaved RGB, w×h) and the
// blurred maps of it that do not change during the fit.
type ssimTarget struct {
	w, h int
	y    []float32
	muY  []float64 // G∗y
	pyy  []float64 // G∗y²
}

// ssimScratch is the per-fit working memory of the SSIM loss.
type ssimScratch struct {
	tmp, muX, pxx, pxy, a, b, c []float64
}

func newSSIMTarget(y []float32, w, h, workers int) *ssimTarget {
	n := 3 * w * h
	t := &ssimTarget{w: w, h: h, y: y, muY: make([]float64, n), pyy: make([]float64, n)}
	src := make([]float64, n)
	tmp := make([]float64, n)
	for i, v := range y {
		src[i] = float64(v)
	}
	blur(t.muY, src, tmp, w, h, workers)
	for i, v := range y {
		src[i] = float64(v) * float64(v)
	}
	blur(t.pyy, src, tmp, w, h, workers)
	return t
}

func (s *ssimScratch) ensure(n int) {
	if len(s.tmp) == n {
		return
	}
	for _, p := range []*[]float64{&s.tmp, &s.muX, &s.pxx, &s.pxy, &s.a, &s.b, &s.c} {
		*p = make([]float64, n)
	}
}

// ssim returns the mean SSIM of x against the target. If grad is not nil
// it adds scale·∂SSIM/∂x to it (len 3·w·h).
//
// Per pixel p, with μx = G∗x, Pxx = G∗x², Pxy = G∗(x·y) (μy and Pyy are
// the target's), σxx = Pxx − μx², σxy = Pxy − μxμy and
// S = A1·A2/(B1·B2), A1 = 2μxμy + C1, A2 = 2σxy + C2, B1 = μx² + μy² + C1,
// B2 = σxx + σyy + C2:
//
//	∂S/∂μx  = 2μy(A2 − A1)/(B1B2) − 2μx·S·(1/B1 − 1/B2)
//	∂S/∂Pxx = −S/B2
//	∂S/∂Pxy = 2A1/(B1B2)
//
// and since each map is a linear filter of x, ∂mean(S)/∂x[q] =
// (G∗a + 2x[q]·G∗b + y[q]·G∗c)/N with a, b, c the three partials above
// (the zero-padded Gaussian filter is its own adjoint).
func (t *ssimTarget) ssim(x, grad []float32, scale float64, s *ssimScratch, workers int) float64 {
	w, h := t.w, t.h
	n := 3 * w * h
	s.ensure(n)
	src := s.a // a, b, c are free until the backward part
	for i, v := range x {
		src[i] = float64(v)
	}
	blur(s.muX, src, s.tmp, w, h, workers)
	for i, v := range x {
		src[i] = float64(v) * float64(v)
	}
	blur(s.pxx, src, s.tmp, w, h, workers)
	for i, v := range x {
		src[i] = float64(v) * float64(t.y[i])
	}
	blur(s.pxy, src, s.tmp, w, h, workers)

	const chunk = 4096
	sums := make([]float64, (n+chunk-1)/chunk)
	parallel.For(len(sums), workers, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			a, b := ch*chunk, min((ch+1)*chunk, n)
			sum := 0.0
			for i := a; i < b; i++ {
				mx, my := s.muX[i], t.muY[i]
				sxx := s.pxx[i] - mx*mx
				syy := t.pyy[i] - my*my
				sxy := s.pxy[i] - mx*my
				a1 := 2*mx*my + ssimC1
				a2 := 2*sxy + ssimC2
				b1 := mx*mx + my*my + ssimC1
				b2 := sxx + syy + ssimC2
				den := b1 * b2
				v := a1 * a2 / den
				sum += v
				if grad != nil {
					s.a[i] = 2*my*(a2-a1)/den - 2*mx*v*(1/b1-1/b2)
					s.b[i] = -v / b2
					s.c[i] = 2 * a1 / den
				}
			}
			sums[ch] = sum
		}
	})
	total := 0.0
	for _, v := range sums {
		total += v
	}
	mean := total / float64(n)
	if grad == nil {
		return mean
	}
	// The forward maps are no longer needed: blur the partials into them.
	blur(s.muX, s.a, s.tmp, w, h, workers)
	blur(s.pxx, s.b, s.tmp, w, h, workers)
	blur(s.pxy, s.c, s.tmp, w, h, workers)
	k := scale / float64(n)
	parallel.For(n, workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			g := s.muX[i] + 2*float64(x[i])*s.pxx[i] + float64(t.y[i])*s.pxy[i]
			grad[i] += float32(k * g)
		}
	})
	return mean
}

// blur writes the zero-padded separable Gaussian filter of src (interleaved
// RGB, w×h) into dst, using tmp (same length) for the horizontal pass.
// dst must not alias src or tmp.
func blur(dst, src, tmp []float64, w, h, workers int) {
	g := &ssimWindow
	parallel.For(h, workers, func(lo, hi int) {
		for y := lo; y < hi; y++ {
			row := src[3*y*w : 3*(y+1)*w]
			out := tmp[3*y*w : 3*(y+1)*w]
			// Interior values: all 11 taps (neighbours are 3 values apart).
			g0, g1, g2, g3, g4, g5 := g[0], g[1], g[2], g[3], g[4], g[5]
			for i := 3 * ssimRadius; i < len(row)-3*ssimRadius; i++ {
				r := (*[31]float64)(row[i-15 : i+16])
				out[i] = g0*(r[0]+r[30]) + g1*(r[3]+r[27]) + g2*(r[6]+r[24]) +
					g3*(r[9]+r[21]) + g4*(r[12]+r[18]) + g5*r[15]
			}
			for x := range w {
				if x >= ssimRadius && x+ssimRadius < w {
					continue
				}
				var r, gg, b float64
				t0, t1 := max(-ssimRadius, -x), min(ssimRadius, w-1-x)
				for t := t0; t <= t1; t++ {
					k := g[t+ssimRadius]
					p := row[3*(x+t) : 3*(x+t)+3]
					r += k * p[0]
					gg += k * p[1]
					b += k * p[2]
				}
				out[3*x], out[3*x+1], out[3*x+2] = r, gg, b
			}
		}
	})
	stride := 3 * w
	parallel.For(h, workers, func(lo, hi int) {
		for y := lo; y < hi; y++ {
			out := dst[y*stride : (y+1)*stride]
			if y >= ssimRadius && y+ssimRadius < h {
				// Interior row: all 11 taps, one store per value.
				r := make([][]float64, 2*ssimRadius+1)
				for t := range r {
					r[t] = tmp[(y+t-ssimRadius)*stride : (y+t-ssimRadius+1)*stride]
				}
				m := len(out)
				r0, r1, r2, r3, r4, r5 := r[0][:m], r[1][:m], r[2][:m], r[3][:m], r[4][:m], r[5][:m]
				r6, r7, r8, r9, r10 := r[6][:m], r[7][:m], r[8][:m], r[9][:m], r[10][:m]
				g0, g1, g2, g3, g4, g5 := g[0], g[1], g[2], g[3], g[4], g[5]
				for i := range out {
					out[i] = g0*(r0[i]+r10[i]) + g1*(r1[i]+r9[i]) + g2*(r2[i]+r8[i]) +
						g3*(r3[i]+r7[i]) + g4*(r4[i]+r6[i]) + g5*r5[i]
				}
				continue
			}
			clear(out)
			t0, t1 := max(-ssimRadius, -y), min(ssimRadius, h-1-y)
			for t := t0; t <= t1; t++ {
				k := g[t+ssimRadius]
				in := tmp[(y+t)*stride : (y+t+1)*stride]
				for i, v := range in {
					out[i] += k * v
				}
			}
		}
	})
}
