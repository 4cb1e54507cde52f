package splat

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// TestRenderMatchesReference compares the engine (float32, spans, radix
// sort, tiles) with the brute-force float64 reference on random scenes.
// Tolerance: 2e-4 absolute per value. float32 rounding moves a pixel by
// ~1e-6; what the tolerance must absorb is a pixel where some α lies within
// float32 rounding of 1/255 and is kept by one side only (a jump of ≤ 1/255
// times a colour), so up to 0.1% of values may exceed it, none by more than
// 0.01.
func TestRenderMatchesReference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		seed uint64
		n    int
		deg  int
		mode Mode
		w, h int
	}{
		{"classic sh0", 1, 60, 0, ModeClassic, 50, 38},
		{"gsplat sh0", 1, 60, 0, ModeGsplat, 50, 38},
		{"classic sh3", 2, 40, 3, ModeClassic, 33, 47},
		{"gsplat sh2", 3, 40, 2, ModeGsplat, 64, 64},
		{"dense classic", 4, 300, 1, ModeClassic, 40, 40},
		{"dense gsplat", 4, 300, 1, ModeGsplat, 40, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(tt.seed, 9))
			c := randomCloud(rng, tt.n, tt.deg, 0.6, 0.08)
			cam := LookAt([3]float64{0.4, 0.5, 2.0}, [3]float64{0, 0, 0}, [3]float64{0, 1, 0}, tt.w, tt.h, 55)
			bg := [3]float32{0.2, 0.9, 0.4}
			im, err := Render(context.Background(), c, cam, RenderOptions{Background: bg, Mode: tt.mode, SHDegree: -1, Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			rgb, alpha := refRender(toRef(c), cam, tt.mode, [3]float64{0.2, 0.9, 0.4}, tt.deg)
			covered := 0
			for _, a := range im.Alpha {
				if a > 0.1 {
					covered++
				}
			}
			if covered < len(im.Alpha)/5 {
				t.Fatalf("only %d of %d pixels have α > 0.1: the scene does not test much", covered, len(im.Alpha))
			}
			compareFloats(t, "rgb", im.RGB, rgb)
			compareFloats(t, "alpha", im.Alpha, alpha)
		})
	}
}

func compareFloats(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	over, worst := 0, 0.0
	for i := range got {
		d := math.Abs(float64(got[i]) - want[i])
		worst = max(worst, d)
		if d > 2e-4 {
			over++
		}
	}
	t.Logf("%s: worst %.3g, %d over 2e-4", what, worst, over)
	if worst > 0.01 || over > len(got)/1000 {
		t.Errorf("%s: %d of %d values off by > 2e-4, worst %g", what, over, len(got), worst)
	}
}
