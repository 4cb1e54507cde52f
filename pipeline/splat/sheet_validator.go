package splat

import (
	"context"
	"image"
)

// ValidatorSheet renders c as subnet 17's validator does (a normalised
// copy: c is not changed; its 16 cameras, white background, SH degree 0,
// gsplat conventions) and tiles the views into one contact sheet, cols per
// row with 4-pixel gaps.
func ValidatorSheet(ctx context.Context, c *Cloud, cols int) (*image.NRGBA, error) {
	n := c.Clone()
	NormalizeForValidator(n)
	opt := RenderOptions{Background: [3]float32{1, 1, 1}, Mode: ModeGsplat, SHDegree: 0}
	imgs, err := RenderBatch(ctx, n, ValidatorCameras(), opt)
	if err != nil {
		return nil, err
	}
	views := make([]*image.NRGBA, len(imgs))
	for i, im := range imgs {
		views[i] = im.Opaque()
	}
	return ContactSheet(views, cols, 4), nil
}
