package fit

import (
	"fmt"
	"math"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// View is one posed input image. RGB is straight (not premultiplied)
// colour in 0..1, interleaved, len 3·W·H; Alpha is the mask in 0..1, len
// W·H. Where Alpha is 0 the RGB value is ignored: the fit target is
// RGB·Alpha + Background·(1 − Alpha).
type View struct {
	Camera splat.Camera
	RGB    []float32
	Alpha  []float32
}

// validate checks sizes and values; i is the view's index for the error.
func (v View) validate(i int) error {
	w, h := v.Camera.Width, v.Camera.Height
	if w <= 0 || h <= 0 {
		return fmt.Errorf("fit: view %d: camera size %d×%d", i, w, h)
	}
	if len(v.RGB) != 3*w*h {
		return fmt.Errorf("fit: view %d: RGB has %d values, want %d for %d×%d", i, len(v.RGB), 3*w*h, w, h)
	}
	if len(v.Alpha) != w*h {
		return fmt.Errorf("fit: view %d: Alpha has %d values, want %d for %d×%d", i, len(v.Alpha), w*h, w, h)
	}
	for j, x := range v.RGB {
		if !(x >= 0 && x <= 1) {
			return fmt.Errorf("fit: view %d: RGB[%d] = %v outside 0..1", i, j, x)
		}
	}
	for j, x := range v.Alpha {
		if !(x >= 0 && x <= 1) {
			return fmt.Errorf("fit: view %d: Alpha[%d] = %v outside 0..1", i, j, x)
		}
	}
	for j, x := range v.Camera.R {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("fit: view %d: camera R[%d] = %v", i, j, x)
		}
	}
	return nil
}

// composite returns the view's colour over bg, interleaved RGB.
func (v View) composite(bg [3]float32) []float32 {
	out := make([]float32, len(v.RGB))
	for p, a := range v.Alpha {
		for c := range 3 {
			out[3*p+c] = v.RGB[3*p+c]*a + bg[c]*(1-a)
		}
	}
	return out
}
