package fit

import "github.com/splatbench/splatbench/pipeline/splat"

// ViewFromImage turns a render made on background bg into a View by
// un-premultiplying its colour: RGB = (C − (1−α)·bg)/α where α > 0.
func ViewFromImage(cam splat.Camera, im *splat.Image, bg [3]float32) View {
	n := im.Width * im.Height
	v := View{Camera: cam, RGB: make([]float32, 3*n), Alpha: append([]float32(nil), im.Alpha...)}
	for p := range n {
		a := im.Alpha[p]
		for c := range 3 {
			if a > 1e-6 {
				v.RGB[3*p+c] = min(max((im.RGB[3*p+c]-(1-a)*bg[c])/a, 0), 1)
			}
		}
	}
	return v
}
