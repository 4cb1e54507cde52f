package lift_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/splatbench/splatbench/pipeline/imageeval"
	"github.com/splatbench/splatbench/pipeline/lift"
	"github.com/splatbench/splatbench/pipeline/scenes"
)

// TestLiftWorkers: the lift fits its sections and prisms on
// Options.Workers goroutines, and the cloud does not depend on how many:
// scenes with boxes (box-stack), a handle (blue-mug) and legs
// (wooden-table) lifted on 1, 3 and GOMAXPROCS goroutines give the same
// cloud and depth slab.
func TestLiftWorkers(t *testing.T) {
	for _, name := range []string{"box-stack", "blue-mug", "wooden-table"} {
		t.Run(name, func(t *testing.T) {
			sc, err := scenes.Get(name)
			if err != nil {
				t.Fatal(err)
			}
			fg, err := imageeval.Cutout(t.Context(), sc, sc.Build(1, 0), 256)
			if err != nil {
				t.Fatal(err)
			}
			var want *lift.Result
			for _, workers := range []int{1, 3, 0} {
				opt := lift.DefaultOptions()
				opt.Workers = workers
				res, err := lift.Lift(t.Context(), fg, imageeval.FrontCamera(256), opt)
				if err != nil {
					t.Fatal(err)
				}
				if want == nil {
					want = res
					continue
				}
				if d := cmp.Diff(want.Cloud, res.Cloud); d != "" {
					t.Errorf("workers %d: the cloud differs from one goroutine's (-1 +%d):\n%.2000s", workers, workers, d)
				}
				for _, p := range [][3]float64{{0, 0, 0}, {0.2, 0.1, -0.1}, {-0.3, 0.4, 0.2}} {
					wl, wh := want.DepthRange(p)
					if l, h := res.DepthRange(p); l != wl || h != wh {
						t.Errorf("workers %d: DepthRange(%v) = %v, %v; one goroutine's %v, %v", workers, p, l, h, wl, wh)
					}
				}
			}
		})
	}
}
