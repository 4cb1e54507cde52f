package lift_test

import (
	"testing"

	"github.com/splatbench/splatbench/pipeline/imageeval"
	"github.com/splatbench/splatbench/pipeline/lift"
	"github.com/splatbench/splatbench/pipeline/scenes"
)

// BenchmarkLift lifts matted front views, with the default auto shape
// (sections, boxes, legs) and, as the baseline in the same run, revolve
// (one round section per row, no parts).
func BenchmarkLift(b *testing.B) {
	for _, name := range []string{"red-cube", "box-stack", "wooden-table"} {
		sc, err := scenes.Get(name)
		if err != nil {
			b.Fatal(err)
		}
		gt := sc.Build(1, 0)
		fg, err := imageeval.Cutout(b.Context(), sc, gt, 256)
		if err != nil {
			b.Fatal(err)
		}
		for _, shape := range []string{lift.ShapeAuto, lift.ShapeRevolve} {
			b.Run(name+"/"+shape, func(b *testing.B) {
				opt := lift.DefaultOptions()
				opt.Shape = shape
				var n int
				for b.Loop() {
					res, err := lift.Lift(b.Context(), fg, imageeval.FrontCamera(256), opt)
					if err != nil {
						b.Fatal(err)
					}
					n = res.Cloud.Len()
				}
				b.ReportMetric(float64(n), "gaussians")
			})
		}
	}
}
