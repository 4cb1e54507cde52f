package splat

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// gradScene makes a few large, well-inside-the-view Gaussians chosen to stay
// away from the forward pass's discontinuities: opacities in [0.3, 0.8] (α
// never reaches its clamp, T never reaches 1e-4 with so few layers), DC
// colours in [0.2, 0.8] with small higher bands (no colour clamp), centres
// near the optical axis (no frustum clamp).
func gradScene(seed uint64, n, deg int) *Cloud {
	rng := rand.New(rand.NewPCG(seed, 5))
	c := NewCloud(n, deg)
	k := c.K()
	for i := range n {
		for a := range 3 {
			c.Pos[3*i+a] = float32(0.5 * (rng.Float64() - 0.5))
			c.LogScale[3*i+a] = float32(math.Log(0.12 + 0.15*rng.Float64()))
		}
		for a := range 4 {
			c.Rot[4*i+a] = float32(rng.NormFloat64())
		}
		c.OpacityLogit[i] = Logit(float32(0.3 + 0.5*rng.Float64()))
		for ch := range 3 {
			c.SH[3*k*i+ch] = float32((0.2 + 0.6*rng.Float64() - 0.5) / shC0)
		}
		for j := 3; j < 3*k; j++ {
			c.SH[3*k*i+j] = float32(0.08 * rng.NormFloat64())
		}
	}
	return c
}

// TestBackwardFiniteDifferences checks every gradient of
// L = Σ w·RGB + Σ v·alpha (random w, v) against central differences of the
// float64 reference forward pass, for every parameter of small random
// scenes on a 24×20 image (2×2 tiles, so tile edges are crossed).
//
// Tolerance: |analytic − numeric| ≤ 2e-3·max(|numeric|, 0.05·scale) + 1e-5,
// where scale is the largest |numeric| of that parameter group. The
// numeric side is float64 with h = 1e-5 (truncation error ~h², round-off
// ~1e-11/h); the analytic side runs in float32 and sums a few hundred
// per-pixel terms of random sign, so relative errors up to ~1e-4 of the
// group's scale are expected. A wrong term (a missing factor, a sign, a
// dropped path) shows up as O(1) relative error.
func TestBackwardFiniteDifferences(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		seed uint64
		n    int
		deg  int
		mode Mode
	}{
		{"classic sh0", 11, 4, 0, ModeClassic},
		{"gsplat sh0", 12, 4, 0, ModeGsplat},
		{"classic sh1", 13, 3, 1, ModeClassic},
		{"classic sh3", 14, 3, 3, ModeClassic},
		{"gsplat sh2", 15, 3, 2, ModeGsplat},
	}
	groups := []string{"pos", "logScale", "rot", "opacityLogit", "sh"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := gradScene(tt.seed, tt.n, tt.deg)
			cam := LookAt([3]float64{0.3, 0.4, 2.2}, [3]float64{0, 0, 0}, [3]float64{0, 1, 0}, 24, 20, 50)
			bg := [3]float32{0.3, 0.6, 0.9}
			opt := RenderOptions{Background: bg, Mode: tt.mode, SHDegree: -1, Workers: 2}
			rng := rand.New(rand.NewPCG(tt.seed, 77))
			wRGB := make([]float32, 3*24*20)
			wA := make([]float32, 24*20)
			for i := range wRGB {
				wRGB[i] = float32(2*rng.Float64() - 1)
			}
			for i := range wA {
				wA[i] = float32(2*rng.Float64() - 1)
			}
			im, tr, err := Forward(context.Background(), c, cam, opt)
			if err != nil {
				t.Fatal(err)
			}
			g := NewGrads(c)
			if err := Backward(context.Background(), tr, wRGB, wA, g); err != nil {
				t.Fatal(err)
			}
			for i, v := range g.Visible {
				if !v {
					t.Fatalf("Gaussian %d not visible: the scene does not test it", i)
				}
			}
			_ = im
			ref := toRef(c)
			loss := func() float64 {
				rgb, alpha := refRender(ref, cam, tt.mode, [3]float64{0.3, 0.6, 0.9}, tt.deg)
				var l float64
				for i, v := range rgb {
					l += float64(wRGB[i]) * v
				}
				for i, v := range alpha {
					l += float64(wA[i]) * v
				}
				return l
			}
			analytic := [][]float32{g.Pos, g.LogScale, g.Rot, g.OpacityLogit, g.SH}
			const h = 1e-5
			for gi, par := range ref.params() {
				num := make([]float64, len(par))
				scale := 0.0
				for j := range par {
					orig := par[j]
					par[j] = orig + h
					lp := loss()
					par[j] = orig - h
					lm := loss()
					par[j] = orig
					num[j] = (lp - lm) / (2 * h)
					scale = max(scale, math.Abs(num[j]))
				}
				if scale == 0 {
					t.Errorf("%s: all numeric gradients are zero", groups[gi])
				}
				bad := 0
				for j := range par {
					a := float64(analytic[gi][j])
					tol := 2e-3*max(math.Abs(num[j]), 0.05*scale) + 1e-5
					if math.Abs(a-num[j]) > tol {
						if bad < 5 {
							t.Errorf("%s[%d]: analytic %.6g, numeric %.6g", groups[gi], j, a, num[j])
						}
						bad++
					}
				}
				if bad > 0 {
					t.Errorf("%s: %d of %d gradients off (scale %.3g)", groups[gi], bad, len(par), scale)
				}
			}
		})
	}
}

// Backward gives the same gradient, bit for bit, every run with the same
// workers: a fit's result must not depend on which goroutine came free
// first. Many workers on few cores and Gaussians that span many tiles make
// any order-dependent sum show.
func TestBackwardDeterministic(t *testing.T) {
	c := gradScene(21, 400, 1)
	cam := LookAt([3]float64{0.3, 0.4, 2.2}, [3]float64{0, 0, 0}, [3]float64{0, 1, 0}, 160, 128, 150)
	opt := RenderOptions{Mode: ModeGsplat, SHDegree: -1, Workers: 7}
	rng := rand.New(rand.NewPCG(21, 5))
	dRGB := make([]float32, 3*160*128)
	for i := range dRGB {
		dRGB[i] = float32(2*rng.Float64() - 1)
	}
	var first *Grads
	for run := range 12 {
		_, tr, err := Forward(context.Background(), c, cam, opt)
		if err != nil {
			t.Fatal(err)
		}
		g := NewGrads(c)
		if err := Backward(context.Background(), tr, dRGB, nil, g); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = g
			continue
		}
		for name, pair := range map[string][2][]float32{
			"pos": {first.Pos, g.Pos}, "logScale": {first.LogScale, g.LogScale}, "rot": {first.Rot, g.Rot},
			"opacityLogit": {first.OpacityLogit, g.OpacityLogit}, "sh": {first.SH, g.SH},
		} {
			if !slices.Equal(pair[0], pair[1]) {
				t.Fatalf("run %d: the %s gradient differs from run 0's", run, name)
			}
		}
	}
}
