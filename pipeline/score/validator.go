package score

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/splatbench/splatbench/internal/parallel"
)

// The validator's final-score constants (docs/protocol.md §3.4,
// engine/validation_engine.py at three-gen-subnet HEAD).
const (
	AlignmentGate      = 0.3  // alignment below this scores 0
	TextAlignmentScale = 0.35 // text alignment = CLIP geometric mean / 0.35
)

// ValidatorScore is the 404-GEN validation service's final score from its
// four metrics (docs/protocol.md §3.4):
//
//	0                                                     if alignment < 0.3
//	0.75·iqa + 0.2·alignment + 0.025·σ(35·(ssim − 0.83))
//	         + 0.025·lpips·σ(30·(lpips − 0.7))            otherwise
//
// where lpips is the reported value 1 − mean LPIPS (higher is better) and
// alignment is already divided by 0.35 for text prompts. The result is not
// clipped; the neuron clips the stored fidelity to ≤ 1 (NeuronFidelity).
func ValidatorScore(iqa, alignment, ssim, lpips float64) float64 {
	if alignment < AlignmentGate {
		return 0
	}
	return 0.75*iqa + 0.2*alignment +
		0.025*sigmoidAt(ssim, 35, 0.83) +
		0.025*lpips*sigmoidAt(lpips, 30, 0.7)
}

// NeuronFidelity is what the validator neuron stores from a service score:
// the score clipped to at most 1.
func NeuronFidelity(score float64) float64 { return min(score, 1) }

// sigmoidAt is 1/(1+exp(−k·(x−x0))).
func sigmoidAt(x, k, x0 float64) float64 { return 1 / (1 + math.Exp(-k*(x-x0))) }

// OutlierFilter is the validator's KNN outlier filter (pytod
// models.knn.KNN with its defaults, applied to one value per view): each
// value's anomaly score is its distance to its K-th nearest other value;
// the threshold is the (1 − Contamination) percentile of those scores
// (numpy's linear interpolation); values scoring strictly above the
// threshold are dropped.
type OutlierFilter struct {
	K             int     // neighbours; pytod default 5
	Contamination float64 // expected outlier share in (0, 0.5]; pytod default 0.1
}

// ValidatorOutliers is the filter with the parameters the validator uses
// (pytod KNN constructed with no arguments).
var ValidatorOutliers = OutlierFilter{K: 5, Contamination: 0.1}

// Filter returns the kept values in ascending order (the validator sorts
// before filtering). It needs more than K values, as pytod does (its
// k+1-nearest search fails otherwise).
func (f OutlierFilter) Filter(xs []float64) ([]float64, error) {
	n := len(xs)
	if f.K < 1 || !(f.Contamination > 0 && f.Contamination <= 0.5) {
		return nil, fmt.Errorf("outlier filter: K=%d and contamination %v: want K ≥ 1 and contamination in (0, 0.5]", f.K, f.Contamination)
	}
	if n <= f.K {
		return nil, fmt.Errorf("outlier filter: %d values, need more than K=%d", n, f.K)
	}
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	scores := make([]float64, n)
	dist := make([]float64, n)
	for i, x := range sorted {
		for j, y := range sorted {
			dist[j] = math.Abs(x - y)
		}
		slices.Sort(dist)
		scores[i] = dist[f.K] // dist[0] is the value itself
	}
	thr := percentile(scores, 100*(1-f.Contamination))
	kept := make([]float64, 0, n)
	for i, x := range sorted {
		if !(scores[i] > thr) {
			kept = append(kept, x)
		}
	}
	return kept, nil
}

// percentile is numpy.percentile with the default linear interpolation.
func percentile(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	pos := q / 100 * float64(len(s)-1)
	lo := int(math.Floor(pos))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	frac := pos - float64(lo)
	return s[lo] + frac*(s[lo+1]-s[lo])
}

// GeoMean is exp(mean(log x)), as torch computes it: any zero gives 0, any
// negative value or an empty slice gives NaN.
func GeoMean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range xs {
		if x < 0 || math.IsNaN(x) {
			return math.NaN()
		}
		s += math.Log(x)
	}
	return math.Exp(s / float64(len(xs)))
}

// TextAlignment turns per-view CLIP cosine similarities into the
// validator's text alignment: outlier filter, clip to [0, 1], geometric
// mean, divided by 0.35 (so it can exceed 1).
func TextAlignment(cosines []float64) (float64, error) {
	kept, err := ValidatorOutliers.Filter(cosines)
	if err != nil {
		return 0, fmt.Errorf("text alignment: %w", err)
	}
	for i, x := range kept {
		kept[i] = clamp01(x)
	}
	return GeoMean(kept) / TextAlignmentScale, nil
}

// ImageAlignment turns per-view cosine similarities with the prompt image
// into the validator's image alignment: outlier filter and geometric mean,
// with no clipping and no rescaling (a negative cosine gives NaN there too).
func ImageAlignment(cosines []float64) (float64, error) {
	kept, err := ValidatorOutliers.Filter(cosines)
	if err != nil {
		return 0, fmt.Errorf("image alignment: %w", err)
	}
	return GeoMean(kept), nil
}

// Quantize8 mimics the validator's `(img·255).to(uint8)` followed by /255:
// values clamped to 0..1 and truncated to 8 bits. It returns a new slice.
// A large image is spread over the cores: the 16 validator views of every
// scored job pass through here.
func Quantize8(x []float32) []float32 {
	out := make([]float32, len(x))
	quantize8(out, x)
	return out
}

// quantize8 is Quantize8 into dst (len(x) values; dst may be x).
func quantize8(dst, x []float32) {
	quantize := func(lo, hi int) {
		d := dst[lo:hi]
		for i, v := range x[lo:hi] {
			switch {
			case v >= 1:
				d[i] = 1
			case v > 0:
				d[i] = levels8[int(float64(v)*255)] // v·255 < 255: truncation is the floor
			case v <= 0:
				d[i] = 0
			default:
				d[i] = v // NaN stays NaN
			}
		}
	}
	if len(x) < 1<<16 {
		quantize(0, len(x))
	} else {
		parallel.For(len(x), 0, quantize)
	}
}

// levels8 are the 256 values an 8-bit channel holds, k/255 in float32.
var levels8 = func() (l [256]float32) {
	for k := range l {
		l[k] = float32(k) / 255
	}
	return l
}()

// Consistency is the validator's multi-view SSIM.
type Consistency struct {
	Pairs []float64 `json:"pairs"` // SSIM of views (i, i+1 mod n)
	Kept  []float64 `json:"kept"`  // pairs left by the outlier filter, ascending
	SSIM  float64   `json:"ssim"`  // geometric mean of Kept: the validator's `ssim`
}

// ConsistencySSIM computes the validator's `ssim` metric from its n RGB
// views (each len 3·w·h, values 0..1; pass them through Quantize8 first to
// match the validator's 8-bit renders): SSIM between consecutive views
// (i, i+1 mod n), the KNN outlier filter, then the geometric mean. For the
// validator's 16 views the last pair compares 360° with 0°, which are the
// same camera. Pairs are computed concurrently on up to GOMAXPROCS
// goroutines.
func ConsistencySSIM(ctx context.Context, views [][]float32, w, h int) (Consistency, error) {
	n := len(views)
	if n <= ValidatorOutliers.K {
		return Consistency{}, fmt.Errorf("consistency SSIM: %d views, need more than %d", n, ValidatorOutliers.K)
	}
	pairs := make([]float64, n)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range n {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			s, err := SSIM(views[i], views[(i+1)%n], w, h, 3)
			if err != nil {
				return fmt.Errorf("consistency SSIM: views %d and %d: %w", i, (i+1)%n, err)
			}
			pairs[i] = s
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return Consistency{}, err
	}
	kept, err := ValidatorOutliers.Filter(pairs)
	if err != nil {
		return Consistency{}, fmt.Errorf("consistency SSIM: %w", err)
	}
	return Consistency{Pairs: pairs, Kept: kept, SSIM: GeoMean(kept)}, nil
}
