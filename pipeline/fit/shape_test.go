package fit

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/splatbench/splatbench/pipeline/splat"
)

func TestKeepShape(t *testing.T) {
	depth := [3]float64{0, 0, 1}
	one := func() *splat.Cloud {
		c := splat.NewCloud(1, 0)
		c.LogScale[0], c.LogScale[1], c.LogScale[2] = 0, float32(math.Log(0.1)), float32(math.Log(3))
		c.Pos[2] = 5
		c.OpacityLogit[0] = splat.Logit(0.05)
		return c
	}
	tests := []struct {
		name  string
		s     ShapeOptions
		check func(t *testing.T, c *splat.Cloud)
	}{
		{"anisotropy", ShapeOptions{MaxAnisotropy: 4}, func(t *testing.T, c *splat.Cloud) {
			s := c.Scale(0)
			if r := max(s[0], s[1], s[2]) / min(s[0], s[1], s[2]); r > 4.0001 {
				t.Errorf("ratio %v, want ≤ 4", r)
			}
		}},
		{"depth sigma", ShapeOptions{Depth: depth, MaxDepthSigma: 0.5}, func(t *testing.T, c *splat.Cloud) {
			// Identity rotation: axis 2 lies along depth.
			if s := c.Scale(0); s[2] > 0.5001 || s[0] < 0.999 {
				t.Errorf("scales %v: want z ≤ 0.5 and x kept", s)
			}
		}},
		{"depth range", ShapeOptions{Depth: depth, DepthRange: func([3]float64) (float64, float64) { return -1, 1 }, AnchorBand: 0.5},
			func(t *testing.T, c *splat.Cloud) {
				if z := c.Pos[2]; math.Abs(float64(z)-1.5) > 1e-6 {
					t.Errorf("z %v, want 1.5 (slab 1 + band 0.5)", z)
				}
			}},
		{"anchor", ShapeOptions{Anchor: []float32{0, 0, 2}, AnchorRadius: 1}, func(t *testing.T, c *splat.Cloud) {
			if z := c.Pos[2]; math.Abs(float64(z)-3) > 1e-6 {
				t.Errorf("z %v, want 3 (anchor 2 + radius 1)", z)
			}
		}},
		{"opacity", ShapeOptions{MinOpacity: 0.5}, func(t *testing.T, c *splat.Cloud) {
			if o := c.Opacity(0); o < 0.4999 {
				t.Errorf("opacity %v, want ≥ 0.5", o)
			}
		}},
		{"off", ShapeOptions{}, func(t *testing.T, c *splat.Cloud) {
			if c.Pos[2] != 5 || c.Opacity(0) > 0.06 {
				t.Errorf("zero options changed the cloud")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.s.validate(); err != nil {
				t.Fatal(err)
			}
			c := one()
			KeepShape(c, tc.s, 0)
			tc.check(t, c)
		})
	}
}

func TestCapDepthSigmaRotated(t *testing.T) {
	// A needle along x rotated 90° about y points along z (depth).
	ls := []float32{float32(math.Log(2)), float32(math.Log(0.1)), float32(math.Log(0.1))}
	h := float32(math.Sqrt(0.5))
	q := []float32{h, 0, h, 0}
	capDepthSigma(ls, q, [3]float64{0, 0, 1}, 0.3)
	if s := math.Exp(float64(ls[0])); math.Abs(s-0.3) > 1e-3 {
		t.Errorf("needle scale %v, want 0.3", s)
	}
}

func TestShapeValidate(t *testing.T) {
	for _, s := range []ShapeOptions{
		{MaxAnisotropy: 0.5},
		{MaxDepthSigma: -1, MinOpacity: 0.1},
		{MinOpacity: 1},
		{MaxDepthSigma: 1, Depth: [3]float64{0, 0, 2}},
		{Anchor: []float32{0, 0, 0}, AnchorRadius: math.NaN()},
	} {
		o := DefaultOptions()
		o.Shape = s
		if err := o.Validate(); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%+v: %v, want ErrInvalidOptions", s, err)
		}
	}
}

// TestFitFromInit: a fit with Options.Init starts from a copy of that
// cloud (same count, nothing moved by zero iterations) and with Shape the
// result keeps every centre in the slab.
func TestFitFromInit(t *testing.T) {
	init := splat.NewCloud(50, 0)
	for i := range 50 {
		init.Pos[3*i] = float32(i%10)/10 - 0.45
		init.Pos[3*i+1] = float32(i/10)/10 - 0.25
		init.LogScale[3*i], init.LogScale[3*i+1], init.LogScale[3*i+2] = -3, -3, -3
		init.OpacityLogit[i] = splat.Logit(0.8)
	}
	cam := splat.LookAt([3]float64{0, 0, 3}, [3]float64{}, [3]float64{0, 1, 0}, 24, 24, 40)
	v := View{Camera: cam, RGB: make([]float32, 3*24*24), Alpha: make([]float32, 24*24)}
	for i := range v.Alpha {
		v.Alpha[i] = 1
	}
	opt := DefaultOptions()
	opt.Init, opt.Iterations, opt.DensifyInterval, opt.Resolution = init, 0, 0, 0
	res, err := Fit(context.Background(), []View{v}, opt, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Cloud.Len() != 50 || res.Cloud.Pos[3] != init.Pos[3] || &res.Cloud.Pos[0] == &init.Pos[0] {
		t.Fatalf("zero iterations: %d Gaussians, not a copy of Init", res.Cloud.Len())
	}
	opt.Iterations = 20
	opt.Shape = ShapeOptions{Depth: [3]float64{0, 0, -1}, DepthRange: func([3]float64) (float64, float64) { return -0.01, 0.01 }}
	res, err = Fit(context.Background(), []View{v}, opt, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Cloud.Len() {
		if z := res.Cloud.Pos[3*i+2]; math.Abs(float64(z)) > 0.0101 {
			t.Fatalf("Gaussian %d left the slab: z = %v", i, z)
		}
	}
}

// TestKeepShapeSplit: the projections of a cloud split over goroutines
// equal those made on one, Gaussian by Gaussian, and reach every one.
func TestKeepShapeSplit(t *testing.T) {
	const n = 3*shapeChunk + 17
	rng := rand.New(rand.NewPCG(1, 2))
	c := splat.NewCloud(n, 0)
	for i := range c.Pos {
		c.Pos[i] = float32(rng.NormFloat64())
		c.LogScale[i] = float32(rng.NormFloat64() - 1)
	}
	for i := range c.Rot {
		c.Rot[i] = float32(rng.NormFloat64())
	}
	for i := range c.OpacityLogit {
		c.OpacityLogit[i] = float32(rng.NormFloat64() * 3)
	}
	s := ShapeOptions{
		Depth: [3]float64{0, 0, 1}, MaxAnisotropy: 2, MaxDepthSigma: 0.2,
		DepthRange: func(p [3]float64) (float64, float64) { return -0.3 + 0.1*p[0], 0.3 }, AnchorBand: 0.05,
		Anchor: make([]float32, 3*n), AnchorRadius: 1.5, MinOpacity: 0.3,
	}
	want := c.Clone()
	for i := range n {
		one := splat.NewCloud(1, 0)
		copy(one.Pos, want.Pos[3*i:3*i+3])
		copy(one.LogScale, want.LogScale[3*i:3*i+3])
		copy(one.Rot, want.Rot[4*i:4*i+4])
		one.OpacityLogit[0] = want.OpacityLogit[i]
		si := s
		si.Anchor = s.Anchor[3*i : 3*i+3]
		KeepShape(one, si, 1)
		copy(want.Pos[3*i:3*i+3], one.Pos)
		copy(want.LogScale[3*i:3*i+3], one.LogScale)
		want.OpacityLogit[i] = one.OpacityLogit[0]
	}
	if cmp.Equal(want, c) {
		t.Fatal("the projections changed nothing: the test checks nothing")
	}
	for _, workers := range []int{1, 3, 4, 64} {
		got := c.Clone()
		KeepShape(got, s, workers)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("workers %d: the split cloud differs from one projected Gaussian by Gaussian (-want +got):\n%s", workers, d)
		}
	}
}
