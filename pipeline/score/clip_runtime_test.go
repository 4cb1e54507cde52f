package score

import (
	"math/rand/v2"
	"testing"

	"github.com/splatbench/splatbench/pipeline/ort"
	"github.com/splatbench/splatbench/pipeline/ort/orttest"
	"github.com/splatbench/splatbench/pipeline/splat"
)

func testRuntime(t testing.TB) *ort.Runtime { return orttest.Runtime(t) }

// testCloud is n small Gaussians in a ball: red on the left (x < 0),
// blue on the right, seeded.
func testCloud(n int) *splat.Cloud {
	r := rand.New(rand.NewPCG(1, 2))
	c := splat.NewCloud(n, 0)
	for i := range n {
		for {
			x, y, z := 2*r.Float32()-1, 2*r.Float32()-1, 2*r.Float32()-1
			if x*x+y*y+z*z <= 1 {
				c.Pos[3*i], c.Pos[3*i+1], c.Pos[3*i+2] = x, y, z
				break
			}
		}
		for a := range 3 {
			c.LogScale[3*i+a] = -3.5
		}
		c.Rot[4*i], c.Rot[4*i+1] = 1, 0.1*r.Float32()
		c.OpacityLogit[i] = 2
		if c.Pos[3*i] < 0 {
			c.SH[3*i] = 1.7 // DC: 0.5 + 0.282·1.7 ≈ 0.98
		} else {
			c.SH[3*i+2] = 1.7
		}
	}
	return c
}
