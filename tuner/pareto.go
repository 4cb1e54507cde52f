package tuner

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Direction says whether an objective is minimised or maximised. All the
// Pareto functions in this package minimise; Orient turns a maximised
// objective into a minimised one by negation.
type Direction int

const (
	// Minimize: smaller is better (latency).
	Minimize Direction = iota
	// Maximize: larger is better (score, reward rate).
	Maximize
)

func (d Direction) String() string {
	switch d {
	case Minimize:
		return "minimize"
	case Maximize:
		return "maximize"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// Orient returns a copy of the objective vectors with every maximised
// objective negated, so that the result can be given to the minimising
// functions of this package. It fails when a vector's length differs from
// len(dirs).
func Orient(points [][]float64, dirs []Direction) ([][]float64, error) {
	out := make([][]float64, len(points))
	for i, p := range points {
		if len(p) != len(dirs) {
			return nil, fmt.Errorf("orient: point %d has %d objectives, want %d", i, len(p), len(dirs))
		}
		q := make([]float64, len(p))
		for j, v := range p {
			switch dirs[j] {
			case Minimize:
				q[j] = v
			case Maximize:
				q[j] = -v
			default:
				return nil, fmt.Errorf("orient: objective %d: unknown %v", j, dirs[j])
			}
		}
		out[i] = q
	}
	return out, nil
}

// Dominates reports whether a Pareto-dominates b under minimisation:
// a_i ≤ b_i for every i and a_j < b_j for some j. Vectors of different
// lengths never dominate each other.
func Dominates(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	strict := false
	for i := range a {
		if a[i] > b[i] {
			return false
		}
		if a[i] < b[i] {
			strict = true
		}
	}
	return strict
}

// errNoPoints is returned where an empty point set has no answer.
var errNoPoints = errors.New("no points")

// checkPoints verifies that every vector has the same, non-zero number of
// objectives and that no objective is NaN. It returns that number (0 for
// an empty set).
func checkPoints(points [][]float64) (int, error) {
	if len(points) == 0 {
		return 0, nil
	}
	d := len(points[0])
	if d == 0 {
		return 0, errors.New("point 0 has no objectives")
	}
	for i, p := range points {
		if len(p) != d {
			return 0, fmt.Errorf("point %d has %d objectives, point 0 has %d", i, len(p), d)
		}
		for j, v := range p {
			if math.IsNaN(v) {
				return 0, fmt.Errorf("point %d objective %d is NaN", i, j)
			}
		}
	}
	return d, nil
}

// NonDominatedSort peels the points into Pareto fronts as NSGA-II does
// (Deb et al. 2002): fronts[0] holds the indices of the non-dominated
// points, fronts[1] those dominated only by fronts[0], and so on. Within a
// front indices are ascending. It costs O(d·n²) time and O(n²) memory,
// which is fine for sweeps of a few thousand points.
func NonDominatedSort(points [][]float64) ([][]int, error) {
	if _, err := checkPoints(points); err != nil {
		return nil, fmt.Errorf("non-dominated sort: %w", err)
	}
	n := len(points)
	count := make([]int, n)       // how many points dominate i
	dominated := make([][]int, n) // which points i dominates
	for i := range n {
		for j := i + 1; j < n; j++ {
			switch {
			case Dominates(points[i], points[j]):
				dominated[i] = append(dominated[i], j)
				count[j]++
			case Dominates(points[j], points[i]):
				dominated[j] = append(dominated[j], i)
				count[i]++
			}
		}
	}
	var fronts [][]int
	var cur []int
	for i := range n {
		if count[i] == 0 {
			cur = append(cur, i)
		}
	}
	for len(cur) > 0 {
		fronts = append(fronts, cur)
		var next []int
		for _, i := range cur {
			for _, j := range dominated[i] {
				count[j]--
				if count[j] == 0 {
					next = append(next, j)
				}
			}
		}
		slices.Sort(next)
		cur = next
	}
	return fronts, nil
}

// Front2D returns the indices of the non-dominated points of a
// two-objective set in O(n log n): sort by (f₁, f₂) and keep each point
// whose f₂ is below the running minimum. Points equal to a front point are
// on the front too (equal points do not dominate each other). The result
// is sorted by f₁ ascending, so f₂ descends along it.
func Front2D(points [][]float64) ([]int, error) {
	d, err := checkPoints(points)
	if err != nil {
		return nil, fmt.Errorf("2-D front: %w", err)
	}
	if d != 0 && d != 2 {
		return nil, fmt.Errorf("2-D front: points have %d objectives", d)
	}
	order := make([]int, len(points))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		pa, pb := points[a], points[b]
		return cmp.Or(cmp.Compare(pa[0], pb[0]), cmp.Compare(pa[1], pb[1]), cmp.Compare(a, b))
	})
	var front []int
	best := math.Inf(1)
	for _, i := range order {
		p := points[i]
		if p[1] < best {
			front = append(front, i)
			best = p[1]
			continue
		}
		if len(front) > 0 {
			last := points[front[len(front)-1]]
			if last[0] == p[0] && last[1] == p[1] {
				front = append(front, i)
			}
		}
	}
	return front, nil
}

// CrowdingDistance returns the NSGA-II crowding distance of each member of
// one front (indices into points), in the order of front. For every
// objective the front is sorted; the two boundary members get +Inf and each
// interior member adds (f[k+1] − f[k−1]) / (f_max − f_min). An objective
// with zero range adds nothing. Fronts of one or two members are all +Inf.
func CrowdingDistance(points [][]float64, front []int) ([]float64, error) {
	d, err := checkPoints(points)
	if err != nil {
		return nil, fmt.Errorf("crowding distance: %w", err)
	}
	for _, i := range front {
		if i < 0 || i >= len(points) {
			return nil, fmt.Errorf("crowding distance: index %d outside %d points", i, len(points))
		}
	}
	dist := make([]float64, len(front))
	if len(front) <= 2 {
		for k := range dist {
			dist[k] = math.Inf(1)
		}
		return dist, nil
	}
	pos := make([]int, len(front)) // positions into front
	for m := range d {
		for k := range pos {
			pos[k] = k
		}
		slices.SortStableFunc(pos, func(a, b int) int {
			return cmp.Compare(points[front[a]][m], points[front[b]][m])
		})
		lo := points[front[pos[0]]][m]
		hi := points[front[pos[len(pos)-1]]][m]
		dist[pos[0]] = math.Inf(1)
		dist[pos[len(pos)-1]] = math.Inf(1)
		if hi == lo || math.IsInf(hi-lo, 0) {
			continue
		}
		for k := 1; k < len(pos)-1; k++ {
			dist[pos[k]] += (points[front[pos[k+1]]][m] - points[front[pos[k-1]]][m]) / (hi - lo)
		}
	}
	return dist, nil
}
