package score

import (
	"fmt"
	"math"

	"golang.org/x/sync/errgroup"
)

// This file keeps the CLIP preprocessing as it was before the flattened,
// cached taps and the streamed resize (session 16): applyRef is the
// reference that TestPreprocessMatchesReference holds Apply to, bit for
// bit, and the baseline of the preprocessing benchmarks.

// refTaps are one output sample's source indices and weights.
type refTaps struct {
	idx []int
	w   []float64
}

// applyRef is Preprocess.Apply as it was: resize to float64 planes, round
// to 8 bits (CLIP), normalise, write CHW.
func applyRef(p Preprocess, rgb []float32, w, h, size int) ([]float32, error) {
	if w < 1 || h < 1 || len(rgb) != 3*w*h {
		return nil, fmt.Errorf("CLIP preprocessing: image %d×%d with %d values, want %d", w, h, len(rgb), 3*w*h)
	}
	if size < 1 {
		return nil, fmt.Errorf("CLIP preprocessing: input size %d", size)
	}
	mean, std := CLIPMean, CLIPStd
	var out [3][]float32
	switch p {
	case PreprocessCLIP:
		rw, rh := size, size
		if w < h {
			rh = int(float64(size) * float64(h) / float64(w))
		} else if h < w {
			rw = int(float64(size) * float64(w) / float64(h))
		}
		left := int(math.Round(float64(rw-size) / 2))
		top := int(math.Round(float64(rh-size) / 2))
		r := refResizeRGB(rgb, w, h, refPilWeights(w, rw), refPilWeights(h, rh))
		for c := range 3 {
			out[c] = make([]float32, size*size)
			for y := range size {
				for x := range size {
					v := math.Round(float64(r[c][(y+top)*rw+x+left]) * 255)
					out[c][y*size+x] = float32(min(max(v, 0), 255) / 255)
				}
			}
		}
	case PreprocessValidator:
		out = refResizeRGB(rgb, w, h, refTorchCubicWeights(w, size), refTorchCubicWeights(h, size))
		for c := range 3 {
			mean[c], std[c] = 3*mean[c], 3*std[c]
		}
	default:
		return nil, fmt.Errorf("CLIP preprocessing: unknown mode %d", int(p))
	}
	chw := make([]float32, 0, 3*size*size)
	for c := range 3 {
		for _, v := range out[c] {
			chw = append(chw, float32((float64(v)-mean[c])/std[c]))
		}
	}
	return chw, nil
}

// applyViewsRef is applyViews as it was: applyRef per view on up to
// workers goroutines, each view's tensor copied into the batch.
func applyViewsRef(p Preprocess, views [][]float32, n, size, workers int) ([]float32, error) {
	per := 3 * size * size
	buf := make([]float32, len(views)*per)
	var g errgroup.Group
	g.SetLimit(max(workers, 1))
	for k, v := range views {
		g.Go(func() error {
			x, err := applyRef(p, v, n, n, size)
			if err != nil {
				return fmt.Errorf("view %d: %w", k, err)
			}
			copy(buf[k*per:], x)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return buf, nil
}

// refResizeRGB applies separable weights to an interleaved RGB image, rows
// first (x), then columns (y), and returns the three channel planes: the
// float64 sums of refResize64, each rounded to float32.
func refResizeRGB(rgb []float32, w, h int, xs, ys []refTaps) [3][]float32 {
	sums := refResize64(rgb, w, h, xs, ys)
	var out [3][]float32
	for c := range out {
		out[c] = make([]float32, len(sums)/3)
		for i := range out[c] {
			out[c][i] = float32(sums[3*i+c])
		}
	}
	return out
}

// refResize64 is the separable resize in float64, rows first (x), then
// columns (y): the interleaved sums (ow×oh×3) before any rounding.
func refResize64(rgb []float32, w, h int, xs, ys []refTaps) []float64 {
	ow := len(xs)
	tmp := make([]float64, 3*ow*h)
	for y := range h {
		row, dst := rgb[3*y*w:3*(y+1)*w], tmp[3*y*ow:3*(y+1)*ow]
		for x, t := range xs {
			var r, g, b float64
			for k, i := range t.idx {
				wt, j := t.w[k], 3*i
				r += wt * float64(row[j])
				g += wt * float64(row[j+1])
				b += wt * float64(row[j+2])
			}
			dst[3*x], dst[3*x+1], dst[3*x+2] = r, g, b
		}
	}
	out := make([]float64, 3*ow*len(ys))
	for y, t := range ys {
		acc := out[3*y*ow : 3*(y+1)*ow]
		for k, i := range t.idx {
			wt, src := t.w[k], tmp[3*i*ow:3*(i+1)*ow]
			for j, v := range src {
				acc[j] += wt * v
			}
		}
	}
	return out
}

// refPilWeights are PIL's resample coefficients for BICUBIC (a = −0.5,
// support 2 scaled by the downsampling factor, normalised, edges cut).
func refPilWeights(in, out int) []refTaps {
	scale := float64(in) / float64(out)
	fs := max(scale, 1)
	support := 2 * fs
	ts := make([]refTaps, out)
	for i := range ts {
		center := (float64(i) + 0.5) * scale
		lo := max(int(center-support+0.5), 0)
		hi := min(int(center+support+0.5), in)
		var t refTaps
		var sum float64
		for j := lo; j < hi; j++ {
			wt := cubic((float64(j)-center+0.5)/fs, -0.5)
			t.idx, t.w = append(t.idx, j), append(t.w, wt)
			sum += wt
		}
		if sum != 0 {
			for k := range t.w {
				t.w[k] /= sum
			}
		}
		ts[i] = t
	}
	return ts
}

// refTorchCubicWeights are torch's upsample_bicubic2d coefficients with
// align_corners=False and no antialias.
func refTorchCubicWeights(in, out int) []refTaps {
	scale := float64(in) / float64(out)
	ts := make([]refTaps, out)
	for i := range ts {
		src := (float64(i)+0.5)*scale - 0.5
		x0 := math.Floor(src)
		f := src - x0
		t := refTaps{idx: make([]int, 4), w: make([]float64, 4)}
		for k := range 4 {
			t.idx[k] = min(max(int(x0)-1+k, 0), in-1)
			t.w[k] = cubic(f+1-float64(k), -0.75)
		}
		ts[i] = t
	}
	return ts
}
