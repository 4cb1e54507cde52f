package matte

import (
	"image"
	"image/color"
	"math"
)

// scene builds a w×h test image with a known foreground: a shaded sphere
// with red and white stripes, over a busy background (diagonal gradient, a
// fine muted checker and deterministic hash noise). (A flat checker-textured
// box was tried as a second object: IS-Net keeps only part of it, as it
// would a poster on a wall, so it measured the model's taste, not our code.)
// It returns the image and the exact foreground mask.
func scene(w, h int, seed uint32) (*image.NRGBA, []bool) {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	fg := make([]bool, w*h)
	cx, cy, r := float64(w)*0.45, float64(h)*0.58, float64(min(w, h))*0.27
	light := [3]float64{-0.5, -0.6, 0.62}
	for y := range h {
		for x := range w {
			i := y*w + x
			var c [3]float64
			dx, dy := (float64(x)+0.5-cx)/r, (float64(y)+0.5-cy)/r
			switch {
			case dx*dx+dy*dy <= 1: // sphere: Lambert shading, red/white stripes
				nz := math.Sqrt(1 - dx*dx - dy*dy)
				shade := 0.25 + 0.75*max(0, dx*light[0]+dy*light[1]+nz*light[2])
				base := [3]float64{220, 40, 30}
				if int(math.Floor((dy+1)*5))%2 == 0 {
					base = [3]float64{235, 235, 225}
				}
				for k := range 3 {
					c[k] = base[k] * shade
				}
				fg[i] = true
			default: // background
				g := float64(x+y) / float64(w+h)
				c = [3]float64{90 + 80*g, 120 + 40*g, 100 - 30*g}
				if (x/8+y/8)%2 == 0 {
					for k := range 3 {
						c[k] *= 0.85
					}
				}
				n := float64(hash(uint32(x), uint32(y), seed)%41) - 20
				for k := range 3 {
					c[k] += n
				}
			}
			img.SetNRGBA(x, y, color.NRGBA{clamp8(c[0]), clamp8(c[1]), clamp8(c[2]), 255})
		}
	}
	return img, fg
}

func clamp8(v float64) uint8 { return uint8(max(0, min(255, math.Round(v)))) }

func hash(x, y, seed uint32) uint32 {
	h := x*0x9e3779b1 ^ y*0x85ebca77 ^ seed*0xc2b2ae3d
	h ^= h >> 15
	h *= 0x2c1b3c6d
	h ^= h >> 12
	return h
}

// iou is the intersection over union of mask > 127 (alpha ≥ 0.5) and want.
func iou(mask *image.Gray, want []bool) float64 {
	var inter, union int
	for i, w := range want {
		got := mask.Pix[i] > 127
		if got && w {
			inter++
		}
		if got || w {
			union++
		}
	}
	return float64(inter) / float64(union)
}
