package fit

import (
	"math"
	"testing"
)

func TestExpLR(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		init, final    float64
		maxSteps, step int
		want           float64
	}{
		{"start", 1e-2, 2e-4, 500, 0, 1e-2},
		{"end", 1e-2, 2e-4, 500, 500, 2e-4},
		{"after end stays final", 1e-2, 2e-4, 500, 900, 2e-4},
		{"midpoint is geometric mean", 1e-2, 2e-4, 500, 250, math.Sqrt(1e-2 * 2e-4)},
		{"negative step clamps to init", 1e-2, 2e-4, 500, -3, 1e-2},
		{"no max steps is constant", 1e-2, 2e-4, 0, 100, 1e-2},
	}
	for _, tc := range tests {
		got := expLR(tc.init, tc.final, tc.maxSteps, tc.step)
		if math.Abs(got-tc.want) > 1e-12*math.Max(1, tc.want) {
			t.Errorf("%s: expLR = %g, want %g", tc.name, got, tc.want)
		}
	}
}

func TestActiveSHDegree(t *testing.T) {
	t.Parallel()
	tests := []struct{ it, interval, maxDeg, want int }{
		{1, 1000, 0, 0},
		{1, 1000, 3, 0},
		{1000, 1000, 3, 0},
		{1001, 1000, 3, 1},
		{2001, 1000, 3, 2},
		{9000, 1000, 3, 3},
		{5, 0, 2, 2},
	}
	for _, tc := range tests {
		if got := activeSHDegree(tc.it, tc.interval, tc.maxDeg); got != tc.want {
			t.Errorf("activeSHDegree(%d, %d, %d) = %d, want %d", tc.it, tc.interval, tc.maxDeg, got, tc.want)
		}
	}
}
