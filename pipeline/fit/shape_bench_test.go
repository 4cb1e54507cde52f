package fit_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/splatbench/splatbench/pipeline/fit"
	"github.com/splatbench/splatbench/pipeline/imageeval"
	"github.com/splatbench/splatbench/pipeline/lift"
	"github.com/splatbench/splatbench/pipeline/scenes"
)

// BenchmarkKeepShape times the shape projections a lifted fit runs after
// every step, over box-stack's lifted cloud (the default lift: about 41 000
// Gaussians, the lift's own depth slab), on one goroutine and, in the same
// loop, on GOMAXPROCS, and reports both and their ratio.
func BenchmarkKeepShape(b *testing.B) {
	sc, err := scenes.Get("box-stack")
	if err != nil {
		b.Fatal(err)
	}
	fg, err := imageeval.Cutout(b.Context(), sc, sc.Build(1, 0), 256)
	if err != nil {
		b.Fatal(err)
	}
	res, err := lift.Lift(b.Context(), fg, imageeval.FrontCamera(256), lift.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	s := fit.ShapeOptions{
		Depth: res.Depth, MaxAnisotropy: 4, MaxDepthSigma: 1.5 * res.Spacing,
		DepthRange: res.DepthRange, AnchorBand: res.Spacing,
		Anchor: append([]float32(nil), res.Cloud.Pos...), AnchorRadius: 0.5, MinOpacity: 0.5,
	}
	var spent [2]time.Duration
	for b.Loop() {
		for k, workers := range []int{1, runtime.GOMAXPROCS(0)} {
			c := res.Cloud.Clone()
			t0 := time.Now()
			fit.KeepShape(c, s, workers)
			spent[k] += time.Since(t0)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(res.Cloud.Len()), "gaussians")
	b.ReportMetric(spent[0].Seconds()*1e3/n, "ms-1core/op")
	b.ReportMetric(spent[1].Seconds()*1e3/n, "ms-all/op")
	b.ReportMetric(float64(spent[0])/float64(spent[1]), "1core/all")
}
