package fit

import (
	"context"
	"testing"

	"github.com/splatbench/splatbench/pipeline/scenes"
)

// TestFitReferenceScene fits a built-in reference scene (12 000 ground-truth
// Gaussians) from its training views and checks novel-view PSNR on the
// scene's held-out cameras (an elevation no training view uses).
func TestFitReferenceScene(t *testing.T) {
	if testing.Short() {
		t.Skip("reference-scene fit takes several seconds")
	}
	t.Parallel()
	tests := []struct {
		scene   string
		views   int
		size    int
		iters   int
		minHeld float64
	}{
		{"red-cube", 8, 64, 200, 28},
		{"blue-sphere", 8, 64, 200, 26},
	}
	for _, tc := range tests {
		t.Run(tc.scene, func(t *testing.T) {
			t.Parallel()
			sc, err := scenes.Get(tc.scene)
			if err != nil {
				t.Fatal(err)
			}
			gt := sc.Build(0, 0)
			train := scenes.TrainViews(tc.views, tc.size)
			views, _ := renderViews(t, gt, train)
			o := tinyOptions(tc.iters)
			o.InitKind = InitMask
			o.InitCount = 1000
			o.LRPositionInit, o.LRPositionFinal = 1e-2, 2e-4
			o.LambdaAlpha = 1
			res, err := Fit(context.Background(), views, o, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			held := heldOutPSNR(t, res.Cloud, gt, scenes.HeldOutViews(4, tc.size))
			tr := heldOutPSNR(t, res.Cloud, gt, train)
			t.Logf("%s: %d views %d² %d iters: loss %.4f, %d Gaussians, train PSNR %.2f dB, held-out PSNR %.2f dB",
				tc.scene, tc.views, tc.size, tc.iters, res.FinalLoss, res.Cloud.Len(), tr, held)
			if held < tc.minHeld {
				t.Errorf("held-out PSNR %.2f dB < floor %.1f dB", held, tc.minHeld)
			}
		})
	}
}
