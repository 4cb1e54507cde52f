//go:build gpu

package cuda

import (
	"context"
	"testing"
	"time"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// benchRender times RenderDevice on a resident cloud: the reported
// device-ms/op is the CUDA-event time of the device work, wall-ms/op adds
// the image download; cpu-ms is one splat.RenderBatch of the same views on
// all host cores, and cpu/gpu their ratio (device time).
func benchRender(b *testing.B, c *splat.Cloud, cams []splat.Camera, opt splat.RenderOptions) {
	d := openDevice(b)
	ctx := context.Background()
	dc, err := d.Upload(c)
	if err != nil {
		b.Fatal(err)
	}
	defer dc.Free()
	for range 3 { // warm-up: JIT, allocations
		if _, _, err := d.RenderDevice(ctx, dc, cams, opt); err != nil {
			b.Fatal(err)
		}
	}
	var devMs float64
	var inst int
	b.ResetTimer()
	for b.Loop() {
		_, tm, err := d.RenderDevice(ctx, dc, cams, opt)
		if err != nil {
			b.Fatal(err)
		}
		devMs += tm.DeviceMs
		inst = tm.Instances
	}
	b.StopTimer()
	d.SetProfile(true)
	_, prof, err := d.RenderDevice(ctx, dc, cams, opt)
	d.SetProfile(false)
	if err != nil {
		b.Fatal(err)
	}
	for _, st := range prof.Stages {
		b.Logf("stage %-12s %.3f ms", st.Name, st.Ms)
	}
	dev := devMs / float64(b.N)
	b.ReportMetric(dev, "device-ms/op")
	b.ReportMetric(float64(inst), "instances")
	t0 := time.Now()
	if _, err := splat.RenderBatch(ctx, c, cams, opt); err != nil {
		b.Fatal(err)
	}
	cpu := float64(time.Since(t0).Microseconds()) / 1000
	b.ReportMetric(cpu, "cpu-ms")
	b.ReportMetric(cpu/dev, "cpu/gpu")
	b.Logf("%s: %d Gaussians, %d views: device %.3f ms, CPU %.1f ms", d.Info().Name, c.Len(), len(cams), dev, cpu)
}

// BenchmarkValidator16x518_200k: the validator's 16 views (518², gsplat,
// SH 0, white) of a 200k Gaussian cloud. Goal 2 ms.
func BenchmarkValidator16x518_200k(b *testing.B) {
	c := randomCloud(1, 200_000, 0, 0.5, 0.008)
	benchRender(b, c, splat.ValidatorCameras(), splat.RenderOptions{Background: [3]float32{1, 1, 1}, Mode: splat.ModeGsplat, SHDegree: 0})
}

// Benchmark1080p_1M: one 1920×1080 view of 1M Gaussians (classic, SH 0).
// Goal 1.5 ms.
func Benchmark1080p_1M(b *testing.B) {
	c := randomCloud(2, 1_000_000, 0, 1.0, 0.004)
	cam := splat.LookAt([3]float64{0, 0.3, 3}, [3]float64{}, [3]float64{0, 1, 0}, 1920, 1080, 50)
	benchRender(b, c, []splat.Camera{cam}, splat.RenderOptions{Mode: splat.ModeClassic, SHDegree: 0})
}

// BenchmarkFwdBwd4x256_50k: one training step's Forward + Backward (with
// gradient download) at 4 views of 256² over 50k Gaussians, SH 3.
func BenchmarkFwdBwd4x256_50k(b *testing.B) {
	d := openDevice(b)
	ctx := context.Background()
	c := randomCloud(3, 50_000, 3, 0.5, 0.015)
	cams := splat.OrbitCameras(4, 2.2, -15, 50, 256, 256)
	opt := splat.RenderOptions{Mode: splat.ModeClassic, SHDegree: -1}
	dc, err := d.Upload(c)
	if err != nil {
		b.Fatal(err)
	}
	defer dc.Free()
	dRGB := make([][]float32, len(cams))
	for v := range dRGB {
		dRGB[v] = make([]float32, 3*256*256)
		for j := range dRGB[v] {
			dRGB[v][j] = float32(j%7)/7 - 0.5
		}
	}
	g := splat.NewGrads(c)
	step := func() {
		_, tr, err := d.Forward(ctx, dc, cams, opt)
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Backward(ctx, tr, dRGB, nil, g); err != nil {
			b.Fatal(err)
		}
	}
	step()
	b.ResetTimer()
	for b.Loop() {
		step()
	}
	b.StopTimer()
	gpu := float64(b.Elapsed().Microseconds()) / 1000 / float64(b.N)
	t0 := time.Now()
	cg := splat.NewGrads(c)
	for v := range cams {
		_, tr, err := splat.Forward(ctx, c, cams[v], opt)
		if err != nil {
			b.Fatal(err)
		}
		if err := splat.Backward(ctx, tr, dRGB[v], nil, cg); err != nil {
			b.Fatal(err)
		}
	}
	cpu := float64(time.Since(t0).Microseconds()) / 1000
	b.ReportMetric(cpu, "cpu-ms")
	b.ReportMetric(cpu/gpu, "cpu/gpu")
	b.Logf("%s: fwd+bwd wall %.3f ms/step, CPU %.1f ms", d.Info().Name, gpu, cpu)
}
