package fit

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// TestAreaPriorCameras checks the prior's cameras: at the training
// cameras' mean distance, looking at the origin (which projects to the
// image centre), with directions from both hemispheres.
func TestAreaPriorCameras(t *testing.T) {
	t.Parallel()
	gt := groundTruth(8, 1)
	cams := splat.OrbitCameras(3, 2.5, -20, 49.1, 24, 24)
	views, _ := renderViews(t, gt, cams)
	o := DefaultOptions()
	o.AreaPriorWeight, o.AreaPriorSize = 0.1, 16
	p := newAreaPrior(views, o)
	if math.Abs(p.radius-2.5) > 1e-9 || math.Abs(p.fovY-49.1) > 1e-6 {
		t.Fatalf("prior radius %v fov %v, want 2.5 and 49.1", p.radius, p.fovY)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	above, below := 0, 0
	for range 200 {
		c := p.camera(rng)
		pos := c.Position()
		if r := math.Sqrt(pos[0]*pos[0] + pos[1]*pos[1] + pos[2]*pos[2]); math.Abs(r-2.5) > 1e-9 {
			t.Fatalf("camera at distance %v, want 2.5", r)
		}
		// The origin in camera space is T; it must be straight ahead.
		if c.Width != 16 || math.Abs(c.T[0]) > 1e-9 || math.Abs(c.T[1]) > 1e-9 || c.T[2] <= 0 {
			t.Fatalf("camera %dx%d, origin at camera-space %v: not looking at the origin", c.Width, c.Height, c.T)
		}
		if pos[1] > 0 {
			above++
		} else {
			below++
		}
	}
	if above < 60 || below < 60 {
		t.Errorf("directions: %d above, %d below of 200: not uniform on the sphere", above, below)
	}
}

// TestAreaPriorStep checks that the prior's gradient lowers its own loss
// (a small step along −gradient on the same random view) and leaves the
// densification statistics alone.
func TestAreaPriorStep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		weight float64
	}{{"weight 0.1", 0.1}, {"weight 1", 1}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := groundTruth(40, 2)
			views, _ := renderViews(t, c, splat.OrbitCameras(2, 2.5, -15, 49.1, 24, 24))
			o := DefaultOptions()
			o.AreaPriorWeight, o.AreaPriorSize, o.Workers = tc.weight, 24, 1
			p := newAreaPrior(views, o)
			g := splat.NewGrads(c)
			l0, err := p.step(context.Background(), c, rand.New(rand.NewPCG(5, 6)), g)
			if err != nil {
				t.Fatal(err)
			}
			if !(l0 > 0 && l0 <= tc.weight) {
				t.Fatalf("prior loss %v, want in (0, %v]", l0, tc.weight)
			}
			for i := range g.MeanNDC {
				if g.MeanNDC[i] != 0 || g.Visible[i] {
					t.Fatalf("Gaussian %d: densification statistics touched (%v, %v)", i, g.MeanNDC[i], g.Visible[i])
				}
			}
			norm := 0.0
			for _, v := range g.OpacityLogit {
				norm += float64(v) * float64(v)
			}
			if norm == 0 {
				t.Fatal("no opacity gradient")
			}
			step := float32(0.05 * l0 / norm)
			for i, v := range g.OpacityLogit {
				c.OpacityLogit[i] -= step * v
			}
			l1, err := p.step(context.Background(), c, rand.New(rand.NewPCG(5, 6)), splat.NewGrads(c))
			if err != nil {
				t.Fatal(err)
			}
			if !(l1 < l0) {
				t.Errorf("prior loss %v after a descent step, was %v", l1, l0)
			}
		})
	}
}

// TestFitAreaPriorLoss checks that a fit with the prior reports it as part
// of the total loss.
func TestFitAreaPriorLoss(t *testing.T) {
	t.Parallel()
	gt := groundTruth(12, 1)
	views, _ := renderViews(t, gt, splat.OrbitCameras(2, 2.5, -15, 49.1, 32, 32))
	o := tinyOptions(40)
	o.AreaPriorWeight, o.AreaPriorSize = 0.5, 16
	res, err := Fit(context.Background(), views, o, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := res.LastLoss
	if !(l.Prior > 0) || math.Abs(l.Total-(l.L1+l.DSSIM+l.Alpha+l.Prior)) > 1e-9 {
		t.Errorf("last loss %+v: prior not part of the total", l)
	}
}
