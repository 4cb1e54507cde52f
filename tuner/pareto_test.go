package tuner

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// randomVectors draws n points of d objectives on a coarse integer grid, so
// ties and duplicates (the cases that break naive fronts) are common.
func randomVectors(r *rand.Rand, n, d, levels int) [][]float64 {
	pts := make([][]float64, n)
	for i := range pts {
		p := make([]float64, d)
		for j := range p {
			p[j] = float64(r.IntN(levels))
		}
		pts[i] = p
	}
	return pts
}

// bruteFront is the definition: the points nothing dominates.
func bruteFront(pts [][]float64) []int {
	var out []int
	for i, p := range pts {
		ok := true
		for j, q := range pts {
			if j != i && Dominates(q, p) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, i)
		}
	}
	return out
}

func TestDominates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b []float64
		want bool
	}{
		{"strictly better everywhere", []float64{1, 1}, []float64{2, 2}, true},
		{"better in one, equal in other", []float64{1, 2}, []float64{2, 2}, true},
		{"equal points do not dominate", []float64{1, 2}, []float64{1, 2}, false},
		{"trade-off", []float64{1, 3}, []float64{2, 2}, false},
		{"worse", []float64{3, 3}, []float64{2, 2}, false},
		{"length mismatch", []float64{1}, []float64{2, 2}, false},
		{"three objectives", []float64{1, 2, 3}, []float64{1, 2, 4}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Dominates(tt.a, tt.b); got != tt.want {
				t.Errorf("Dominates(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestOrient(t *testing.T) {
	t.Parallel()
	got, err := Orient([][]float64{{10, 0.7}, {5, 0.2}}, []Direction{Minimize, Maximize})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{10, -0.7}, {5, -0.2}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Orient (-want +got):\n%s", diff)
	}
	if _, err := Orient([][]float64{{1}}, []Direction{Minimize, Maximize}); err == nil {
		t.Error("Orient with a short point: want an error")
	}
}

func TestNonDominatedSortMatchesBruteForce(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		d := 1 + trial%4
		pts := randomVectors(r, r.IntN(40), d, 6)
		fronts, err := NonDominatedSort(pts)
		if err != nil {
			t.Fatal(err)
		}
		// Peel by brute force: front k is the non-dominated set of what is
		// left after removing fronts 0..k-1.
		left := make([]int, len(pts))
		for i := range left {
			left[i] = i
		}
		var want [][]int
		for len(left) > 0 {
			sub := make([][]float64, len(left))
			for k, i := range left {
				sub[k] = pts[i]
			}
			var f []int
			var rest []int
			inFront := map[int]bool{}
			for _, k := range bruteFront(sub) {
				inFront[k] = true
			}
			for k, i := range left {
				if inFront[k] {
					f = append(f, i)
				} else {
					rest = append(rest, i)
				}
			}
			want = append(want, f)
			left = rest
		}
		if diff := cmp.Diff(want, fronts); diff != "" {
			t.Fatalf("trial %d, points %v: fronts (-brute +got):\n%s", trial, pts, diff)
		}
	}
}

func TestFront2DMatchesBruteForce(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 500 {
		pts := randomVectors(r, r.IntN(50), 2, 1+trial%8)
		got, err := Front2D(pts)
		if err != nil {
			t.Fatal(err)
		}
		for k := 1; k < len(got); k++ {
			a, b := pts[got[k-1]], pts[got[k]]
			if a[0] > b[0] || a[1] < b[1] {
				t.Fatalf("trial %d: front not sorted by f1 asc, f2 desc at %d: %v then %v", trial, k, a, b)
			}
		}
		slices.Sort(got)
		if diff := cmp.Diff(bruteFront(pts), got, cmpEmpty); diff != "" {
			t.Fatalf("trial %d, points %v: front (-brute +got):\n%s", trial, pts, diff)
		}
	}
}

var cmpEmpty = cmp.Comparer(func(a, b []int) bool { return slices.Equal(a, b) })

func TestFront2DErrors(t *testing.T) {
	t.Parallel()
	for name, pts := range map[string][][]float64{
		"three objectives": {{1, 2, 3}},
		"ragged":           {{1, 2}, {1}},
		"NaN":              {{1, math.NaN()}},
	} {
		if _, err := Front2D(pts); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestCrowdingDistance(t *testing.T) {
	t.Parallel()
	inf := math.Inf(1)
	tests := []struct {
		name  string
		pts   [][]float64
		front []int
		want  []float64
	}{
		{
			// Sorted by f1: (0,4) (1,2) (3,1) (4,0); ranges 4 and 4.
			// (1,2): (3-0)/4 + (4-1)/4 = 1.5; (3,1): (4-1)/4 + (2-0)/4 = 1.25.
			name:  "four on a front",
			pts:   [][]float64{{3, 1}, {0, 4}, {4, 0}, {1, 2}},
			front: []int{0, 1, 2, 3},
			want:  []float64{1.25, inf, inf, 1.5},
		},
		{name: "two members", pts: [][]float64{{0, 1}, {1, 0}}, front: []int{0, 1}, want: []float64{inf, inf}},
		{
			name:  "zero range objective adds nothing",
			pts:   [][]float64{{0, 5}, {1, 5}, {3, 5}},
			front: []int{0, 1, 2},
			want:  []float64{inf, 1, inf},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := CrowdingDistance(tt.pts, tt.front)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := CrowdingDistance([][]float64{{1, 2}}, []int{3}); err == nil {
		t.Error("index out of range: want an error")
	}
}

func TestKnee(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pts  [][]float64
		want int
	}{
		// Normalised front (0,1) (0.1,0.2) (1,0): the middle is far below
		// the line x+y=1. The dominated point 3 is ignored.
		{"clear knee", [][]float64{{0, 10}, {1, 2}, {10, 0}, {5, 5}}, 1},
		{"single point", [][]float64{{3, 4}}, 0},
		{"two points: the fastest", [][]float64{{5, 0}, {1, 3}}, 1},
		// (0,1) (0.5,0.5) (1,0) are collinear: every gap is 0, fastest wins.
		{"linear front", [][]float64{{2, 0}, {1, 1}, {0, 2}}, 2},
		// Concave: (0,1) (0.8,0.8) (1,0): the middle is above the line.
		{"concave front", [][]float64{{0, 10}, {8, 8}, {10, 0}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Knee(tt.pts)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Knee = %d (%v), want %d (%v)", got, tt.pts[got], tt.want, tt.pts[tt.want])
			}
		})
	}
	if _, err := Knee([][]float64{{1, 2, 3}}); err == nil {
		t.Error("three objectives: want an error")
	}
	if _, err := Knee(nil); err == nil {
		t.Error("no points: want an error")
	}
}
