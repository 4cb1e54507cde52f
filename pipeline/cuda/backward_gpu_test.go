//go:build gpu

package cuda

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// TestBackwardMatchesCPU compares every gradient group and the
// densification statistics of the device Backward with splat.Backward for
// L = Σ w·RGB + Σ v·alpha with random w, v, summed over the views.
// Tolerance: ‖gpu − cpu‖/‖cpu‖ ≤ 2e-3 per group (both float32; the
// device sums per-pixel terms in another order with atomics).
func TestBackwardMatchesCPU(t *testing.T) {
	d := openDevice(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		n, deg int
		mode   splat.Mode
		views  int
		w, h   int
	}{
		{"classic sh0", 500, 0, splat.ModeClassic, 2, 64, 48},
		{"gsplat sh0", 500, 0, splat.ModeGsplat, 3, 80, 80},
		{"classic sh3", 300, 3, splat.ModeClassic, 2, 72, 56},
		{"gsplat sh1", 2000, 1, splat.ModeGsplat, 4, 128, 128},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := randomCloud(uint64(200+i), tt.n, tt.deg, 0.5, 0.06)
			cams := splat.OrbitCameras(tt.views, 2.0, -15, 50, tt.w, tt.h)
			opt := splat.RenderOptions{Background: [3]float32{0.3, 0.6, 0.9}, Mode: tt.mode, SHDegree: -1}
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			npix := tt.w * tt.h
			dRGB, dA := randomUpstream(rng, tt.views, npix)
			want := splat.NewGrads(c)
			for v := range tt.views {
				_, tr, err := splat.Forward(ctx, c, cams[v], opt)
				if err != nil {
					t.Fatal(err)
				}
				if err := splat.Backward(ctx, tr, dRGB[v], dA[v], want); err != nil {
					t.Fatal(err)
				}
			}
			dc, err := d.Upload(c)
			if err != nil {
				t.Fatal(err)
			}
			defer dc.Free()
			_, tr, err := d.Forward(ctx, dc, cams, opt)
			if err != nil {
				t.Fatal(err)
			}
			got := splat.NewGrads(c)
			if err := d.Backward(ctx, tr, dRGB, dA, got); err != nil {
				t.Fatal(err)
			}
			checkGrads(t, got, want, 2e-3, "the CPU")
			for j := range got.Visible {
				if got.Visible[j] != want.Visible[j] {
					t.Errorf("Gaussian %d: visible %v, CPU %v", j, got.Visible[j], want.Visible[j])
					break
				}
			}
			if _, err := d.Render(ctx, c, cams[:1], opt); err != nil {
				t.Fatal(err)
			}
			if err := d.Backward(ctx, tr, dRGB, dA, got); err != ErrStaleTrace {
				t.Errorf("Backward after another render: %v, want ErrStaleTrace", err)
			}
		})
	}
}

// TestAdamStep runs one Backward and one device Adam step and checks the
// new parameters against the update rule evaluated in float64 on the host.
func TestAdamStep(t *testing.T) {
	d := openDevice(t)
	ctx := context.Background()
	c := randomCloud(31, 800, 1, 0.5, 0.06)
	cams := splat.OrbitCameras(2, 2.0, -15, 50, 64, 64)
	opt := splat.RenderOptions{Mode: splat.ModeClassic, SHDegree: -1}
	dc, err := d.Upload(c)
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Free()
	ad, err := d.NewAdam(dc)
	if err != nil {
		t.Fatal(err)
	}
	defer ad.Free()
	ims, tr, err := d.Forward(ctx, dc, cams, opt)
	if err != nil {
		t.Fatal(err)
	}
	dRGB := make([][]float32, len(cams))
	for v := range cams {
		dRGB[v] = make([]float32, len(ims[v].RGB))
		for j, x := range ims[v].RGB {
			dRGB[v][j] = 2 * (x - 0.5)
		}
	}
	g := splat.NewGrads(c)
	if err := d.Backward(ctx, tr, dRGB, nil, g); err != nil {
		t.Fatal(err)
	}
	lr := LearningRates{Pos: 1e-3, SHDC: 5e-3, SHRest: 2.5e-4, Opacity: 5e-2, Scale: 5e-3, Rot: 1e-3}
	if err := ad.Step(lr); err != nil {
		t.Fatal(err)
	}
	got, err := dc.Download()
	if err != nil {
		t.Fatal(err)
	}
	// Step 1: m = 0.1 g, v = 0.001 g², bc1 = 0.1, bc2 = 0.001.
	upd := func(p, g float32, rate float64) float32 {
		m, v := 0.1*float64(g), 0.001*float64(g)*float64(g)
		return float32(float64(p) - rate/0.1*m/(math.Sqrt(v)/math.Sqrt(0.001)+1e-15))
	}
	k := c.K()
	for _, grp := range []struct {
		name      string
		p, g, got []float32
		rate      func(i int) float64
	}{
		{"pos", c.Pos, g.Pos, got.Pos, func(int) float64 { return lr.Pos }},
		{"scale", c.LogScale, g.LogScale, got.LogScale, func(int) float64 { return lr.Scale }},
		{"rot", c.Rot, g.Rot, got.Rot, func(int) float64 { return lr.Rot }},
		{"opacity", c.OpacityLogit, g.OpacityLogit, got.OpacityLogit, func(int) float64 { return lr.Opacity }},
		{"sh", c.SH, g.SH, got.SH, func(i int) float64 {
			if i%(3*k) < 3 {
				return lr.SHDC
			}
			return lr.SHRest
		}},
	} {
		want := make([]float32, len(grp.p))
		for i := range want {
			want[i] = upd(grp.p[i], grp.g[i], grp.rate(i))
		}
		if e := relErr(grp.got, want); e > 1e-5 {
			t.Errorf("%s: relative error %.2e after one Adam step", grp.name, e)
		}
	}
}
