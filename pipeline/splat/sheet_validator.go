package splat

import (
	"context"
	"image"
)

// Sheet renders c from cams with opt and tiles the views, composited on
// opt.Background, into one contact sheet, cols per row with 4-pixel gaps.
func Sheet(ctx context.Context, c *Cloud, cams []Camera, opt RenderOptions, cols int) (*image.NRGBA, error) {
	imgs, err := RenderBatch(ctx, c, cams, opt)
	if err != nil {
		return nil, err
	}
	views := make([]*image.NRGBA, len(imgs))
	for i, im := range imgs {
		views[i] = im.Opaque()
	}
	return ContactSheet(views, cols, 4), nil
}

// ValidatorSheet renders c as subnet 17's validator does (a normalised
// copy: c is not changed; its 16 cameras, white background, SH degree 0,
// gsplat conventions) into one contact sheet (see Sheet).
func ValidatorSheet(ctx context.Context, c *Cloud, cols int) (*image.NRGBA, error) {
	n := c.Clone()
	NormalizeForValidator(n)
	opt := RenderOptions{Background: [3]float32{1, 1, 1}, Mode: ModeGsplat, SHDegree: 0}
	return Sheet(ctx, n, ValidatorCameras(), opt, cols)
}
