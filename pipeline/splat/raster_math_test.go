package splat

import (
	"math"
	"testing"
)

func TestFastExp(t *testing.T) {
	t.Parallel()
	worst := 0.0
	for x := -80.0; x <= 80; x += 0.0137 {
		got := float64(fastExp(float32(x)))
		want := math.Exp(float64(float32(x)))
		worst = max(worst, math.Abs(got-want)/want)
	}
	if worst > 3e-7 {
		t.Errorf("fastExp relative error up to %g, want ≤ 3e-7", worst)
	}
	if fastExp(-100) != 0 || math.IsInf(float64(fastExp(200)), 0) {
		t.Errorf("fastExp(-100) = %v, fastExp(200) = %v: want 0 and a finite saturated value", fastExp(-100), fastExp(200))
	}
}
