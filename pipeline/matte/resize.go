package matte

import (
	"math"

	"github.com/splatbench/splatbench/internal/parallel"
)

// plane is an interleaved uint8 image, h×w×c, row-major.
type plane struct {
	w, h, c int
	pix     []uint8
}

// resizeBilinear resizes p to w×h the way @imgly/background-removal-node
// 1.4.5 does (docs/algorithms.md §2.3): source coordinate x·(srcW/w)
// with no half-pixel offset, taps at floor and min(ceil, srcW−1), weights
// from the fractional part, the result rounded half up (Math.round) to
// uint8. Arithmetic is float64, as in JavaScript. Rows are spread over
// the cores.
func resizeBilinear(p plane, w, h int) plane { return resizeBilinearOn(p, w, h, 0) }

// resizeBilinearOn is resizeBilinear on up to workers goroutines (0: all
// cores; 1: the serial loop).
func resizeBilinearOn(p plane, w, h, workers int) plane {
	out := plane{w: w, h: h, c: p.c, pix: make([]uint8, w*h*p.c)}
	scaleX := float64(p.w) / float64(w)
	scaleY := float64(p.h) / float64(h)
	xs := make([]tap, w)
	for x := range xs {
		xs[x] = newTap(float64(x)*scaleX, p.w)
	}
	parallel.For(h, workers, func(lo, hi int) {
		for y := lo; y < hi; y++ {
			ty := newTap(float64(y)*scaleY, p.h)
			row1 := p.pix[ty.i1*p.w*p.c:]
			row2 := p.pix[ty.i2*p.w*p.c:]
			o := out.pix[y*w*p.c:]
			for x, tx := range xs {
				for c := range p.c {
					p1 := float64(row1[tx.i1*p.c+c])
					p2 := float64(row1[tx.i2*p.c+c])
					p3 := float64(row2[tx.i1*p.c+c])
					p4 := float64(row2[tx.i2*p.c+c])
					v := (1-tx.d)*(1-ty.d)*p1 + tx.d*(1-ty.d)*p2 + (1-tx.d)*ty.d*p3 + tx.d*ty.d*p4
					o[x*p.c+c] = uint8(math.Floor(v + 0.5))
				}
			}
		}
	})
	return out
}

// tap is one axis of a bilinear sample: the two source indices and the
// weight of the second.
type tap struct {
	i1, i2 int
	d      float64
}

func newTap(src float64, n int) tap {
	i1 := max(int(math.Floor(src)), 0)
	i2 := min(int(math.Ceil(src)), n-1)
	return tap{i1: i1, i2: i2, d: src - float64(i1)}
}
