package generate

import "testing"

// TestDropBackground: a region the colour of the picture's background
// inside the mask is removed; an off-white (shaded white) region stays.
func TestDropBackground(t *testing.T) {
	const n = 40
	g := &grid{N: n, In: make([]bool, n*n), Lin: make([][3]float64, n*n)}
	for y := 5; y < 35; y++ {
		for x := 5; x < 35; x++ {
			i := y*n + x
			g.In[i] = true
			switch {
			case x >= 15 && x < 25 && y >= 15 && y < 25: // white seen through a hole
				g.Lin[i] = [3]float64{1, 1, 1}
			case y < 12: // a white part of the object, shaded
				v := srgbToLinear(0.88)
				g.Lin[i] = [3]float64{v, v, v}
			default:
				g.Lin[i] = [3]float64{0.3, 0.05, 0.02}
			}
		}
	}
	if got := g.dropBackground([3]float64{1, 1, 1}); got != 100 {
		t.Errorf("dropped %d cells, want the 100 of the hole", got)
	}
	if g.In[20*n+20] || !g.In[8*n+20] || !g.In[30*n+30] {
		t.Error("wrong cells dropped")
	}
}
