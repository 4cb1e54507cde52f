package fit

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// splitN is the number of children a split Gaussian is replaced by, and
// splitShrink the factor their scales are divided by (0.8·N in 3DGS).
const (
	splitN      = 2
	splitShrink = 0.8 * splitN
)

// resetOpacityMax is the opacity ceiling applied by an opacity reset.
const resetOpacityMax = 0.01

// densifyConfig is the part of Options densification reads.
type densifyConfig struct {
	gradThreshold   float64
	percentDense    float64
	extent          float64
	pruneOpacity    float64
	pruneWorldScale float64 // × extent; 0 disables
	maxGaussians    int     // 0 = no cap
}

// DensifyEvent records one densify-and-prune step.
type DensifyEvent struct {
	Iteration int
	Before    int // Gaussians before the step
	Cloned    int
	Split     int // originals split (each replaced by 2 children)
	Pruned    int // removed by the opacity or world-scale test
	After     int
}

// accumulate adds one step's view-space gradient norms to the statistics
// of the visible Gaussians.
func (s *state) accumulate(meanNDC []float32, visible []bool) {
	for i, vis := range visible {
		if vis {
			s.gradAccum[i] += meanNDC[i]
			s.denom[i]++
		}
	}
}

// densifyAndPrune is 3DGS's densify_and_prune:
//   - a Gaussian whose mean view-space gradient norm (over the steps it was
//     visible) is ≥ gradThreshold is cloned if its largest scale is ≤
//     percentDense·extent, else split into 2 children drawn from it
//     (position sampled from N(μ, Σ), scales ÷ 1.6, the rest copied);
//   - with a cap, only the candidates with the largest gradients are taken
//     so that the count stays ≤ maxGaussians (each adds one Gaussian net);
//   - then Gaussians with opacity < pruneOpacity or largest scale >
//     pruneWorldScale·extent are removed, and split originals are removed;
//     a prune that would empty the cloud is skipped;
//   - the statistics are reset. New Gaussians start with zero Adam moments.
func (s *state) densifyAndPrune(cfg densifyConfig, rng *rand.Rand) DensifyEvent {
	c := s.cloud
	n := c.Len()
	ev := DensifyEvent{Before: n}
	var cands []int
	grad := make([]float64, n)
	for i := range n {
		if s.denom[i] > 0 {
			grad[i] = float64(s.gradAccum[i]) / float64(s.denom[i])
		}
		if grad[i] >= cfg.gradThreshold {
			cands = append(cands, i)
		}
	}
	if cfg.maxGaussians > 0 {
		budget := max(cfg.maxGaussians-n, 0)
		if len(cands) > budget {
			sort.SliceStable(cands, func(a, b int) bool { return grad[cands[a]] > grad[cands[b]] })
			cands = cands[:budget]
			sort.Ints(cands)
		}
	}
	small := cfg.percentDense * cfg.extent
	var clones, splits []int
	for _, i := range cands {
		if maxScale(c, i) <= small {
			clones = append(clones, i)
		} else {
			splits = append(splits, i)
		}
	}
	s.appendCopies(clones)
	src := make([]int, 0, splitN*len(splits))
	for _, i := range splits {
		for range splitN {
			src = append(src, i)
		}
	}
	first := s.appendCopies(src)
	for j, i := range src {
		s.placeChild(first+j, i, rng)
	}
	ev.Cloned, ev.Split = len(clones), len(splits)

	m := c.Len()
	keep := make([]bool, m)
	isSplit := make([]bool, m)
	for _, i := range splits {
		isSplit[i] = true
	}
	logitMin := float32(math.Inf(-1))
	if cfg.pruneOpacity > 0 {
		logitMin = splat.Logit(float32(cfg.pruneOpacity))
	}
	big := math.Inf(1)
	if cfg.pruneWorldScale > 0 {
		big = cfg.pruneWorldScale * cfg.extent
	}
	kept := 0
	for i := range m {
		keep[i] = !isSplit[i] && c.OpacityLogit[i] >= logitMin && maxScale(c, i) <= big
		if keep[i] {
			kept++
		}
	}
	if kept == 0 {
		for i := range m {
			keep[i] = !isSplit[i]
		}
	}
	before := m - len(splits)
	s.keep(keep)
	ev.Pruned = before - c.Len()
	ev.After = c.Len()
	s.resetStats()
	return ev
}

// placeChild samples a split child at row dst from Gaussian src:
// position μ + R(q)·(ε ⊙ σ) with ε ~ N(0, I), log-scale − ln 1.6.
func (s *state) placeChild(dst, src int, rng *rand.Rand) {
	c := s.cloud
	sc := c.Scale(src)
	e := [3]float64{
		rng.NormFloat64() * float64(sc[0]),
		rng.NormFloat64() * float64(sc[1]),
		rng.NormFloat64() * float64(sc[2]),
	}
	r := rotMatrix(c.UnitRot(src))
	for a := range 3 {
		d := r[3*a]*e[0] + r[3*a+1]*e[1] + r[3*a+2]*e[2]
		c.Pos[3*dst+a] = c.Pos[3*src+a] + float32(d)
		c.LogScale[3*dst+a] = c.LogScale[3*src+a] - float32(math.Log(splitShrink))
	}
}

// rotMatrix is the row-major rotation matrix of a unit quaternion (w,x,y,z).
func rotMatrix(q [4]float32) [9]float64 {
	w, x, y, z := float64(q[0]), float64(q[1]), float64(q[2]), float64(q[3])
	return [9]float64{
		1 - 2*(y*y+z*z), 2 * (x*y - w*z), 2 * (x*z + w*y),
		2 * (x*y + w*z), 1 - 2*(x*x+z*z), 2 * (y*z - w*x),
		2 * (x*z - w*y), 2 * (y*z + w*x), 1 - 2*(x*x+y*y),
	}
}

// maxScale is the largest activated scale of Gaussian i.
func maxScale(c *splat.Cloud, i int) float64 {
	l := c.LogScale[3*i : 3*i+3]
	return math.Exp(float64(max(l[0], l[1], l[2])))
}

// resetOpacity sets every opacity to min(α, 0.01) and zeroes the opacity
// group's Adam moments (3DGS replaces the tensor in the optimiser).
func (s *state) resetOpacity() {
	ceil := splat.Logit(resetOpacityMax)
	for i, l := range s.cloud.OpacityLogit {
		s.cloud.OpacityLogit[i] = min(l, ceil)
	}
	clear(s.mOpa)
	clear(s.vOpa)
}
