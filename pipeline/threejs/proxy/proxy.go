// Package proxy scores a module's render against its prompt picture. The
// subnet's judge is a vision-language model comparing the two; no such
// model runs here, so this is a PROXY for it, for the tuner and the
// tables: silhouette agreement (mask IoU), appearance inside the object's
// box (PSNR and SSIM of the prompt on the judge's grey vs the render) and
// colour agreement (mean CIE76 ΔE over the pixels both cover). It is not
// the judge's score and the tables say so.
package proxy

import (
	"fmt"
	"image"
	"image/draw"
	"math"

	"github.com/splatbench/splatbench/pipeline/score"
)

// Score is one comparison.
type Score struct {
	IoU    float64 `json:"iou"`
	PSNR   float64 `json:"psnr"`   // dB, over the union box
	SSIM   float64 `json:"ssim"`   // over the union box
	DeltaE float64 `json:"deltaE"` // mean CIE76 over the intersection
	Proxy  float64 `json:"proxy"`  // 0.5·IoU + 0.3·SSIM + 0.2·(1 − min(ΔE/50, 1))
	Pixels int     `json:"pixels"` // prompt object pixels
}

// grey is the judge's background, 0x808080.
const grey = 128

// Compare scores render (the judge's frame, background exactly 0x808080)
// against prompt (straight alpha; its object mask is alpha ≥ 0.5), both
// the same square size.
func Compare(prompt *image.NRGBA, render image.Image) (Score, error) {
	pb, rb := prompt.Bounds(), render.Bounds()
	if pb.Dx() != rb.Dx() || pb.Dy() != rb.Dy() {
		return Score{}, fmt.Errorf("proxy: prompt %dx%d vs render %dx%d", pb.Dx(), pb.Dy(), rb.Dx(), rb.Dy())
	}
	w, h := pb.Dx(), pb.Dy()
	r := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(r, r.Bounds(), render, rb.Min, draw.Src)
	pm, rm := make([]float32, w*h), make([]float32, w*h)
	pc, rc := make([]float32, 3*w*h), make([]float32, 3*w*h)
	x0, y0, x1, y1 := w, h, 0, 0
	var s Score
	var de float64
	var both int
	for y := range h {
		for x := range w {
			i := y*w + x
			p := prompt.Pix[(y)*prompt.Stride+4*x:]
			q := r.Pix[y*r.Stride+4*x:]
			a := float64(p[3]) / 255
			if a >= 0.5 {
				pm[i] = 1
				s.Pixels++
			}
			if q[0] != grey || q[1] != grey || q[2] != grey {
				rm[i] = 1
			}
			if pm[i] == 1 || rm[i] == 1 {
				x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x+1), max(y1, y+1)
			}
			for k := range 3 {
				pc[3*i+k] = float32((float64(p[k])*a + grey*(1-a)) / 255)
				rc[3*i+k] = float32(q[k]) / 255
			}
			if pm[i] == 1 && rm[i] == 1 {
				de += deltaE(p[:3], q[:3])
				both++
			}
		}
	}
	iou, err := score.MaskIoU(rm, pm, 0.5)
	if err != nil {
		return s, err
	}
	s.IoU = iou
	if both > 0 {
		s.DeltaE = de / float64(both)
	} else {
		s.DeltaE = 100
	}
	if x1-x0 >= score.SSIMWindow && y1-y0 >= score.SSIMWindow {
		bw, bh := x1-x0, y1-y0
		a, b := make([]float32, 0, 3*bw*bh), make([]float32, 0, 3*bw*bh)
		for y := y0; y < y1; y++ {
			a = append(a, pc[3*(y*w+x0):3*(y*w+x1)]...)
			b = append(b, rc[3*(y*w+x0):3*(y*w+x1)]...)
		}
		if s.PSNR, err = score.PSNR(a, b); err != nil {
			return s, err
		}
		if s.SSIM, err = score.SSIM(a, b, bw, bh, 3); err != nil {
			return s, err
		}
	}
	s.Proxy = 0.5*s.IoU + 0.3*s.SSIM + 0.2*(1-math.Min(s.DeltaE/50, 1))
	return s, nil
}

// deltaE is CIE76 between two sRGB colours.
func deltaE(a, b []uint8) float64 {
	la, aa, ba := lab(a)
	lb, ab, bb := lab(b)
	return math.Sqrt((la-lb)*(la-lb) + (aa-ab)*(aa-ab) + (ba-bb)*(ba-bb))
}

var lin = func() (t [256]float64) {
	for i := range t {
		c := float64(i) / 255
		if c <= 0.04045 {
			t[i] = c / 12.92
		} else {
			t[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return
}()

// lab converts sRGB (D65) to CIE L*a*b*.
func lab(c []uint8) (float64, float64, float64) {
	r, g, b := lin[c[0]], lin[c[1]], lin[c[2]]
	x := (0.4124*r + 0.3576*g + 0.1805*b) / 0.95047
	y := 0.2126*r + 0.7152*g + 0.0722*b
	z := (0.0193*r + 0.1192*g + 0.9505*b) / 1.08883
	f := func(t float64) float64 {
		if t > 216.0/24389 {
			return math.Cbrt(t)
		}
		return (24389.0/27*t + 16) / 116
	}
	fx, fy, fz := f(x), f(y), f(z)
	return 116*fy - 16, 500 * (fx - fy), 200 * (fy - fz)
}
