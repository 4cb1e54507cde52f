package generate

import (
	"math"
	"testing"

	"github.com/splatbench/splatbench/pipeline/lift"
)

// TestBoxBand: a band lit as two flat faces is a box turned by the faces'
// width ratio; the same band shaded smoothly (a cylinder) is not a box.
func TestBoxBand(t *testing.T) {
	const n = 64
	mk := func(shade func(x int) float64) *grid {
		g := &grid{N: n, In: make([]bool, n*n), Lin: make([][3]float64, n*n)}
		for y := 10; y < 50; y++ {
			for x := 12; x < 52; x++ {
				g.In[y*n+x] = true
				v := srgbToLinear(shade(x))
				g.Lin[y*n+x] = [3]float64{v, v * 0.5, v * 0.5}
			}
		}
		return g
	}
	faces := mk(func(x int) float64 {
		if x < 22 {
			return 0.35
		}
		return 0.7
	})
	smooth := mk(func(x int) float64 { return 0.3 + 0.5*math.Sin(float64(x-12)/40*math.Pi) })
	o := DefaultOptions()
	for name, tt := range map[string]struct {
		g   *grid
		box bool
	}{"faces": {faces, true}, "smooth": {smooth, false}} {
		rows := tt.g.rows()
		a := lift.Axis(rows)
		half := make([]float64, n)
		for y, r := range rows {
			if r.Runs > 0 {
				half[y] = float64(r.Right-r.Left+1) / 2
			}
		}
		p, ok := boxBand(tt.g, half, a, [2]int{10, 50}, o)
		if ok != tt.box {
			t.Errorf("%s: box %v, want %v", name, ok, tt.box)
			continue
		}
		if ok {
			// faces 10 and 30 cells wide: turned by atan(10/30), left face narrow
			if want := math.Atan2(10, 30); math.Abs(p.RotY-want) > 0.05 {
				t.Errorf("%s: turn %.3f, want %.3f", name, p.RotY, want)
			}
		}
	}
}
