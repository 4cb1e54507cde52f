package tuner

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Hypervolume returns the Lebesgue measure of the region dominated by the
// points and bounded by the reference point ref: the volume of the union
// of the boxes [p, ref]. All objectives are minimised (see Orient); a point
// that does not strictly beat ref in every objective adds nothing. One or
// two objectives use the O(n log n) staircase sum, three use a sweep over
// f₃ that keeps the 2-D staircase (O(n²) worst case), four and more use the
// WFG recursion (While, Bradstreet & Barone 2012), which is exact but
// exponential in the worst case: keep it to small fronts.
//
// Compare hypervolumes across runs only after normalising the objectives
// and with the same reference point.
func Hypervolume(points [][]float64, ref []float64) (float64, error) {
	d, err := checkPoints(points)
	if err != nil {
		return 0, fmt.Errorf("hypervolume: %w", err)
	}
	if d != 0 && len(ref) != d {
		return 0, fmt.Errorf("hypervolume: reference point has %d objectives, points have %d", len(ref), d)
	}
	if len(ref) == 0 {
		return 0, fmt.Errorf("hypervolume: empty reference point")
	}
	for j, r := range ref {
		if math.IsNaN(r) || math.IsInf(r, 0) {
			return 0, fmt.Errorf("hypervolume: reference objective %d is %v", j, r)
		}
	}
	var in [][]float64
	for i, p := range points {
		if !strictlyBetter(p, ref) {
			continue
		}
		for j, v := range p {
			if math.IsInf(v, -1) {
				return 0, fmt.Errorf("hypervolume: point %d objective %d is -Inf (unbounded volume)", i, j)
			}
		}
		in = append(in, p)
	}
	if len(in) == 0 {
		return 0, nil
	}
	switch len(ref) {
	case 1:
		best := in[0][0]
		for _, p := range in[1:] {
			best = min(best, p[0])
		}
		return ref[0] - best, nil
	case 2:
		return hv2D(in, ref), nil
	case 3:
		return hv3D(in, ref), nil
	}
	return wfg(nondominated(in), ref), nil
}

func strictlyBetter(p, ref []float64) bool {
	for j := range p {
		if !(p[j] < ref[j]) {
			return false
		}
	}
	return true
}

// hv2D sums the staircase: sorted by f₁ ascending, each point whose f₂
// improves on the running minimum adds (r₁ − f₁)(prev₂ − f₂).
func hv2D(pts [][]float64, ref []float64) float64 {
	s := slices.Clone(pts)
	slices.SortFunc(s, func(a, b []float64) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	})
	vol := 0.0
	prev := ref[1]
	for _, p := range s {
		if p[1] < prev {
			vol += (ref[0] - p[0]) * (prev - p[1])
			prev = p[1]
		}
	}
	return vol
}

// hv3D sweeps f₃ upwards. Between consecutive f₃ levels the dominated
// cross-section is the 2-D staircase area of the points seen so far, kept
// as a front sorted by f₁ ascending (so f₂ descending).
func hv3D(pts [][]float64, ref []float64) float64 {
	s := slices.Clone(pts)
	slices.SortFunc(s, func(a, b []float64) int { return cmp.Compare(a[2], b[2]) })
	var stair [][2]float64
	vol := 0.0
	for k, p := range s {
		stair = insertStair(stair, p[0], p[1])
		next := ref[2]
		if k+1 < len(s) {
			next = s[k+1][2]
		}
		if next == p[2] {
			continue
		}
		area := 0.0
		prev := ref[1]
		for _, q := range stair {
			area += (ref[0] - q[0]) * (prev - q[1])
			prev = q[1]
		}
		vol += area * (next - p[2])
	}
	return vol
}

// insertStair adds (x, y) to a 2-D front sorted by x ascending with y
// strictly descending, dropping what it dominates; a dominated or equal
// point leaves the front unchanged.
func insertStair(stair [][2]float64, x, y float64) [][2]float64 {
	i, _ := slices.BinarySearchFunc(stair, x, func(e [2]float64, x float64) int { return cmp.Compare(e[0], x) })
	// The member just left of i (x' < x) or at i with x' == x dominates
	// or equals (x, y) when its y' ≤ y.
	if i > 0 && stair[i-1][1] <= y {
		return stair
	}
	if i < len(stair) && stair[i][0] == x && stair[i][1] <= y {
		return stair
	}
	j := i
	for j < len(stair) && stair[j][1] >= y {
		j++
	}
	return slices.Insert(slices.Delete(stair, i, j), i, [2]float64{x, y})
}

// nondominated keeps the points no other point dominates, with exact
// duplicates reduced to one.
func nondominated(pts [][]float64) [][]float64 {
	var out [][]float64
outer:
	for i, p := range pts {
		for j, q := range pts {
			if j == i {
				continue
			}
			if Dominates(q, p) || (j < i && slices.Equal(q, p)) {
				continue outer
			}
		}
		out = append(out, p)
	}
	return out
}

// wfg is the WFG recursion: the hypervolume of a non-dominated set is the
// sum of each point's exclusive contribution, and a point's exclusive
// contribution is its own box less the hypervolume of the later points
// limited to that box.
func wfg(pts [][]float64, ref []float64) float64 {
	// Sorting by the last objective, worst first, keeps limit sets small.
	slices.SortFunc(pts, func(a, b []float64) int { return cmp.Compare(b[len(b)-1], a[len(a)-1]) })
	vol := 0.0
	for k, p := range pts {
		box := 1.0
		for j := range p {
			box *= ref[j] - p[j]
		}
		limit := make([][]float64, 0, len(pts)-k-1)
		for _, q := range pts[k+1:] {
			w := make([]float64, len(p))
			for j := range p {
				w[j] = max(p[j], q[j])
			}
			limit = append(limit, w)
		}
		vol += box - hvSet(nondominated(limit), ref)
	}
	return vol
}

// hvSet is the hypervolume of a filtered set, choosing the method by
// dimension.
func hvSet(pts [][]float64, ref []float64) float64 {
	switch {
	case len(pts) == 0:
		return 0
	case len(ref) == 2:
		return hv2D(pts, ref)
	case len(ref) == 3:
		return hv3D(pts, ref)
	}
	return wfg(pts, ref)
}
