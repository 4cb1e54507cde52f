package fit

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// benchViews renders a 300-Gaussian ground truth from 4 orbit views at the
// validator's radius and field of view.
func benchViews(b *testing.B, size int) []View {
	b.Helper()
	gt := groundTruth(300, 3)
	views, _ := renderViews(b, gt, splat.OrbitCameras(4, 2.5, -15, 49.1, size, size))
	return views
}

// BenchmarkFitIteration times one iteration (forward, loss, backward,
// Adam; no densification) at 256² with 15 000 Gaussians from a sphere init,
// cycling through 4 views.
func BenchmarkFitIteration(b *testing.B) {
	const n = 15000
	views := benchViews(b, 256)
	opt := DefaultOptions()
	opt.InitCount = n
	opt.DensifyInterval = 0
	rng := rand.New(rand.NewPCG(1, 1))
	cloud := initSphere(n, opt.InitRadius, 0, rng)
	targets := make([]*target, len(views))
	for i, v := range views {
		targets[i] = newTarget(v, opt.Background, 0)
	}
	f := newFitter(newState(cloud), views, targets, 256*256, opt, rng, slog.New(slog.DiscardHandler))
	var st Stats
	ctx := context.Background()
	// Warm up past the first few steps, where the sphere init is at its
	// blurriest.
	for it := 1; it <= 4; it++ {
		if _, err := f.step(ctx, it, &st); err != nil {
			b.Fatal(err)
		}
	}
	st = Stats{}
	it := 4
	b.ResetTimer()
	for b.Loop() {
		it++
		if _, err := f.step(ctx, it, &st); err != nil {
			b.Fatal(err)
		}
	}
	iters := float64(it - 4)
	sec := b.Elapsed().Seconds()
	b.ReportMetric(iters/sec, "iters/s")
	b.ReportMetric(st.ForwardSeconds/iters*1e3, "fwd-ms/iter")
	b.ReportMetric(st.BackwardSeconds/iters*1e3, "bwd-ms/iter")
	b.ReportMetric(st.LossSeconds/iters*1e3, "loss-ms/iter")
	b.ReportMetric(st.AdamSeconds/iters*1e3, "adam-ms/iter")
	b.ReportMetric(float64(cloud.Len()), "gaussians")
}

// BenchmarkFitScene runs a whole fit at the default sweep's smallest
// setting (configs/presets/sweep-default.yaml with the default profile):
// 50 iterations, 1000 initial Gaussians, 4 views at 128², densify every 50
// from 0, λ_alpha 1.
func BenchmarkFitScene(b *testing.B) {
	views := benchViews(b, 128)
	opt := DefaultOptions()
	opt.Iterations = 50
	opt.InitCount = 1000
	opt.Resolution = 128
	opt.DensifyFrom, opt.DensifyInterval = 0, 50
	opt.LambdaAlpha = 1
	var res *Result
	for b.Loop() {
		var err error
		res, err = Fit(context.Background(), views, opt, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/fit")
	b.ReportMetric(float64(res.Cloud.Len()), "gaussians")
	b.ReportMetric(res.FinalLoss, "final-loss")
}

// BenchmarkLoss256 times the loss and its gradient (L1 + D-SSIM + alpha)
// on one 256² view.
func BenchmarkLoss256(b *testing.B) {
	r := rand.New(rand.NewPCG(4, 4))
	const w = 256
	view := View{RGB: randImage(r, 3*w*w, 0, 1), Alpha: randImage(r, w*w, 0, 1)}
	view.Camera.Width, view.Camera.Height = w, w
	tgt := newTarget(view, white, 0)
	rgb, alpha := randImage(r, 3*w*w, 0, 1), randImage(r, w*w, 0, 1)
	dRGB, dA := make([]float32, 3*w*w), make([]float32, w*w)
	cfg := lossConfig{lambdaDSSIM: 0.2, lambdaAlpha: 0.1}
	var s ssimScratch
	for b.Loop() {
		if _, err := tgt.loss(rgb, alpha, dRGB, dA, cfg, &s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "losses/s")
}

// BenchmarkAreaPriorCost times one fit iteration at 128² (4 views, 8000
// Gaussians from a sphere init, no densification) without and with the
// area prior (weight 0.1, 16² prior renders, the four-view test's
// setting), alternating the two in each loop, and reports the ratio.
func BenchmarkAreaPriorCost(b *testing.B) {
	const n = 8000
	views := benchViews(b, 128)
	fitters := make([]*fitter, 2)
	for i, weight := range []float64{0, 0.1} {
		opt := DefaultOptions()
		opt.InitCount = n
		opt.DensifyInterval = 0
		opt.AreaPriorWeight, opt.AreaPriorSize = weight, 16
		rng := rand.New(rand.NewPCG(1, 1))
		targets := make([]*target, len(views))
		for j, v := range views {
			targets[j] = newTarget(v, opt.Background, 0)
		}
		fitters[i] = newFitter(newState(initSphere(n, opt.InitRadius, 0, rng)), views, targets, 128*128, opt, rng, slog.New(slog.DiscardHandler))
	}
	ctx := context.Background()
	var st Stats
	var secs [2]float64
	it := 0
	for b.Loop() {
		it++
		for i, f := range fitters {
			start := time.Now()
			if _, err := f.step(ctx, it, &st); err != nil {
				b.Fatal(err)
			}
			secs[i] += time.Since(start).Seconds()
		}
	}
	b.ReportMetric(secs[0]/float64(it)*1e3, "plain-ms/iter")
	b.ReportMetric(secs[1]/float64(it)*1e3, "prior-ms/iter")
	b.ReportMetric(secs[1]/secs[0], "prior/plain")
}
