package generate

import (
	"math"
	"testing"
)

// TestRingPart: an annulus facing the camera is a torus with R+r and R−r
// from its outer and inner radii, not tilted; a disc is no ring.
func TestRingPart(t *testing.T) {
	const n = 128
	mk := func(inner float64) (*grid, []int) {
		g := &grid{N: n, In: make([]bool, n*n), Lin: make([][3]float64, n*n)}
		var cells []int
		for y := range n {
			for x := range n {
				d := math.Hypot(float64(x)+0.5-64, float64(y)+0.5-64)
				if d < 40 && d >= inner {
					i := y*n + x
					g.In[i] = true
					g.Lin[i] = [3]float64{0.1, 0.5, 0.1}
					cells = append(cells, i)
				}
			}
		}
		return g, cells
	}
	g, cells := mk(20)
	p, ok := ringPart(g, cells, DefaultOptions())
	if !ok {
		t.Fatal("annulus: no ring")
	}
	// outer 40, inner 20 cells: R/r = (40+20)/(40−20) = 3
	if q := p.W / p.D; math.Abs(q-3) > 0.2 {
		t.Errorf("R/r = %.2f, want 3", q)
	}
	if math.Abs(p.RotX) > 0.25 {
		t.Errorf("tilt %.2f rad, want ~0 (facing the camera)", p.RotX)
	}
	if g, cells := mk(0); true {
		if _, ok := ringPart(g, cells, DefaultOptions()); ok {
			t.Error("disc: ring")
		}
	}
}
