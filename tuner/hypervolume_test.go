package tuner

import (
	"math"
	"math/rand/v2"
	"testing"
)

// inclusionExclusion is the hypervolume by its definition as a union of
// boxes: Σ over non-empty subsets S of (−1)^{|S|+1} · vol(∩_{p∈S} [p, r]).
func inclusionExclusion(pts [][]float64, ref []float64) float64 {
	var in [][]float64
	for _, p := range pts {
		if strictlyBetter(p, ref) {
			in = append(in, p)
		}
	}
	total := 0.0
	for mask := 1; mask < 1<<len(in); mask++ {
		corner := make([]float64, len(ref))
		for j := range corner {
			corner[j] = math.Inf(-1)
		}
		bits := 0
		for i, p := range in {
			if mask&(1<<i) == 0 {
				continue
			}
			bits++
			for j := range corner {
				corner[j] = max(corner[j], p[j])
			}
		}
		vol := 1.0
		for j := range corner {
			vol *= ref[j] - corner[j]
		}
		if bits%2 == 1 {
			total += vol
		} else {
			total -= vol
		}
	}
	return total
}

func TestHypervolumeKnownAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pts  [][]float64
		ref  []float64
		want float64
	}{
		{"1-D", [][]float64{{3}, {1}, {5}}, []float64{10}, 9},
		{"2-D single box", [][]float64{{1, 2}}, []float64{4, 4}, 6},
		// Staircase (1,3) (2,2) (3,1) to (4,4): 3·1 + 2·1 + 1·1 + ... =
		// (4-1)(4-3) + (4-2)(3-2) + (4-3)(2-1) = 3 + 2 + 1.
		{"2-D staircase", [][]float64{{1, 3}, {2, 2}, {3, 1}}, []float64{4, 4}, 6},
		{"2-D dominated point adds nothing", [][]float64{{1, 3}, {2, 2}, {3, 1}, {3, 3}}, []float64{4, 4}, 6},
		{"2-D point outside the reference", [][]float64{{1, 1}, {5, 0}}, []float64{4, 4}, 9},
		{"2-D point on the reference boundary", [][]float64{{4, 0}}, []float64{4, 4}, 0},
		{"2-D empty", nil, []float64{1, 1}, 0},
		{"3-D unit cube", [][]float64{{0, 0, 0}}, []float64{1, 1, 1}, 1},
		// Two unit-ish boxes [0,2]x[0,2]x[1,2] and [1,2]x[1,2]x[0,2]:
		// 4 + 2 − overlap [1,2]x[1,2]x[1,2] = 1 → 5.
		{"3-D two boxes", [][]float64{{0, 0, 1}, {1, 1, 0}}, []float64{2, 2, 2}, 5},
		// The three unit-axis points of the 3-D "corner" against (2,2,2):
		// each box is 2·1·1... computed: 3 boxes of volume 4 (e.g.
		// [1,2]x[0,2]x[0,2]), pairwise overlaps 2, triple overlap 1:
		// 12 − 6 + 1 = 7.
		{"3-D corner", [][]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, []float64{2, 2, 2}, 7},
		// Same construction in 4-D: 4·8 − 6·4 + 4·2 − 1 = 15.
		{"4-D corner", [][]float64{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}}, []float64{2, 2, 2, 2}, 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Hypervolume(tt.pts, tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("Hypervolume = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHypervolumeMatchesInclusionExclusion(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	for trial := range 400 {
		d := 2 + trial%4 // 2..5 objectives
		n := r.IntN(11)
		var pts [][]float64
		if trial%2 == 0 {
			pts = randomVectors(r, n, d, 5) // ties and duplicates
		} else {
			pts = make([][]float64, n)
			for i := range pts {
				p := make([]float64, d)
				for j := range p {
					p[j] = r.Float64() * 5
				}
				pts[i] = p
			}
		}
		ref := make([]float64, d)
		for j := range ref {
			ref[j] = 4.5
		}
		got, err := Hypervolume(pts, ref)
		if err != nil {
			t.Fatal(err)
		}
		want := inclusionExclusion(pts, ref)
		if math.Abs(got-want) > 1e-9*math.Max(1, want) {
			t.Fatalf("trial %d d=%d points %v: Hypervolume = %v, inclusion-exclusion = %v", trial, d, pts, got, want)
		}
	}
}

func TestHypervolume3DMatchesWFG(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	ref := []float64{1, 1, 1}
	for trial := range 50 {
		pts := make([][]float64, 5+r.IntN(40))
		for i := range pts {
			pts[i] = []float64{r.Float64(), r.Float64(), r.Float64()}
		}
		got := hv3D(pts, ref)
		want := wfg(nondominated(pts), ref)
		if math.Abs(got-want) > 1e-9 {
			t.Fatalf("trial %d: hv3D = %v, wfg = %v", trial, got, want)
		}
	}
}

func TestHypervolumeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pts  [][]float64
		ref  []float64
	}{
		{"reference too short", [][]float64{{1, 2}}, []float64{3}},
		{"empty reference", nil, nil},
		{"NaN point", [][]float64{{math.NaN(), 1}}, []float64{3, 3}},
		{"infinite reference", [][]float64{{1, 1}}, []float64{math.Inf(1), 3}},
		{"-Inf point", [][]float64{{math.Inf(-1), 1}}, []float64{3, 3}},
	}
	for _, tt := range tests {
		if _, err := Hypervolume(tt.pts, tt.ref); err == nil {
			t.Errorf("%s: want an error", tt.name)
		}
	}
}

func BenchmarkHypervolume(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, d := range []int{2, 3, 4} {
		// Points on the simplex Σx = 1 are all mutually non-dominated.
		pts := make([][]float64, 200)
		for i := range pts {
			p := make([]float64, d)
			s := 0.0
			for j := range p {
				p[j] = r.Float64()
				s += p[j]
			}
			for j := range p {
				p[j] /= s
			}
			pts[i] = p
		}
		if d == 4 {
			pts = pts[:40]
		}
		ref := make([]float64, d)
		for j := range ref {
			ref[j] = 1.1
		}
		b.Run("d="+string(rune('0'+d)), func(b *testing.B) {
			for b.Loop() {
				if _, err := Hypervolume(pts, ref); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(pts)), "points")
		})
	}
}
