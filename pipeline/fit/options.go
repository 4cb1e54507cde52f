// Package fit owns the fit stage: from K posed RGBA views it optimises a
// Gaussian cloud with the CPU differentiable rasteriser of package splat,
// an L1 + D-SSIM photometric loss plus an alpha loss, Adam with
// per-parameter-group learning rates, and 3DGS/DreamGaussian-style
// densification (clone, split, prune, opacity reset).
//
// It owns the optimiser state (Adam moments that stay aligned with the
// cloud's arrays through every clone/split/prune), the loss functions and
// their analytic gradients, the learning-rate schedules and the cloud
// initialisations. It does not own rendering (package splat) nor profiles
// (package configs maps a profile onto Options).
package fit

import (
	"errors"
	"fmt"
	"math"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// Init kinds for Options.InitKind.
const (
	InitSphere = "sphere"
	InitMask   = "mask"
)

// Alpha loss kinds for Options.AlphaLoss.
const (
	AlphaL1  = "l1"
	AlphaMSE = "mse"
)

// Options holds every knob of the fit. DefaultOptions documents where each
// default comes from.
type Options struct {
	// Iterations is the number of optimisation steps (one view each).
	Iterations int
	// InitCount is the number of Gaussians created by the initialisation.
	InitCount int
	// InitKind is InitSphere or InitMask.
	InitKind string
	// InitRadius is the radius of the sphere that the initial Gaussians
	// fill (InitSphere) or that candidate points are drawn from (InitMask).
	InitRadius float64
	// SHDegree is the cloud's spherical-harmonics degree (0..3). Higher
	// bands are switched on one at a time every SHUpInterval iterations.
	SHDegree     int
	SHUpInterval int
	// Resolution, if > 0, is the longest side the views are fitted at:
	// views of another size are resampled (exact area averaging of
	// premultiplied colour and alpha, intrinsics scaled, aspect kept)
	// before the fit. 0 fits every view at its own size.
	Resolution int
	// Background is the colour the render and the target are composited on.
	Background [3]float32
	// RandomBackground composites render and target on the inverted
	// background (1 − Background) in a random half of the iterations, as
	// DreamGaussian does for its novel views (invert_bg_prob 0.5), so that
	// colour cannot stand in for transparency.
	RandomBackground bool

	// Densification schedule: statistics are accumulated and the cloud is
	// densified/pruned at multiples of DensifyInterval for iterations in
	// [DensifyFrom, min(DensifyUntil, Iterations − DensifyInterval)]: the
	// last DensifyInterval iterations never densify, prune or reset, so the
	// returned cloud is an optimised one, not freshly split. DensifyInterval
	// 0 disables densification.
	DensifyFrom, DensifyUntil, DensifyInterval int
	// DensifyGradThreshold is the threshold on the mean view-space (NDC)
	// position-gradient norm over the steps a Gaussian was visible.
	DensifyGradThreshold float64
	// PercentDense·SceneExtent separates "small" Gaussians (cloned) from
	// "large" ones (split).
	PercentDense float64
	SceneExtent  float64
	// PruneOpacity removes Gaussians whose opacity falls below it.
	PruneOpacity float64
	// PruneWorldScale removes Gaussians whose largest axis exceeds
	// PruneWorldScale·SceneExtent (0 disables).
	PruneWorldScale float64
	// MaxGaussians caps the cloud size during densification (0 = no cap).
	MaxGaussians int
	// OpacityResetInterval resets every opacity to min(α, 0.01) at
	// multiples of it inside the densification window (0 disables). Adam's
	// opacity moments are zeroed with it, as 3DGS does.
	OpacityResetInterval int

	// Learning rates per parameter group. The position rate decays
	// log-linearly from LRPositionInit to LRPositionFinal over
	// PositionLRMaxSteps iterations and stays at the final value after.
	LRPositionInit, LRPositionFinal float64
	PositionLRMaxSteps              int
	// LRFeature is for the SH DC term; higher SH bands use LRFeature/20.
	LRFeature  float64
	LROpacity  float64
	LRScale    float64
	LRRotation float64

	// LambdaDSSIM weights the D-SSIM term: (1−λ)·L1 + λ·(1−SSIM).
	LambdaDSSIM float64
	// LambdaAlpha weights the alpha loss (AlphaLoss: AlphaL1 or AlphaMSE)
	// between the rendered alpha and the view's alpha.
	LambdaAlpha float64
	AlphaLoss   string

	// AreaPriorWeight λp (0 disables) adds λp·mean(α) of a render from one
	// random direction (uniform on the sphere, looking at the origin from
	// the training cameras' mean distance) to every step's loss: a
	// minimal-projected-area (surface-area) prior that shrinks the parts of
	// the visual hull no training view constrains. It costs one extra
	// AreaPriorSize² forward and backward per step.
	AreaPriorWeight float64
	AreaPriorSize   int

	// Init, when not nil, is the initial cloud (a copy is fitted; InitKind,
	// InitCount and InitRadius are then unused): pipeline/lift's cloud.
	Init *splat.Cloud
	// Shape keeps the initial cloud's shape (see ShapeOptions); the zero
	// value is off.
	Shape ShapeOptions

	// Seed makes initialisation and split sampling deterministic.
	Seed uint64
	// Workers bounds the goroutines used by the rasteriser and the loss
	// (0 = GOMAXPROCS).
	Workers int
}

// DefaultOptions returns DreamGaussian's stage-1 defaults for image-to-3D
// (docs/algorithms.md §5.1, "image" column) where they apply:
// 500 iterations, 5000 initial points in a sphere of radius 0.5, SH degree
// 0, ref_size 256, densify from 100 every 100 until 3000, percent_dense
// 0.01 with extent 4, prune at opacity 0.01 and world scale 0.1·extent,
// opacity reset every 700, position LR 1e-2 → 2e-4 over 500 steps (the
// effective rate with spatial_lr_scale 10), features 0.01, opacity 0.05,
// scale 0.005, rotation 0.005.
//
// Two defaults are not DreamGaussian's because its loss is not ours:
//   - DensifyGradThreshold is 3DGS's 0.0002, not DreamGaussian's 0.01.
//     DreamGaussian's threshold is tuned for 10⁴·MSE + SDS gradients; with
//     the pixel-mean L1 + D-SSIM loss used here (3DGS's loss) the
//     view-space gradients are 3DGS-sized.
//   - LambdaDSSIM 0.2 is 3DGS's; LambdaAlpha 0.1 keeps DreamGaussian's
//     mask:RGB loss ratio (1000:10000).
//
// MaxGaussians 100 000 is ours (the validator needs ≥ 7000, memory and
// CPU time grow with the count).
func DefaultOptions() Options {
	return Options{
		Iterations:           500,
		InitCount:            5000,
		InitKind:             InitSphere,
		InitRadius:           0.5,
		SHDegree:             0,
		SHUpInterval:         1000,
		Resolution:           256,
		Background:           [3]float32{1, 1, 1},
		DensifyFrom:          100,
		DensifyUntil:         3000,
		DensifyInterval:      100,
		DensifyGradThreshold: 0.0002,
		PercentDense:         0.01,
		SceneExtent:          4,
		PruneOpacity:         0.01,
		PruneWorldScale:      0.1,
		MaxGaussians:         100_000,
		OpacityResetInterval: 700,
		LRPositionInit:       1e-2,
		LRPositionFinal:      2e-4,
		PositionLRMaxSteps:   500,
		LRFeature:            0.01,
		LROpacity:            0.05,
		LRScale:              0.005,
		LRRotation:           0.005,
		LambdaDSSIM:          0.2,
		LambdaAlpha:          0.1,
		AlphaLoss:            AlphaL1,
		AreaPriorWeight:      0,
		AreaPriorSize:        32,
		Seed:                 0,
		Workers:              0,
	}
}

// ErrInvalidOptions is wrapped by every error Validate returns.
var ErrInvalidOptions = errors.New("invalid fit options")

// Validate checks every field and names the first bad one.
func (o Options) Validate() error {
	bad := func(field string, v any, why string) error {
		return fmt.Errorf("%w: %s = %v: %s", ErrInvalidOptions, field, v, why)
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case o.Iterations < 0:
		return bad("Iterations", o.Iterations, "must be ≥ 0")
	case o.InitCount < 1:
		return bad("InitCount", o.InitCount, "must be ≥ 1")
	case o.InitKind != InitSphere && o.InitKind != InitMask:
		return bad("InitKind", o.InitKind, `must be "sphere" or "mask"`)
	case !(o.InitRadius > 0) || !finite(o.InitRadius):
		return bad("InitRadius", o.InitRadius, "must be > 0")
	case o.SHDegree < 0 || o.SHDegree > splat.MaxSHDegree:
		return bad("SHDegree", o.SHDegree, fmt.Sprintf("must be in 0..%d", splat.MaxSHDegree))
	case o.SHDegree > 0 && o.SHUpInterval < 1:
		return bad("SHUpInterval", o.SHUpInterval, "must be ≥ 1 when SHDegree > 0")
	case o.Resolution < 0:
		return bad("Resolution", o.Resolution, "must be ≥ 0")
	case o.DensifyInterval < 0:
		return bad("DensifyInterval", o.DensifyInterval, "must be ≥ 0 (0 disables)")
	case o.DensifyFrom < 0 || o.DensifyUntil < 0:
		return bad("DensifyFrom/DensifyUntil", [2]int{o.DensifyFrom, o.DensifyUntil}, "must be ≥ 0")
	case !(o.DensifyGradThreshold > 0) || !finite(o.DensifyGradThreshold):
		return bad("DensifyGradThreshold", o.DensifyGradThreshold, "must be > 0")
	case !(o.PercentDense >= 0) || !finite(o.PercentDense):
		return bad("PercentDense", o.PercentDense, "must be ≥ 0")
	case !(o.SceneExtent > 0) || !finite(o.SceneExtent):
		return bad("SceneExtent", o.SceneExtent, "must be > 0")
	case !(o.PruneOpacity >= 0 && o.PruneOpacity < 1):
		return bad("PruneOpacity", o.PruneOpacity, "must be in [0, 1)")
	case !(o.PruneWorldScale >= 0) || !finite(o.PruneWorldScale):
		return bad("PruneWorldScale", o.PruneWorldScale, "must be ≥ 0")
	case o.MaxGaussians < 0:
		return bad("MaxGaussians", o.MaxGaussians, "must be ≥ 0")
	case o.MaxGaussians > 0 && o.MaxGaussians < o.InitCount:
		return bad("MaxGaussians", o.MaxGaussians, fmt.Sprintf("must be ≥ InitCount (%d)", o.InitCount))
	case o.OpacityResetInterval < 0:
		return bad("OpacityResetInterval", o.OpacityResetInterval, "must be ≥ 0")
	case o.PositionLRMaxSteps < 0:
		return bad("PositionLRMaxSteps", o.PositionLRMaxSteps, "must be ≥ 0")
	case !(o.LRPositionInit > 0) || !finite(o.LRPositionInit):
		return bad("LRPositionInit", o.LRPositionInit, "must be > 0")
	case !(o.LRPositionFinal > 0) || !finite(o.LRPositionFinal):
		return bad("LRPositionFinal", o.LRPositionFinal, "must be > 0")
	case !(o.LambdaDSSIM >= 0 && o.LambdaDSSIM <= 1):
		return bad("LambdaDSSIM", o.LambdaDSSIM, "must be in [0, 1]")
	case !(o.LambdaAlpha >= 0) || !finite(o.LambdaAlpha):
		return bad("LambdaAlpha", o.LambdaAlpha, "must be ≥ 0")
	case o.AlphaLoss != AlphaL1 && o.AlphaLoss != AlphaMSE:
		return bad("AlphaLoss", o.AlphaLoss, `must be "l1" or "mse"`)
	case !(o.AreaPriorWeight >= 0) || !finite(o.AreaPriorWeight):
		return bad("AreaPriorWeight", o.AreaPriorWeight, "must be ≥ 0")
	case o.AreaPriorWeight > 0 && (o.AreaPriorSize < 8 || o.AreaPriorSize > 1024):
		return bad("AreaPriorSize", o.AreaPriorSize, "must be in 8..1024 when AreaPriorWeight > 0")
	case o.Workers < 0:
		return bad("Workers", o.Workers, "must be ≥ 0")
	}
	if err := o.Shape.validate(); err != nil {
		return err
	}
	if o.Init != nil && o.Init.Len() == 0 {
		return bad("Init", "an empty cloud", "must have Gaussians")
	}
	for _, lr := range []struct {
		name string
		v    float64
	}{{"LRFeature", o.LRFeature}, {"LROpacity", o.LROpacity}, {"LRScale", o.LRScale}, {"LRRotation", o.LRRotation}} {
		if !(lr.v >= 0) || !finite(lr.v) {
			return bad(lr.name, lr.v, "must be ≥ 0")
		}
	}
	for i, c := range o.Background {
		if !(c >= 0 && c <= 1) {
			return bad(fmt.Sprintf("Background[%d]", i), c, "must be in [0, 1]")
		}
	}
	return nil
}
