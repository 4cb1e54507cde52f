package lift_test

import (
	"testing"
	"time"

	"github.com/splatbench/splatbench/pipeline/imageeval"
	"github.com/splatbench/splatbench/pipeline/lift"
	"github.com/splatbench/splatbench/pipeline/scenes"
)

// BenchmarkLift lifts matted front views with the default auto shape
// (sections, boxes, legs, handles) and, as baselines in the same loop,
// revolve (one round section per row, no parts) and auto on one goroutine
// (Options.Workers 1; the others use GOMAXPROCS), and reports the times
// and their ratios.
func BenchmarkLift(b *testing.B) {
	for _, name := range []string{"red-cube", "box-stack", "wooden-table", "blue-mug"} {
		sc, err := scenes.Get(name)
		if err != nil {
			b.Fatal(err)
		}
		gt := sc.Build(1, 0)
		fg, err := imageeval.Cutout(b.Context(), sc, gt, 256)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			auto, revolve, one := lift.DefaultOptions(), lift.DefaultOptions(), lift.DefaultOptions()
			revolve.Shape = lift.ShapeRevolve
			one.Workers = 1
			var spent [3]time.Duration
			var n int
			for b.Loop() {
				for k, opt := range []lift.Options{auto, revolve, one} {
					start := time.Now()
					res, err := lift.Lift(b.Context(), fg, imageeval.FrontCamera(256), opt)
					if err != nil {
						b.Fatal(err)
					}
					spent[k] += time.Since(start)
					if k == 0 {
						n = res.Cloud.Len()
					}
				}
			}
			runs := float64(b.N)
			b.ReportMetric(spent[0].Seconds()*1e3/runs, "ms-auto/op")
			b.ReportMetric(spent[1].Seconds()*1e3/runs, "ms-revolve/op")
			b.ReportMetric(spent[2].Seconds()*1e3/runs, "ms-auto-1core/op")
			b.ReportMetric(float64(spent[0])/float64(spent[1]), "auto/revolve")
			b.ReportMetric(float64(spent[2])/float64(spent[0]), "1core/all")
			b.ReportMetric(float64(n), "gaussians")
		})
	}
}
