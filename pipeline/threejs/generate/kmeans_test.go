package generate

import "testing"

// TestKmeans: identical colours give one cluster (not none), distinct
// colours are separated.
func TestKmeans(t *testing.T) {
	same := [][3]float64{{0.2, 0.3, 0.4}, {0.2, 0.3, 0.4}, {0.2, 0.3, 0.4}}
	c, l := kmeans(same, 2, 4)
	if len(c) != 1 || len(l) != 3 {
		t.Errorf("identical colours: %d centres, %d labels", len(c), len(l))
	}
	if d := dominant(same); dist2(d, same[0]) > 1e-12 {
		t.Errorf("dominant %v, want %v", d, same[0])
	}
	two := [][3]float64{{1, 0, 0}, {0, 0, 1}, {1, 0, 0}, {0.95, 0, 0}}
	c, l = kmeans(two, 2, 4)
	if len(c) != 2 || l[0] != l[2] || l[0] == l[1] {
		t.Errorf("two colours: centres %v labels %v", c, l)
	}
	if d := dominant(two); d[0] < 0.9 {
		t.Errorf("dominant %v, want the red", d)
	}
}
