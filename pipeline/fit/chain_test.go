package fit

import (
	"context"
	"math"
	"testing"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// TestLossThroughRasteriserFiniteDifference checks the whole chain the fit
// differentiates — render, L1 + D-SSIM + alpha loss, splat.Backward — by
// central differences on every parameter of a few Gaussians.
func TestLossThroughRasteriserFiniteDifference(t *testing.T) {
	t.Parallel()
	gt := groundTruth(4, 5)
	cam := splat.OrbitCameras(1, 2.5, -15, 30, 24, 24)[0]
	views, _ := renderViews(t, gt, []splat.Camera{cam})
	tgt := newTarget(views[0], white, 1)
	cfg := lossConfig{lambdaDSSIM: 0.2, lambdaAlpha: 0.5, workers: 1}
	c := groundTruth(4, 6) // a different cloud, so the loss is not at its minimum
	ropt := splat.RenderOptions{Background: white, Mode: splat.ModeClassic, SHDegree: -1, Workers: 1}
	var s ssimScratch
	dR, dA := make([]float32, 3*24*24), make([]float32, 24*24)
	loss := func() float64 {
		im, err := splat.Render(context.Background(), c, cam, ropt)
		if err != nil {
			t.Fatal(err)
		}
		l, err := tgt.loss(im.RGB, im.Alpha, dR, dA, cfg, &s)
		if err != nil {
			t.Fatal(err)
		}
		return l.Total
	}
	im, tr, err := splat.Forward(context.Background(), c, cam, ropt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tgt.loss(im.RGB, im.Alpha, dR, dA, cfg, &s); err != nil {
		t.Fatal(err)
	}
	g := splat.NewGrads(c)
	if err := splat.Backward(context.Background(), tr, dR, dA, g); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		name  string
		param []float32
		grad  []float32
	}{
		{"Pos", c.Pos, g.Pos}, {"LogScale", c.LogScale, g.LogScale}, {"OpacityLogit", c.OpacityLogit, g.OpacityLogit}, {"SH", c.SH, g.SH},
	} {
		maxG := 0.0
		for _, v := range p.grad {
			maxG = math.Max(maxG, math.Abs(float64(v)))
		}
		if maxG == 0 {
			t.Fatalf("%s: all gradients are zero", p.name)
		}
		for i := range p.param {
			const eps = 1e-3
			orig := p.param[i]
			p.param[i] = orig + eps
			fp := loss()
			p.param[i] = orig - eps
			fm := loss()
			p.param[i] = orig
			fd := (fp - fm) / (2 * eps)
			if d := math.Abs(fd - float64(p.grad[i])); d > 0.05*maxG+0.05*math.Abs(fd) {
				t.Errorf("%s[%d]: analytic %g, finite difference %g", p.name, i, p.grad[i], fd)
			}
		}
	}
}
