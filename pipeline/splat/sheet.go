package splat

import (
	"image"
	"image/color"
	"image/draw"
)

// ContactSheet tiles views into one image, cols per row (at least 1), with
// gap pixels of opaque black between cells (none around the border), the
// layout of the validator's duel grid (2×2, 5 px gap). Each cell is the size
// of the largest view; smaller views sit at their cell's top-left. No views
// give an empty image.
func ContactSheet(views []*image.NRGBA, cols int, gap int) *image.NRGBA {
	if len(views) == 0 {
		return image.NewNRGBA(image.Rect(0, 0, 0, 0))
	}
	cols = max(1, min(cols, len(views)))
	gap = max(0, gap)
	rows := (len(views) + cols - 1) / cols
	cw, ch := 0, 0
	for _, v := range views {
		if v == nil {
			continue
		}
		cw, ch = max(cw, v.Bounds().Dx()), max(ch, v.Bounds().Dy())
	}
	out := image.NewNRGBA(image.Rect(0, 0, cols*cw+(cols-1)*gap, rows*ch+(rows-1)*gap))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.NRGBA{A: 255}), image.Point{}, draw.Src)
	for i, v := range views {
		if v == nil {
			continue
		}
		x, y := (i%cols)*(cw+gap), (i/cols)*(ch+gap)
		draw.Draw(out, image.Rect(x, y, x+v.Bounds().Dx(), y+v.Bounds().Dy()), v, v.Bounds().Min, draw.Src)
	}
	return out
}
