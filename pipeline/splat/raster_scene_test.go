package splat

import (
	"math"
	"math/rand/v2"
)

// blob is one isotropic test Gaussian in activated units.
type blob struct {
	pos   [3]float32
	sigma float32
	op    float32
	rgb   [3]float32
}

// cloudOf builds an SH-0 cloud whose DC terms give the blobs' colours.
func cloudOf(blobs []blob) *Cloud {
	c := NewCloud(len(blobs), 0)
	for i, b := range blobs {
		copy(c.Pos[3*i:], b.pos[:])
		ls := float32(math.Log(float64(b.sigma)))
		c.LogScale[3*i], c.LogScale[3*i+1], c.LogScale[3*i+2] = ls, ls, ls
		c.OpacityLogit[i] = Logit(b.op)
		for ch := range 3 {
			c.SH[3*i+ch] = (b.rgb[ch] - 0.5) / shC0
		}
	}
	return c
}

// axesScene: a grey centre, red on +X, green on +Y, blue on +Z.
func axesScene() *Cloud {
	return cloudOf([]blob{
		{pos: [3]float32{0, 0, 0}, sigma: 0.08, op: 0.9, rgb: [3]float32{0.5, 0.5, 0.5}},
		{pos: [3]float32{0.5, 0, 0}, sigma: 0.06, op: 0.9, rgb: [3]float32{1, 0, 0}},
		{pos: [3]float32{0, 0.5, 0}, sigma: 0.06, op: 0.9, rgb: [3]float32{0, 1, 0}},
		{pos: [3]float32{0, 0, 0.5}, sigma: 0.06, op: 0.9, rgb: [3]float32{0, 0, 1}},
	})
}

// randomCloud makes n random Gaussians of SH degree deg in a ball of the
// given radius, with log-normal scales around sigma and opacities in
// [0.3, 0.95].
func randomCloud(rng *rand.Rand, n, deg int, radius, sigma float64) *Cloud {
	c := NewCloud(n, deg)
	k := c.K()
	for i := range n {
		for {
			x, y, z := 2*rng.Float64()-1, 2*rng.Float64()-1, 2*rng.Float64()-1
			if x*x+y*y+z*z <= 1 {
				c.Pos[3*i], c.Pos[3*i+1], c.Pos[3*i+2] = float32(x*radius), float32(y*radius), float32(z*radius)
				break
			}
		}
		for a := range 3 {
			c.LogScale[3*i+a] = float32(math.Log(sigma) + 0.4*rng.NormFloat64())
		}
		for a := range 4 {
			c.Rot[4*i+a] = float32(rng.NormFloat64())
		}
		c.OpacityLogit[i] = Logit(float32(0.3 + 0.65*rng.Float64()))
		for j := range 3 * k {
			if j < 3 {
				c.SH[3*k*i+j] = float32((rng.Float64() - 0.5) * 2.5)
			} else {
				c.SH[3*k*i+j] = float32(rng.NormFloat64() * 0.15)
			}
		}
	}
	return c
}
