package score

import (
	"fmt"
	"math"

	"golang.org/x/sync/errgroup"
)

// CLIP's image normalisation (openai/CLIP clip.py _transform; OpenCLIP's
// OPENAI_DATASET_MEAN/STD), docs/algorithms.md §3.2.
var (
	CLIPMean = [3]float64{0.48145466, 0.4578275, 0.40821073}
	CLIPStd  = [3]float64{0.26862954, 0.26130258, 0.27577711}
)

// Preprocess selects how a render becomes a CLIP input.
type Preprocess int

const (
	// PreprocessCLIP is CLIP's own transform: resize the shortest side to
	// the input size with PIL's bicubic (a = −0.5, support widened when
	// downsampling, i.e. antialiased), centre crop, mean/std normalisation.
	// The resized image is rounded to 8 bits once (PIL rounds after each
	// of its two passes).
	PreprocessCLIP Preprocess = iota
	// PreprocessValidator is what the SN17 validator does at three-gen-subnet
	// HEAD (docs/protocol.md §3.4, docs/algorithms.md §3.1): torch
	// F.interpolate bicubic (a = −0.75, align_corners=False, no antialias)
	// straight to size×size (no crop), then Normalize with the mean AND the
	// std multiplied by 3 — the validator's quirk, equivalent to feeding
	// x/3 to the standard normalisation. It computes in float32 where the
	// validator uses fp16.
	PreprocessValidator
)

// String names the mode.
func (p Preprocess) String() string {
	switch p {
	case PreprocessCLIP:
		return "clip"
	case PreprocessValidator:
		return "validator"
	}
	return fmt.Sprintf("Preprocess(%d)", int(p))
}

// ParsePreprocess reads "clip" or "validator" ("" is "clip").
func ParsePreprocess(s string) (Preprocess, error) {
	switch s {
	case "", "clip":
		return PreprocessCLIP, nil
	case "validator":
		return PreprocessValidator, nil
	}
	return 0, fmt.Errorf("CLIP preprocessing %q: want clip or validator", s)
}

// Apply turns an interleaved RGB image (len 3·w·h, values 0..1) into a
// normalised CHW tensor of 3·size·size values.
func (p Preprocess) Apply(rgb []float32, w, h, size int) ([]float32, error) {
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
		// torchvision Resize(size): the short side becomes size, the long
		// side int(size·long/short); then CenterCrop with round((d−size)/2).
		rw, rh := size, size
		if w < h {
			rh = int(float64(size) * float64(h) / float64(w))
		} else if h < w {
			rw = int(float64(size) * float64(w) / float64(h))
		}
		left := int(math.Round(float64(rw-size) / 2))
		top := int(math.Round(float64(rh-size) / 2))
		r := resizeRGB(rgb, w, h, pilWeights(w, rw), pilWeights(h, rh))
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
		out = resizeRGB(rgb, w, h, torchCubicWeights(w, size), torchCubicWeights(h, size))
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

// applyViews preprocesses square n×n views on up to workers goroutines
// into one batch tensor (the views' CHW tensors one after another).
func (p Preprocess) applyViews(views [][]float32, n, size, workers int) ([]float32, error) {
	per := 3 * size * size
	buf := make([]float32, len(views)*per)
	var g errgroup.Group
	g.SetLimit(max(workers, 1))
	for k, v := range views {
		g.Go(func() error {
			x, err := p.Apply(v, n, n, size)
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

// taps are one output sample's source indices and weights.
type taps struct {
	idx []int
	w   []float64
}

// resizeRGB applies separable weights to an interleaved RGB image, rows
// first (x), then columns (y), and returns the three channel planes. Each
// tap's weight is applied to all three channels at once, and the column
// pass runs along whole rows; every output sums its taps in their order, so
// the result is that of resizing each plane on its own.
func resizeRGB(rgb []float32, w, h int, xs, ys []taps) [3][]float32 {
	ow, oh := len(xs), len(ys)
	tmp := make([]float64, 3*ow*h) // interleaved, ow×h
	for y := range h {
		row, dst := rgb[3*y*w:3*(y+1)*w], tmp[3*y*ow:3*(y+1)*ow]
		for x, t := range xs {
			var r, g, b float64
			for k, i := range t.idx {
				wt, j := t.w[k], 3*i
				_ = row[j+2]
				r += wt * float64(row[j])
				g += wt * float64(row[j+1])
				b += wt * float64(row[j+2])
			}
			dst[3*x], dst[3*x+1], dst[3*x+2] = r, g, b
		}
	}
	var out [3][]float32
	for c := range 3 {
		out[c] = make([]float32, ow*oh)
	}
	acc := make([]float64, 3*ow)
	for y, t := range ys {
		clear(acc)
		for k, i := range t.idx {
			wt, src := t.w[k], tmp[3*i*ow:3*(i+1)*ow]
			for j, v := range src {
				acc[j] += wt * v
			}
		}
		for x := range ow {
			for c := range 3 {
				out[c][y*ow+x] = float32(acc[3*x+c])
			}
		}
	}
	return out
}

// cubic is the Keys cubic convolution kernel with parameter a.
func cubic(x, a float64) float64 {
	x = math.Abs(x)
	switch {
	case x < 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return (((x-5)*x+8)*x - 4) * a
	}
	return 0
}

// pilWeights are PIL's resample coefficients for BICUBIC (a = −0.5,
// support 2 scaled by the downsampling factor, normalised, edges cut).
func pilWeights(in, out int) []taps {
	scale := float64(in) / float64(out)
	fs := max(scale, 1)
	support := 2 * fs
	ts := make([]taps, out)
	for i := range ts {
		center := (float64(i) + 0.5) * scale
		lo := max(int(center-support+0.5), 0)
		hi := min(int(center+support+0.5), in)
		var t taps
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

// torchCubicWeights are torch's upsample_bicubic2d coefficients with
// align_corners=False and no antialias: source x = (i + 0.5)·scale − 0.5,
// four taps around floor(x) with a = −0.75, indices clamped to the edge.
func torchCubicWeights(in, out int) []taps {
	scale := float64(in) / float64(out)
	ts := make([]taps, out)
	for i := range ts {
		src := (float64(i)+0.5)*scale - 0.5
		x0 := math.Floor(src)
		f := src - x0
		t := taps{idx: make([]int, 4), w: make([]float64, 4)}
		for k := range 4 {
			t.idx[k] = min(max(int(x0)-1+k, 0), in-1)
			t.w[k] = cubic(f+1-float64(k), -0.75)
		}
		ts[i] = t
	}
	return ts
}
