package score

import (
	"context"
	"fmt"
	"math"
	"runtime"

	"golang.org/x/sync/errgroup"
)

// Fidelity compares rendered views of a fitted cloud with the reference
// views of the same cameras.
//
// Score is the weight-free stand-in the tuner uses as its "score" axis when
// no CLIP/IQA models are configured. It is NOT the validator's score (that
// is ValidatorScore, which needs model outputs); it only says how faithfully
// the fit reproduces known ground truth:
//
//	Score = 0.5·clamp((PSNR − 15 dB) / 25 dB, 0, 1) + 0.5·clamp((SSIM − 0.5) / 0.5, 0, 1)
//
// so 15 dB and below scores nothing on the PSNR half and 40 dB and above
// everything; SSIM counts only above 0.5 because renders on a plain
// background reach SSIM ≈ 0.5 with almost no object at all.
type Fidelity struct {
	PSNR  float64 `json:"psnr"`  // dB, mean over views
	SSIM  float64 `json:"ssim"`  // mean over views
	Score float64 `json:"score"` // 0..1, see the type comment
}

// Fidelity score constants (see Fidelity).
const (
	FidelityPSNRFloor = 15.0
	FidelityPSNRSpan  = 25.0
	FidelitySSIMFloor = 0.5
)

// NewFidelity fills Score from PSNR and SSIM.
func NewFidelity(psnr, ssim float64) Fidelity {
	p := clamp01((psnr - FidelityPSNRFloor) / FidelityPSNRSpan)
	s := clamp01((ssim - FidelitySSIMFloor) / (1 - FidelitySSIMFloor))
	return Fidelity{PSNR: psnr, SSIM: ssim, Score: 0.5*p + 0.5*s}
}

// Compare computes the Fidelity of one RGB view (len 3·w·h, values 0..1)
// against its reference.
func Compare(pred, ref []float32, w, h int) (Fidelity, error) {
	p, err := PSNR(pred, ref)
	if err != nil {
		return Fidelity{}, err
	}
	s, err := SSIM(pred, ref, w, h, 3)
	if err != nil {
		return Fidelity{}, err
	}
	return NewFidelity(p, s), nil
}

// CompareViews computes Fidelity over several views: PSNR and SSIM are the
// means of the per-view values (PSNR averaged in dB, the usual convention
// for novel-view synthesis), and Score is derived from those means. It
// stops early when ctx is done.
func CompareViews(ctx context.Context, pred, ref [][]float32, w, h int) (Fidelity, error) {
	return compareViews(ctx, pred, ref, w, h, runtime.GOMAXPROCS(0))
}

// compareViews is CompareViews on up to workers goroutines, one view
// each; the per-view results are summed in view order, so the result does
// not depend on workers.
func compareViews(ctx context.Context, pred, ref [][]float32, w, h, workers int) (Fidelity, error) {
	if len(pred) != len(ref) || len(pred) == 0 {
		return Fidelity{}, fmt.Errorf("%w: %d predicted views vs %d references", ErrShape, len(pred), len(ref))
	}
	per := make([]Fidelity, len(pred))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(workers, 1))
	for i := range pred {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			f, err := Compare(pred[i], ref[i], w, h)
			if err != nil {
				return fmt.Errorf("view %d: %w", i, err)
			}
			per[i] = f
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return Fidelity{}, err
	}
	var sp, ss float64
	for _, f := range per {
		sp += f.PSNR
		ss += f.SSIM
	}
	n := float64(len(pred))
	return NewFidelity(sp/n, ss/n), nil
}

func clamp01(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return min(max(x, 0), 1)
}
