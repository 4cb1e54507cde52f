package generate

import (
	"math"
	"testing"
)

// TestTrace: the traced outline of cell shapes encloses exactly their area
// (shoelace) and closes.
func TestTrace(t *testing.T) {
	tests := []struct {
		name string
		rows []string
		area float64
	}{
		{"one cell", []string{"#"}, 1},
		{"bar", []string{"####"}, 4},
		{"column", []string{"#", "#", "#"}, 3},
		{"L", []string{"#..", "#..", "###"}, 5},
		{"U", []string{"#.#", "#.#", "###"}, 7},
		{"diagonal pinch", []string{"##.", "###", ".##"}, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 6
			m := func(x, y int) bool {
				x, y = x-1, y-1
				return y >= 0 && y < len(tt.rows) && x >= 0 && x < len(tt.rows[y]) && tt.rows[y][x] == '#'
			}
			start := -1
			for i := 0; i < n*n && start < 0; i++ {
				if m(i%n, i/n) {
					start = i
				}
			}
			pts := trace(m, start, n)
			if len(pts) >= 8*n*n {
				t.Fatalf("did not close: %d points", len(pts))
			}
			var a float64
			for i := range pts {
				p, q := pts[i], pts[(i+1)%len(pts)]
				a += p[0]*q[1] - q[0]*p[1]
			}
			if got := math.Abs(a) / 2; got != tt.area {
				t.Errorf("area %v, want %v (%v)", got, tt.area, pts)
			}
		})
	}
}
