package score

import "fmt"

// MaskIoU is the intersection over union of two soft masks (values 0..1,
// one per pixel) after thresholding both: a pixel is foreground when its
// value is ≥ threshold. Two masks with no foreground at all agree
// perfectly, so their IoU is 1.
func MaskIoU(pred, truth []float32, threshold float32) (float64, error) {
	if len(pred) != len(truth) {
		return 0, fmt.Errorf("%w: mask IoU of %d vs %d pixels", ErrShape, len(pred), len(truth))
	}
	if len(pred) == 0 {
		return 0, fmt.Errorf("%w: empty mask", ErrShape)
	}
	var inter, union int
	for i, p := range pred {
		a, b := p >= threshold, truth[i] >= threshold
		if a && b {
			inter++
		}
		if a || b {
			union++
		}
	}
	if union == 0 {
		return 1, nil
	}
	return float64(inter) / float64(union), nil
}
