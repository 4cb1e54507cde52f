//go:build gpu

package cuda

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/splatbench/splatbench/pipeline/fit"
	"github.com/splatbench/splatbench/pipeline/scenes"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// benchViews renders the red-cube scene from 4 orbit views at the
// validator's radius and field of view.
func benchViews(b *testing.B, size int) []fit.View {
	sc, err := scenes.Get("red-cube")
	if err != nil {
		b.Fatal(err)
	}
	return sceneViews(b, sc.Build(0, 0), splat.OrbitCameras(4, 2.5, -15, 49.1, size, size))
}

func phaseSeconds(st fit.Stats) float64 {
	return st.ForwardSeconds + st.LossSeconds + st.BackwardSeconds + st.AdamSeconds
}

// BenchmarkFitIter4x256_50k: one fit iteration (forward, loss, backward,
// Adam) over 4 views of 256² at once with 50k Gaussians (sphere init, no
// densification). device-ms/iter is the CUDA-event time of the phases,
// wall-ms/iter the fit's wall time less its initialisation; cpu-ms is
// fit.Fit's phase time for the same 4 views (4 iterations) on the host's
// cores. Goal ~1 ms.
func BenchmarkFitIter4x256_50k(b *testing.B) {
	d := openDevice(b)
	views := benchViews(b, 256)
	opt := fit.DefaultOptions()
	opt.InitCount = 50_000
	opt.MaxGaussians = 0
	opt.DensifyInterval = 0
	opt.Iterations = 100
	var dev, wall float64
	var runs int
	for b.Loop() {
		t0 := time.Now()
		res, err := d.FitBatch(context.Background(), views, opt, 4, quietLog(), nil)
		if err != nil {
			b.Fatal(err)
		}
		wall += (time.Since(t0).Seconds() - res.Stats.InitSeconds) / float64(res.Iterations) * 1e3
		dev += phaseSeconds(res.Stats) / float64(res.Iterations) * 1e3
		runs++
	}
	b.StopTimer()
	dev /= float64(runs)
	wall /= float64(runs)
	copt := opt
	copt.Iterations = 4
	cres, err := fit.Fit(context.Background(), views, copt, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	cpu := phaseSeconds(cres.Stats) * 1e3
	b.ReportMetric(dev, "device-ms/iter")
	b.ReportMetric(wall, "wall-ms/iter")
	b.ReportMetric(cpu, "cpu-ms")
	b.ReportMetric(cpu/wall, "cpu/gpu-wall")
	b.Logf("%s: 4×256², 50k: device %.3f ms/iter, wall %.3f ms/iter; CPU %.1f ms", d.Info().Name, dev, wall, cpu)
}

// BenchmarkFit500: a whole fit at the default options (500 iterations,
// 5000 initial Gaussians, densify every 100, 4 views of 256², one view
// per iteration as fit.Fit), end to end including initialisation and
// upload. cpu-s is one fit.Fit of the same. Goal < 1 s.
func BenchmarkFit500(b *testing.B) {
	d := openDevice(b)
	views := benchViews(b, 256)
	opt := fit.DefaultOptions()
	var res *fit.Result
	for b.Loop() {
		var err error
		res, err = d.Fit(context.Background(), views, opt, quietLog(), nil)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	gpu := b.Elapsed().Seconds() / float64(b.N)
	st := res.Stats
	t0 := time.Now()
	cres, err := fit.Fit(context.Background(), views, opt, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	cpu := time.Since(t0).Seconds()
	b.ReportMetric(gpu, "s/fit")
	b.ReportMetric(cpu, "cpu-s")
	b.ReportMetric(cpu/gpu, "cpu/gpu")
	b.ReportMetric(float64(res.Cloud.Len()), "gaussians")
	b.ReportMetric(res.FinalLoss, "final-loss")
	b.Logf("%s: GPU %.3f s (init %.3f, fwd %.3f, loss %.3f, bwd %.3f, adam %.3f, densify %.3f), %d Gaussians, loss %.4f; CPU %.2f s, %d Gaussians, loss %.4f",
		d.Info().Name, gpu, st.InitSeconds, st.ForwardSeconds, st.LossSeconds, st.BackwardSeconds, st.AdamSeconds, st.DensifySeconds,
		res.Cloud.Len(), res.FinalLoss, cpu, cres.Cloud.Len(), cres.FinalLoss)
}

// BenchmarkFitIterChunk is BenchmarkFitIter4x256_50k's device time per
// iteration at several chunk lengths of the fit path's raster (fitChunkLen;
// the CPU comparison left out).
func BenchmarkFitIterChunk(b *testing.B) {
	d := openDevice(b)
	views := benchViews(b, 256)
	opt := fit.DefaultOptions()
	opt.InitCount = 50_000
	opt.MaxGaussians = 0
	opt.DensifyInterval = 0
	opt.Iterations = 100
	for _, l := range []int{64, 128, 256, 1 << 30} {
		b.Run(fmt.Sprintf("len%d", l), func(b *testing.B) {
			old := fitChunkLen
			fitChunkLen = l
			defer func() { fitChunkLen = old }()
			var dev float64
			var runs int
			for b.Loop() {
				res, err := d.FitBatch(context.Background(), views, opt, 4, quietLog(), nil)
				if err != nil {
					b.Fatal(err)
				}
				dev += phaseSeconds(res.Stats) / float64(res.Iterations) * 1e3
				runs++
			}
			b.ReportMetric(dev/float64(runs), "device-ms/iter")
		})
	}
}
