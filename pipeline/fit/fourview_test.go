package fit

import (
	"context"
	"testing"

	"github.com/splatbench/splatbench/pipeline/scenes"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// TestFitFourViewsHeldOut fits each simple reference scene from 4 training
// views (scenes.TrainViews(4, 64): azimuths 0/90/180/270, elevations
// −15/−40/+5/−15) at 64² for 200 iterations from a 2000-point mask init,
// without and with the projected-area prior (AreaPriorWeight 0.1,
// AreaPriorSize 16), and checks held-out PSNR on scenes.HeldOutViews(4, 64)
// (elevation −25°, azimuths 52/142/232/322°, i.e. between the training
// views).
//
// The floors are what 4 views support, not the 25 dB: measured
// held-out PSNR (dB) at these settings, seeds 0 / 1 (the fit is not
// bit-deterministic across runs, ±0.3 dB):
//
//	scene            4 views      + area prior   8 views (no prior)
//	red-cube          21.7 / 21.6   20.7 / 20.4    32.3
//	blue-sphere       21.1 / 20.5   23.0 / 22.5    28.2
//	green-torus       20.1 / 19.8   20.9 / 20.7    30.7
//	yellow-cone       21.2 / 21.7   22.7 / 23.0    32.6
//	purple-capsule    26.3 / 25.7   28.4 / 28.4    30.9
//	mean              22.1 / 21.9   23.1 / 23.0
//
// Why 4 views stop near 21 dB: the training views are reproduced to 36–40
// dB, all but ≤ 1 % of the fitted Gaussians' centres lie inside all 4
// silhouettes, and
// 66–89 % of the held-out squared error is in pixels the fit covers but
// the true object does not. The 4-view visual hull itself is looser than
// the fit (3200 such pixels over the 4 held-out 128² views for the sphere,
// 3850 for the cone, against the fit's ~1300): the extra volume in the
// hull's corners projects inside every training silhouette, so alpha
// cannot remove it, and with uniform albedo only the baked Lambert shading
// (≈0.05 between the two views that see a corner) argues against it.
// Random backgrounds, a 10× lower position LR, no densification, a lower
// alpha weight, fewer initial points and 3× more iterations each moved the
// mean by ≤ 0.3 dB (longer fits reach 50 dB on the training views and
// the same held-out PSNR). Space-carving-style pruning of Gaussians whose
// contribution-weighted target colour varies across the views that see
// them (variance > 0.002, 4 times in the first 200 iterations) cost 1 dB
// on the sphere and the cone; at variance > 0.01 it changed nothing.
// 8 views tighten the hull and reach 28–33 dB.
//
// The projected-area prior (a minimal-surface-area prior, prior.go) trades
// the hull's extra volume for missing volume: at weight 0.1 the extra
// share of the error falls to 20–40 % and the missing share rises to
// 30–60 %; the mean gains 1.1 dB, the cube loses 1 dB (dents no training
// silhouette sees). Weight 0.03 gains 0.45 dB, 0.3 loses 1 dB (too much
// carved); 32² prior views gain 0.7 dB, 64² 0.4 dB; 400 iterations
// instead of 200 lose the gain (the prior keeps carving). Over all 19
// reference scenes (same settings, seed 0) the mean goes 22.8 → 23.6 dB:
// 16 scenes gain (chess-pawn +2.4, lamp +1.6, snowman +1.9), red-cube
// −1.0, blue-mug −1.2 and checkered-cube −0.2 lose.
//
// The training layout moves the 4-view mean by ±0.7 dB when the training
// views stay 34–50° from every held-out view: 0/−25, 90/−25, 180/−25,
// 270/−25 → 21.8; 0/−40, 90/−10, ... → 22.0; 0/−30, 90/0, ... → 22.1;
// tetrahedral 0/−35.3, 90/+35.3, 180/−35.3, 270/+35.3 → 22.5; 0/−45,
// 90/−15, 180/+15, 270/−15 → 22.8 (23.8–24.2 with the prior). The
// tetrahedron rotated to azimuths 45/135/225/315 scores 24.5, but two of
// its views lie 11.9° from held-out views 52/−25 and 232/−25, which score
// 29–33 dB there against 22–25 dB on the two held-out views 60° away:
// that gain is the held-out set getting easier, not a better fit.
func TestFitFourViewsHeldOut(t *testing.T) {
	if testing.Short() {
		t.Skip("ten reference-scene fits take ~25 s on 2 cores")
	}
	t.Parallel()
	const (
		size  = 64
		iters = 200
	)
	tests := []struct {
		scene    string
		prior    bool
		minHeld  float64
		minTrain float64
	}{
		{"red-cube", false, 20.5, 33},
		{"blue-sphere", false, 19.5, 33},
		{"green-torus", false, 18.5, 33},
		{"yellow-cone", false, 20, 33},
		{"purple-capsule", false, 24.5, 33},
		{"red-cube", true, 19.3, 33},
		{"blue-sphere", true, 21.5, 33},
		{"green-torus", true, 19.5, 33},
		{"yellow-cone", true, 21.5, 33},
		{"purple-capsule", true, 27, 33},
	}
	for _, tc := range tests {
		name := tc.scene
		if tc.prior {
			name += "+area-prior"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sc, err := scenes.Get(tc.scene)
			if err != nil {
				t.Fatal(err)
			}
			gt := sc.Build(0, 0)
			train := scenes.TrainViews(4, size)
			views, _ := renderViews(t, gt, train)
			o := fourViewOptions(iters)
			if tc.prior {
				o.AreaPriorWeight, o.AreaPriorSize = 0.1, 16
			}
			res, err := Fit(context.Background(), views, o, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			held := heldOutPSNR(t, res.Cloud, gt, scenes.HeldOutViews(4, size))
			tr := heldOutPSNR(t, res.Cloud, gt, train)
			t.Logf("%s: 4 views %d² %d iters: %d Gaussians, train PSNR %.2f dB, held-out PSNR %.2f dB",
				name, size, iters, res.Cloud.Len(), tr, held)
			if tr < tc.minTrain {
				t.Errorf("training-view PSNR %.2f dB < %.1f dB: the fit did not converge", tr, tc.minTrain)
			}
			if held < tc.minHeld {
				t.Errorf("held-out PSNR %.2f dB < floor %.1f dB", held, tc.minHeld)
			}
			// Floaters outside the visual hull are not the problem: at
			// most a few dozen centres (the cone's base rim) lie outside.
			if out := outsideHull(res.Cloud, views); out > res.Cloud.Len()/100 {
				t.Errorf("%d of %d Gaussian centres lie outside a training silhouette", out, res.Cloud.Len())
			}
		})
	}
}

// fourViewOptions is the default profile's fit (mask init, densify every
// 50 from 0, λα = 1, position LR 1e-2 → 2e-4 over the run) scaled down to
// 64² views: 2000 initial points instead of 8000.
func fourViewOptions(iters int) Options {
	o := DefaultOptions()
	o.Iterations = iters
	o.InitKind = InitMask
	o.InitCount = 2000
	o.Resolution = 0
	o.DensifyFrom, o.DensifyUntil, o.DensifyInterval = 0, 3000, 50
	o.LambdaAlpha = 1
	o.PositionLRMaxSteps = iters
	o.Workers = 2
	return o
}

// outsideHull counts the Gaussians whose centre projects outside some
// view's mask (alpha < 0.5), i.e. lies outside the visual hull.
func outsideHull(c *splat.Cloud, views []View) int {
	out := 0
	for i := range c.Len() {
		p := [3]float64{float64(c.Pos[3*i]), float64(c.Pos[3*i+1]), float64(c.Pos[3*i+2])}
		for _, v := range views {
			if _, ok := maskPixel(v, p); !ok {
				out++
				break
			}
		}
	}
	return out
}
