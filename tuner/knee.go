package tuner

import (
	"errors"
	"fmt"
)

// Knee returns the index (into points) of the knee of the two-objective
// Pareto front of points, both objectives minimised: the front member
// farthest below the straight line through the front's two extremes, after
// each objective is normalised to [0, 1] over the front. Along that line
// the normalised objectives sum to 1, so the knee maximises 1 − x − y; ties
// go to the member with the smaller first objective, so a front of one or
// two members returns its fastest member.
//
// The knee is defined for two objectives only: with more, "the line
// between the extremes" has no single meaning (the front's extremes span a
// simplex, and several published generalisations disagree), so Knee
// returns an error rather than pick one silently.
func Knee(points [][]float64) (int, error) {
	if len(points) == 0 {
		return 0, fmt.Errorf("knee: %w", errNoPoints)
	}
	if len(points[0]) != 2 {
		return 0, fmt.Errorf("knee: defined for 2 objectives, points have %d", len(points[0]))
	}
	front, err := Front2D(points)
	if err != nil {
		return 0, fmt.Errorf("knee: %w", err)
	}
	if len(front) == 0 {
		return 0, errors.New("knee: empty front")
	}
	// front is sorted by f₁ ascending and f₂ descending: the extremes are
	// its ends.
	x0, x1 := points[front[0]][0], points[front[len(front)-1]][0]
	y0, y1 := points[front[len(front)-1]][1], points[front[0]][1]
	norm := func(v, lo, hi float64) float64 {
		if hi == lo {
			return 0
		}
		return (v - lo) / (hi - lo)
	}
	best, bestGap := front[0], -1.0
	for _, i := range front {
		gap := 1 - norm(points[i][0], x0, x1) - norm(points[i][1], y0, y1)
		if gap > bestGap {
			best, bestGap = i, gap
		}
	}
	return best, nil
}
