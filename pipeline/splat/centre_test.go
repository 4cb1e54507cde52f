package splat

import (
	"math"
	"testing"
)

func TestCentreAndScale(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pos    []float32
		extent float64
		want   []float32 // positions after
		dls    float64   // LogScale change
	}{
		{"scaled to 1.5", []float32{1, 2, 3, 3, 2, 3, 2, 4, 3}, 1.5, []float32{-0.75, -0.5, 0, 0.75, -0.5, 0, 0, 1, 0}, math.Log(0.75)},
		{"scaled to 1", []float32{0, 0, 0, 4, 0, 0}, 1, []float32{-0.5, 0, 0, 0.5, 0, 0}, math.Log(0.25)},
		{"one point: centred only", []float32{5, -1, 2}, 1.5, []float32{0, 0, 0}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCloud(len(tc.pos)/3, 0)
			copy(c.Pos, tc.pos)
			CentreAndScale(c, tc.extent)
			for i, v := range c.Pos {
				if math.Abs(float64(v-tc.want[i])) > 1e-6 {
					t.Fatalf("positions %v, want %v", c.Pos, tc.want)
				}
			}
			if got := float64(c.LogScale[0]); math.Abs(got-tc.dls) > 1e-6 {
				t.Errorf("log scale moved by %v, want %v", got, tc.dls)
			}
			if tc.extent == ValidatorExtent && c.Len() > 1 {
				before := append([]float32(nil), c.Pos...)
				op := c.OpacityLogit[0]
				NormalizeForValidator(c)
				for i := range before {
					if math.Abs(float64(c.Pos[i]-before[i])) > 1e-6 || c.OpacityLogit[0] != op {
						t.Fatalf("the validator's normalisation still moved the cloud: %v -> %v", before, c.Pos)
					}
				}
			}
		})
	}
}
