//go:build gpu

package cuda

import (
	"context"
	"testing"

	"github.com/splatbench/splatbench/pipeline/fit"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// logKernels prints the per-kernel profile, per op, and reports the sum.
func logKernels(b *testing.B, d *Device, what string, ops int) {
	d.mu.Lock()
	stats := d.kernelStats()
	d.profileKernels(false)
	d.mu.Unlock()
	var sum float64
	for _, s := range stats {
		b.Logf("%s kernel %-16s %6.1f launches/op %8.4f ms/op", what, s.Name, float64(s.Launches)/float64(ops), s.Ms/float64(ops))
		sum += s.Ms
	}
	b.Logf("%s kernels total %.4f ms/op", what, sum/float64(ops))
	b.ReportMetric(sum/float64(ops), what+"-kernel-ms/op")
}

// BenchmarkKernelTable times every kernel launch with events (the floor
// table in docs/perf/cuda-notes.md): the validator's 16 views of 200k, one
// 1080p view of 1M, and one fit iteration of 4×256² with 50k Gaussians.
func BenchmarkKernelTable(b *testing.B) {
	d := openDevice(b)
	ctx := context.Background()
	renders := []struct {
		what string
		c    *splat.Cloud
		cams []splat.Camera
		opt  splat.RenderOptions
	}{
		{"validator", randomCloud(1, 200_000, 0, 0.5, 0.008), splat.ValidatorCameras(),
			splat.RenderOptions{Background: [3]float32{1, 1, 1}, Mode: splat.ModeGsplat, SHDegree: 0}},
		{"1080p", randomCloud(2, 1_000_000, 0, 1.0, 0.004),
			[]splat.Camera{splat.LookAt([3]float64{0, 0.3, 3}, [3]float64{}, [3]float64{0, 1, 0}, 1920, 1080, 50)},
			splat.RenderOptions{Mode: splat.ModeClassic, SHDegree: 0}},
	}
	views := benchViews(b, 256)
	opt := fit.DefaultOptions()
	opt.InitCount = 50_000
	opt.MaxGaussians = 0
	opt.DensifyInterval = 0
	opt.Iterations = 20
	for b.Loop() {
		for _, r := range renders {
			dc, err := d.Upload(r.c)
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := d.RenderDevice(ctx, dc, r.cams, r.opt); err != nil { // warm-up
				b.Fatal(err)
			}
			d.mu.Lock()
			d.profileKernels(true)
			d.mu.Unlock()
			const ops = 5
			for range ops {
				if _, _, err := d.RenderDevice(ctx, dc, r.cams, r.opt); err != nil {
					b.Fatal(err)
				}
			}
			logKernels(b, d, r.what, ops)
			dc.Free()
		}
		d.mu.Lock()
		d.profileKernels(true)
		d.mu.Unlock()
		res, err := d.FitBatch(ctx, views, opt, 4, quietLog(), nil)
		if err != nil {
			b.Fatal(err)
		}
		logKernels(b, d, "fit-iter", res.Iterations)
	}
}
