// Package score owns the image metrics of the pipeline: PSNR, SSIM, mask
// IoU, the weight-free Fidelity score the tuner optimises against the
// reference scenes, and the pure, model-free parts of the 404-GEN
// validator's scoring (final-score formula, multi-view consistency SSIM,
// KNN outlier filter, geometric mean).
//
// Images are float32 slices with values in 0..1, row-major and
// channel-interleaved (RGB images have len 3·W·H, masks len W·H), the
// layout splat.Image uses. The package imports no other project package.
//
// Nothing here computes the validator's model-based terms (IQA, CLIP
// alignment, LPIPS); those need model weights and live elsewhere.
package score
