package splat

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
)

func renderBoth(t *testing.T, c *Cloud, cam Camera) (classic, gsplat *Image) {
	t.Helper()
	var out [2]*Image
	for i, m := range []Mode{ModeClassic, ModeGsplat} {
		im, err := Render(context.Background(), c, cam, RenderOptions{Background: [3]float32{1, 1, 1}, Mode: m})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = im
	}
	return out[0], out[1]
}

// TestModesAgreeWhereConstantsAgree: on a one-tile image, with every
// Gaussian well past both near planes, opacities ≤ 0.35 (so α never reaches
// either clamp, T never reaches 1e-4 and the Inria 3σ box contains the whole
// α ≥ 1/255 ellipse, as gsplat's box does), the two modes run the same
// arithmetic and must agree bit for bit.
func TestModesAgreeWhereConstantsAgree(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 3))
	c := randomCloud(rng, 80, 1, 0.5, 0.1)
	for i := range c.OpacityLogit {
		c.OpacityLogit[i] = Logit(float32(0.05 + 0.3*rng.Float64()))
	}
	cam := LookAt([3]float64{0, 0.3, 2.5}, [3]float64{}, [3]float64{0, 1, 0}, 16, 16, 50)
	a, b := renderBoth(t, c, cam)
	if m := slices.Max(a.Alpha); m < 0.3 {
		t.Fatalf("max α %v: the scene is too faint to test anything", m)
	}
	if !slices.Equal(a.RGB, b.RGB) || !slices.Equal(a.Alpha, b.Alpha) {
		t.Errorf("classic and gsplat differ where their constants agree")
	}
}

// TestModeDifferences pins each documented difference between the modes.
func TestModeDifferences(t *testing.T) {
	t.Parallel()
	cam := LookAt([3]float64{0, 0, 2}, [3]float64{}, [3]float64{0, 1, 0}, 32, 32, 50)
	centre := func(im *Image) float32 { return im.Alpha[16*32+16] }
	t.Run("alpha clamp 0.99 vs 0.999", func(t *testing.T) {
		t.Parallel()
		c := cloudOf([]blob{{pos: [3]float32{0, 0, 0}, sigma: 1.5, op: 0.99999, rgb: [3]float32{0, 0, 0}}})
		a, b := renderBoth(t, c, cam)
		if got := centre(a); got < 0.98999 || got > 0.99001 {
			t.Errorf("classic centre α = %v, want 0.99", got)
		}
		if got := centre(b); got < 0.99899 || got > 0.99901 {
			t.Errorf("gsplat centre α = %v, want 0.999", got)
		}
	})
	t.Run("near plane 0.2 vs 0.01", func(t *testing.T) {
		t.Parallel()
		c := cloudOf([]blob{{pos: [3]float32{0, 0, 1.9}, sigma: 0.02, op: 0.9, rgb: [3]float32{0, 0, 0}}}) // z_view = 0.1
		a, b := renderBoth(t, c, cam)
		if centre(a) != 0 || centre(b) < 0.5 {
			t.Errorf("centre α classic %v (want 0: culled), gsplat %v (want visible)", centre(a), centre(b))
		}
	})
	t.Run("stop at T<1e-4 vs T<=1e-4", func(t *testing.T) {
		t.Parallel()
		if (&modeParams{}).stops(tStop) || !(&modeParams{stopInclusive: true}).stops(tStop) {
			t.Error("stop rule: classic must continue at T = 1e-4, gsplat must stop")
		}
	})
	t.Run("opacity below 1/255", func(t *testing.T) {
		t.Parallel()
		c := cloudOf([]blob{{pos: [3]float32{0, 0, 0}, sigma: 0.3, op: 0.003, rgb: [3]float32{0, 0, 0}}})
		for _, m := range []Mode{ModeClassic, ModeGsplat} {
			_, tr, err := Forward(context.Background(), c, cam, RenderOptions{Mode: m})
			if err != nil {
				t.Fatal(err)
			}
			g := NewGrads(c)
			if err := Backward(context.Background(), tr, make([]float32, 3*32*32), nil, g); err != nil {
				t.Fatal(err)
			}
			if want := m == ModeClassic; g.Visible[0] != want {
				t.Errorf("%v: Visible = %v, want %v (gsplat culls o < 1/255, Inria keeps it)", m, g.Visible[0], want)
			}
		}
	})
}
