package fit

import (
	"math"
	"testing"
)

// TestAdamQuadratic minimises f(x) = Σ a_i (x_i − c_i)² with adamUpdate.
func TestAdamQuadratic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		lr    float64
		steps int
	}{
		{"lr 0.05", 0.05, 1500},
		{"lr 0.01", 0.01, 3000},
	}
	for _, tc := range tests {
		a := []float32{1, 10, 0.1, 100}
		c := []float32{0.5, -2, 3, 0.01}
		x := make([]float32, len(a))
		g := make([]float32, len(a))
		m := make([]float32, len(a))
		v := make([]float32, len(a))
		for step := 1; step <= tc.steps; step++ {
			for i := range x {
				g[i] = 2 * a[i] * (x[i] - c[i])
			}
			bc1, bc2 := biasCorrections(step)
			adamUpdate(x, g, m, v, tc.lr, bc1, bc2)
		}
		for i := range x {
			if d := math.Abs(float64(x[i] - c[i])); d > 0.02 {
				t.Errorf("%s: x[%d] = %v, want %v (|diff| %v)", tc.name, i, x[i], c[i], d)
			}
		}
	}
}

// TestAdamFirstStep checks the first update is lr·sign(g) (bias-corrected).
func TestAdamFirstStep(t *testing.T) {
	t.Parallel()
	x := []float32{1, 1, 1}
	g := []float32{3, -0.001, 0}
	m, v := make([]float32, 3), make([]float32, 3)
	bc1, bc2 := biasCorrections(1)
	adamUpdate(x, g, m, v, 0.1, bc1, bc2)
	want := []float32{0.9, 1.1, 1}
	for i := range x {
		if math.Abs(float64(x[i]-want[i])) > 1e-5 {
			t.Errorf("x[%d] = %v, want %v", i, x[i], want[i])
		}
	}
}
