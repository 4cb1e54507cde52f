package splat

import "image"

// Image is a float render, row-major: RGB interleaved (len 3·W·H), Alpha and
// Depth len W·H. RGB already includes the background (C + T·bg); Alpha is
// 1 − T; Depth is the expected depth Σ wᵢ zᵢ / Σ wᵢ of the composited
// Gaussians (camera z, 0 where nothing was composited).
type Image struct {
	Width, Height int
	RGB, Alpha    []float32
	Depth         []float32
}

// NewImage allocates a zero image.
func NewImage(w, h int) *Image {
	return &Image{Width: w, Height: h, RGB: make([]float32, 3*w*h), Alpha: make([]float32, w*h), Depth: make([]float32, w*h)}
}

func to8(v float32) uint8 {
	if !(v > 0) {
		return 0
	}
	if v >= 1 {
		return 255
	}
	return uint8(v*255 + 0.5)
}

// NRGBA converts RGB (clamped to 0..1) and Alpha to 8-bit, rounding to
// nearest. The colour is stored as is (not divided by alpha): it is the
// render over its background.
func (im *Image) NRGBA() *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, im.Width, im.Height))
	for y := range im.Height {
		row := out.Pix[y*out.Stride:]
		for x := range im.Width {
			o := y*im.Width + x
			row[4*x] = to8(im.RGB[3*o])
			row[4*x+1] = to8(im.RGB[3*o+1])
			row[4*x+2] = to8(im.RGB[3*o+2])
			row[4*x+3] = to8(im.Alpha[o])
		}
	}
	return out
}

// Opaque converts RGB to an opaque 8-bit image (alpha 255), which is what
// the validator's pipeline feeds to CLIP and what a viewer expects.
func (im *Image) Opaque() *image.NRGBA {
	out := im.NRGBA()
	for i := 3; i < len(out.Pix); i += 4 {
		out.Pix[i] = 255
	}
	return out
}

// At returns pixel (x, y)'s RGB.
func (im *Image) At(x, y int) [3]float32 {
	o := y*im.Width + x
	return [3]float32{im.RGB[3*o], im.RGB[3*o+1], im.RGB[3*o+2]}
}
