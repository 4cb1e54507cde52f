package splat

import (
	"context"
	"math/rand/v2"
	"testing"
)

// benchCloud is a validator-like object: n random Gaussians in a ball,
// normalised as the validator does (extent 1.5), σ ≈ 0.015 before
// normalisation (a few pixels at 518²).
func benchCloud(n, deg int) *Cloud {
	c := randomCloud(rand.New(rand.NewPCG(42, 1)), n, deg, 0.7, 0.015)
	NormalizeForValidator(c)
	return c
}

// BenchmarkRenderValidator16 renders the validator's 16 views (518², gsplat
// mode, SH 0, white background) of a 50k-Gaussian cloud per iteration.
func BenchmarkRenderValidator16(b *testing.B) {
	c := benchCloud(50_000, 0)
	cams := ValidatorCameras()
	opt := RenderOptions{Background: [3]float32{1, 1, 1}, Mode: ModeGsplat, SHDegree: 0}
	ctx := context.Background()
	var evals int64
	b.ReportAllocs()
	for b.Loop() {
		_, e, err := renderBatch(ctx, c, cams, opt)
		if err != nil {
			b.Fatal(err)
		}
		evals += e
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N*len(cams))/s, "views/s")
	b.ReportMetric(float64(evals)/s, "gauss-px/s")
	b.ReportMetric(float64(evals)/float64(b.N*len(cams)*ValidatorSize*ValidatorSize), "gauss-px/px")
}

// BenchmarkForwardBackward runs one forward and one backward pass at 4
// views × 256² of a 20k-Gaussian SH-3 cloud (classic mode, as fitting
// does) per iteration.
func BenchmarkForwardBackward(b *testing.B) {
	c := benchCloud(20_000, 3)
	cams := OrbitCameras(4, ValidatorRadius, ValidatorElevation, ValidatorFOVDeg, 256, 256)
	opt := RenderOptions{Background: [3]float32{1, 1, 1}, Mode: ModeClassic, SHDegree: -1}
	ctx := context.Background()
	g := NewGrads(c)
	dRGB := make([]float32, 3*256*256)
	dA := make([]float32, 256*256)
	for i := range dRGB {
		dRGB[i] = float32(i%7) * 0.01
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, cam := range cams {
			_, tr, err := Forward(ctx, c, cam, opt)
			if err != nil {
				b.Fatal(err)
			}
			if err := Backward(ctx, tr, dRGB, dA, g); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(cams))/b.Elapsed().Seconds(), "views/s")
}
