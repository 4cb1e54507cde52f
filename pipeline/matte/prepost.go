package matte

import (
	"image"
	"math"

	"github.com/splatbench/splatbench/internal/parallel"
	"github.com/splatbench/splatbench/pipeline/imagefile"
)

// rgbPlane returns the image's non-premultiplied RGB values as a 3-channel
// plane (the alpha of a translucent input is dropped, as imgly drops it).
func rgbPlane(img image.Image) plane {
	b := img.Bounds()
	p := plane{w: b.Dx(), h: b.Dy(), c: 3, pix: make([]uint8, 3*b.Dx()*b.Dy())}
	nrgba := imagefile.NRGBA(img)
	for y := range p.h {
		row := nrgba.Pix[y*nrgba.Stride:]
		o := p.pix[y*p.w*3:]
		for x := range p.w {
			copy(o[3*x:3*x+3], row[4*x:4*x+3])
		}
	}
	return p
}

// normalize writes a 3-channel plane as CHW float32 with per-channel
// v' = (v/scale − mean)/std, looked up: a channel's 256 values are
// computed once. Pixels are spread over the cores.
func normalize(p plane, scale float64, mean, std [3]float64) []float32 {
	var lut [3][256]float32
	for c := range 3 {
		for v := range 256 {
			lut[c][v] = float32((float64(v)/scale - mean[c]) / std[c])
		}
	}
	n := p.w * p.h
	out := make([]float32, 3*n)
	r, g, b := out[:n], out[n:2*n], out[2*n:]
	parallel.For(n, 0, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			px := p.pix[3*i : 3*i+3]
			r[i], g[i], b[i] = lut[0][px[0]], lut[1][px[1]], lut[2][px[2]]
		}
	})
	return out
}

// toMask converts model output in [0,1] to uint8 by truncating v·255, as
// imgly's convertFloat32ToUint8 does. JavaScript's Uint8Array would wrap
// values outside 0..255 (256 → 0); we clamp instead, and NaN becomes 0 as
// it does there. Values are spread over the cores.
func toMask(v []float32, w, h int) plane { return toMaskOn(v, w, h, 0) }

// toMaskOn is toMask on up to workers goroutines (0: all cores; 1: the
// serial loop).
func toMaskOn(v []float32, w, h, workers int) plane {
	p := plane{w: w, h: h, c: 1, pix: make([]uint8, len(v))}
	parallel.For(len(v), workers, func(lo, hi int) {
		for i, x := range v[lo:hi] {
			f := float64(x) * 255
			switch {
			case f != f || f <= 0:
				p.pix[lo+i] = 0
			case f >= 255:
				p.pix[lo+i] = 255
			default:
				p.pix[lo+i] = uint8(f)
			}
		}
	})
	return p
}

// sigmoidIfLogits applies the logistic function when the values leave
// [0,1] by more than rounding, i.e. the model returned logits.
func sigmoidIfLogits(v []float32) bool {
	const slack = 1e-3
	logits := false
	for _, x := range v {
		if x < -slack || x > 1+slack {
			logits = true
			break
		}
	}
	if logits {
		for i, x := range v {
			v[i] = float32(1 / (1 + math.Exp(-float64(x))))
		}
	}
	return logits
}

// compose returns the image's colours with the mask as (straight) alpha.
func compose(rgb plane, mask plane) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, rgb.w, rgb.h))
	for i := range rgb.w * rgb.h {
		copy(out.Pix[4*i:4*i+3], rgb.pix[3*i:3*i+3])
		out.Pix[4*i+3] = mask.pix[i]
	}
	return out
}

func gray(mask plane) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, mask.w, mask.h))
	copy(g.Pix, mask.pix)
	return g
}
