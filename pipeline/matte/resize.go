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
// cores; 1: the serial loop). Each output value is
// ((1−dx)(1−dy))·p1 + (dx(1−dy))·p2 + ((1−dx)dy)·p3 + (dx·dy)·p4, summed
// left to right, the weights computed once a pixel rather than once a
// channel: the same float64 operations in the same order as the per-channel
// formula (resizeRef, the test's reference), so the same bytes.
func resizeBilinearOn(p plane, w, h, workers int) plane {
	out := plane{w: w, h: h, c: p.c, pix: make([]uint8, w*h*p.c)}
	scaleX := float64(p.w) / float64(w)
	scaleY := float64(p.h) / float64(h)
	c := p.c
	// Per output column: the two taps' offsets in a row and 1−dx, dx.
	o1, o2 := make([]int, w), make([]int, w)
	ax, bx := make([]float64, w), make([]float64, w)
	for x := range w {
		t := newTap(float64(x)*scaleX, p.w)
		o1[x], o2[x], ax[x], bx[x] = t.i1*c, t.i2*c, 1-t.d, t.d
	}
	parallel.For(h, workers, func(lo, hi int) {
		for y := lo; y < hi; y++ {
			ty := newTap(float64(y)*scaleY, p.h)
			row1 := p.pix[ty.i1*p.w*c : (ty.i1+1)*p.w*c]
			row2 := p.pix[ty.i2*p.w*c : (ty.i2+1)*p.w*c]
			o := out.pix[y*w*c : (y+1)*w*c]
			ay, by := 1-ty.d, ty.d
			if c == 1 { // the mask: one value a pixel, no inner loop
				for x := range o {
					w1, w2, w3, w4 := ax[x]*ay, bx[x]*ay, ax[x]*by, bx[x]*by
					i, j := o1[x], o2[x]
					v := w1*float64(row1[i]) + w2*float64(row1[j]) + w3*float64(row2[i]) + w4*float64(row2[j])
					// v ≥ 0 (non-negative weights), so truncation is the floor.
					o[x] = uint8(v + 0.5)
				}
				continue
			}
			if c == 3 { // the picture: the three channels written out
				for x := range w {
					w1, w2, w3, w4 := ax[x]*ay, bx[x]*ay, ax[x]*by, bx[x]*by
					a, b, q := row1[o1[x]:o1[x]+3], row1[o2[x]:o2[x]+3], o[3*x:3*x+3]
					d, e := row2[o1[x]:o1[x]+3], row2[o2[x]:o2[x]+3]
					q[0] = uint8(w1*float64(a[0]) + w2*float64(b[0]) + w3*float64(d[0]) + w4*float64(e[0]) + 0.5)
					q[1] = uint8(w1*float64(a[1]) + w2*float64(b[1]) + w3*float64(d[1]) + w4*float64(e[1]) + 0.5)
					q[2] = uint8(w1*float64(a[2]) + w2*float64(b[2]) + w3*float64(d[2]) + w4*float64(e[2]) + 0.5)
				}
				continue
			}
			for x := range w {
				w1, w2, w3, w4 := ax[x]*ay, bx[x]*ay, ax[x]*by, bx[x]*by
				a, b, q := row1[o1[x]:o1[x]+c], row1[o2[x]:o2[x]+c], o[x*c:x*c+c]
				d, e := row2[o1[x]:o1[x]+c], row2[o2[x]:o2[x]+c]
				for k := range q {
					v := w1*float64(a[k]) + w2*float64(b[k]) + w3*float64(d[k]) + w4*float64(e[k])
					q[k] = uint8(v + 0.5)
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
