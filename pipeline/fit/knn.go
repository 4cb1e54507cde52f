package fit

import (
	"math"
	"sort"

	"github.com/splatbench/splatbench/internal/parallel"
)

// knnMeanSqDist returns, for each point of pos (x, y, z triples), the mean
// squared distance to its k nearest other points (fewer if there are fewer
// points; 0 for a lone point). It bins the points into a uniform grid with
// about two points per cell and searches cells in growing shells until the
// k-th best distance is provably final.
func knnMeanSqDist(pos []float32, k int) []float64 {
	n := len(pos) / 3
	out := make([]float64, n)
	if n < 2 {
		return out
	}
	k = min(k, n-1)
	lo := [3]float64{math.Inf(1), math.Inf(1), math.Inf(1)}
	hi := [3]float64{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
	for i := range n {
		for a := range 3 {
			v := float64(pos[3*i+a])
			lo[a], hi[a] = math.Min(lo[a], v), math.Max(hi[a], v)
		}
	}
	vol := 1.0
	for a := range 3 {
		vol *= math.Max(hi[a]-lo[a], 1e-9)
	}
	cell := math.Max(math.Cbrt(2*vol/float64(n)), 1e-9)
	var dims [3]int
	for {
		total := 1.0
		for a := range 3 {
			total *= math.Floor((hi[a]-lo[a])/cell) + 1
		}
		// Degenerate (flat or collinear) sets would get far too many cells.
		if total <= float64(8*n+64) {
			for a := range 3 {
				dims[a] = int((hi[a]-lo[a])/cell) + 1
			}
			break
		}
		cell *= 2
	}
	cellOf := func(i int) [3]int {
		var c [3]int
		for a := range 3 {
			c[a] = min(int((float64(pos[3*i+a])-lo[a])/cell), dims[a]-1)
		}
		return c
	}
	flat := func(c [3]int) int { return (c[2]*dims[1]+c[1])*dims[0] + c[0] }
	// Counting sort of the points by cell.
	ncell := dims[0] * dims[1] * dims[2]
	start := make([]int32, ncell+1)
	cells := make([]int32, n)
	for i := range n {
		cells[i] = int32(flat(cellOf(i)))
		start[cells[i]+1]++
	}
	for c := range ncell {
		start[c+1] += start[c]
	}
	order := make([]int32, n)
	fill := append([]int32(nil), start[:ncell]...)
	for i := range n {
		order[fill[cells[i]]] = int32(i)
		fill[cells[i]]++
	}
	maxShell := max(dims[0], dims[1], dims[2])
	parallel.For(n, 0, func(a, b int) {
		best := make([]float64, 0, k+1)
		for i := a; i < b; i++ {
			best = best[:0]
			c := cellOf(i)
			px, py, pz := float64(pos[3*i]), float64(pos[3*i+1]), float64(pos[3*i+2])
			for r := 0; r <= maxShell; r++ {
				for z := c[2] - r; z <= c[2]+r; z++ {
					for y := c[1] - r; y <= c[1]+r; y++ {
						for x := c[0] - r; x <= c[0]+r; x++ {
							if x < 0 || y < 0 || z < 0 || x >= dims[0] || y >= dims[1] || z >= dims[2] {
								continue
							}
							// Only the shell at Chebyshev distance r.
							if max(abs(x-c[0]), abs(y-c[1]), abs(z-c[2])) != r {
								continue
							}
							f := flat([3]int{x, y, z})
							for _, j := range order[start[f]:start[f+1]] {
								if int(j) == i {
									continue
								}
								dx := float64(pos[3*j]) - px
								dy := float64(pos[3*j+1]) - py
								dz := float64(pos[3*j+2]) - pz
								best = insertBest(best, dx*dx+dy*dy+dz*dz, k)
							}
						}
					}
				}
				// Every point in shell r+1 or beyond is ≥ r·cell away.
				if len(best) == k && best[k-1] <= float64(r*r)*cell*cell {
					break
				}
			}
			s := 0.0
			for _, d := range best {
				s += d
			}
			out[i] = s / float64(len(best))
		}
	})
	return out
}

// insertBest keeps best sorted ascending with at most k entries.
func insertBest(best []float64, d float64, k int) []float64 {
	if len(best) == k && d >= best[k-1] {
		return best
	}
	j := sort.SearchFloat64s(best, d)
	if len(best) < k {
		best = append(best, 0)
	}
	copy(best[j+1:], best[j:len(best)-1])
	best[j] = d
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
