//go:build gpu

package cuda

import (
	"context"
	"fmt"
	"math"
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

// BenchmarkFitShape: a lifted job's fit (one 512² view, 41k Gaussians at
// SH degree 3, 20 iterations, no densification) with every shape
// regulariser on, against the same fit without them and with the shape
// step moving every parameter column (session 6's transfer) in the same
// run. shape-ms/iter is the regularisers' cost per iteration (the host
// round trip), all-ms/iter the same with all 59 floats a Gaussian moved.
func BenchmarkFitShape(b *testing.B) {
	d := openDevice(b)
	sc, err := scenes.Get("red-cube")
	if err != nil {
		b.Fatal(err)
	}
	cams := splat.OrbitCameras(1, 2.5, -15, 49.1, 512, 512)
	views := sceneViews(b, sc.Build(0, 0), cams)
	opt := fit.DefaultOptions()
	opt.InitCount = 41_000
	opt.MaxGaussians = 0
	opt.DensifyInterval = 0
	opt.Iterations = 20
	opt.SHDegree = 3
	pos := cams[0].Position()
	l := math.Sqrt(pos[0]*pos[0] + pos[1]*pos[1] + pos[2]*pos[2])
	shape := fit.ShapeOptions{
		Depth: [3]float64{-pos[0] / l, -pos[1] / l, -pos[2] / l}, MaxAnisotropy: 3, MaxDepthSigma: 0.04,
		DepthRange: func([3]float64) (float64, float64) { return -0.15, 0.15 }, AnchorBand: 0.02, MinOpacity: 0.4,
	}
	perIter := func(s fit.ShapeOptions) float64 {
		o := opt
		o.Shape = s
		t0 := time.Now()
		res, err := d.Fit(context.Background(), views, o, quietLog(), nil)
		if err != nil {
			b.Fatal(err)
		}
		return (time.Since(t0).Seconds() - res.Stats.InitSeconds) / float64(res.Iterations) * 1e3
	}
	var off, on, all float64
	for b.Loop() {
		off += perIter(fit.ShapeOptions{})
		on += perIter(shape)
		r, w := shapeReads, shapeWrites
		shapeReads, shapeWrites = []string{"Pos", "LogScale", "Rot", "OpacityLogit", "SH"}, []string{"Pos", "LogScale", "Rot", "OpacityLogit", "SH"}
		all += perIter(shape)
		shapeReads, shapeWrites = r, w
	}
	n := float64(b.N)
	off, on, all = off/n, on/n, all/n
	b.ReportMetric(off, "off-ms/iter")
	b.ReportMetric(on-off, "shape-ms/iter")
	b.ReportMetric(all-off, "all-ms/iter")
	b.ReportMetric((all-off)/(on-off), "all/shape")
	b.Logf("%s: 512², 41k Gaussians: %.2f ms/iter without the regularisers, +%.2f with them (+%.2f moving every column)", d.Info().Name, off, on-off, all-off)
}
