package fit

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// randomState builds a state of n Gaussians with random parameters, Adam
// moments and statistics. SH channel 0 of the DC term holds the Gaussian's
// id so rows can be traced through densification.
func randomState(r *rand.Rand, n, shDegree int) *state {
	c := splat.NewCloud(n, shDegree)
	for i := range c.Pos {
		c.Pos[i] = r.Float32()*2 - 1
	}
	for i := range c.LogScale {
		c.LogScale[i] = float32(math.Log(0.002 + 0.6*r.Float64()*r.Float64()))
	}
	for i := range c.Rot {
		c.Rot[i] = float32(r.NormFloat64())
	}
	for i := range c.OpacityLogit {
		c.OpacityLogit[i] = float32(r.NormFloat64() * 3)
	}
	for i := range c.SH {
		c.SH[i] = float32(r.NormFloat64())
	}
	k := c.K()
	for i := range n {
		c.SH[3*k*i] = float32(i)
	}
	s := newState(c)
	for _, col := range s.columns() {
		if col.param {
			continue
		}
		for i := range *col.ptr {
			(*col.ptr)[i] = r.Float32()
		}
	}
	for i := range s.denom {
		s.denom[i] = float32(r.IntN(4))
		s.gradAccum[i] = s.denom[i] * float32(r.ExpFloat64()*2e-4)
	}
	s.adamSteps = 7
	return s
}

// rowOf returns the values of every column at row i.
func rowOf(s *state, i int) [][]float32 {
	var out [][]float32
	for _, col := range s.columns() {
		k := col.stride
		out = append(out, slices.Clone((*col.ptr)[i*k:(i+1)*k]))
	}
	return out
}

func TestDensifyAndPruneProperties(t *testing.T) {
	t.Parallel()
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 99))
		n := 1 + r.IntN(60)
		deg := r.IntN(3)
		s := randomState(r, n, deg)
		cfg := densifyConfig{
			gradThreshold:   2e-4,
			percentDense:    0.01 + 0.1*r.Float64(),
			extent:          4,
			pruneOpacity:    []float64{0, 0.01, 0.2}[r.IntN(3)],
			pruneWorldScale: []float64{0, 0.1}[r.IntN(2)],
			maxGaussians:    []int{0, n, n + 5, 2 * n}[r.IntN(4)],
		}
		orig := make([][][]float32, n)
		grad := make([]float64, n)
		for i := range n {
			orig[i] = rowOf(s, i)
			if s.denom[i] > 0 {
				grad[i] = float64(s.gradAccum[i] / s.denom[i])
			}
		}
		ev := s.densifyAndPrune(cfg, r)
		if err := s.check(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		c := s.cloud
		if ev.After != c.Len() || ev.Before != n || ev.After != n+ev.Cloned+ev.Split-ev.Pruned {
			t.Fatalf("seed %d: event %+v does not add up (len %d)", seed, ev, c.Len())
		}
		if cfg.maxGaussians > 0 && ev.Before+ev.Cloned+ev.Split > max(cfg.maxGaussians, n) {
			t.Errorf("seed %d: densified to %d, cap %d", seed, ev.Before+ev.Cloned+ev.Split, cfg.maxGaussians)
		}
		if s.adamSteps != 7 {
			t.Errorf("seed %d: Adam step count changed to %d", seed, s.adamSteps)
		}
		for i := range s.gradAccum {
			if s.gradAccum[i] != 0 || s.denom[i] != 0 {
				t.Fatalf("seed %d: statistics not reset at %d", seed, i)
			}
		}
		k := c.K()
		big := math.Inf(1)
		if cfg.pruneWorldScale > 0 {
			big = cfg.pruneWorldScale * cfg.extent
		}
		perID := make(map[int]int)
		for row := range c.Len() {
			id := int(c.SH[3*k*row])
			if id < 0 || id >= n {
				t.Fatalf("seed %d: row %d has id %d", seed, row, id)
			}
			perID[id]++
			got := rowOf(s, row)
			o := orig[id]
			cols := s.columns()
			child := false
			for ci, col := range cols {
				if !col.param && !slices.Equal(got[ci], o[ci]) {
					child = true
					for _, v := range got[ci] {
						if v != 0 {
							t.Fatalf("seed %d: row %d (id %d) column %s is neither the original's nor zero", seed, row, id, col.name)
						}
					}
				}
			}
			if !child {
				for ci := range cols {
					if !slices.Equal(got[ci], o[ci]) {
						t.Fatalf("seed %d: surviving row %d (id %d) column %s changed", seed, row, id, cols[ci].name)
					}
				}
			}
			// Rotation, opacity and SH are always copied.
			for _, ci := range []int{2, 3, 4} {
				if !slices.Equal(got[ci], o[ci]) {
					t.Fatalf("seed %d: row %d (id %d) column %s differs from its parent", seed, row, id, cols[ci].name)
				}
			}
			if ev.Pruned > 0 && ev.After > 0 && (c.Opacity(row) < float32(cfg.pruneOpacity)*0.999 || maxScale(c, row) > big*1.0001) {
				t.Errorf("seed %d: row %d survived the prune (opacity %v, scale %v)", seed, row, c.Opacity(row), maxScale(c, row))
			}
		}
		for id := range n {
			if perID[id] > splitN {
				t.Errorf("seed %d: id %d appears %d times", seed, id, perID[id])
			}
			if grad[id] < cfg.gradThreshold && perID[id] > 1 {
				t.Errorf("seed %d: id %d with gradient %g below threshold was densified", seed, id, grad[id])
			}
		}
	}
}

func TestSplitChildren(t *testing.T) {
	t.Parallel()
	c := splat.NewCloud(1, 0)
	c.LogScale[0], c.LogScale[1], c.LogScale[2] = float32(math.Log(0.2)), float32(math.Log(0.05)), float32(math.Log(0.05))
	c.OpacityLogit[0] = 2
	s := newState(c)
	s.gradAccum[0], s.denom[0] = 1, 1
	cfg := densifyConfig{gradThreshold: 2e-4, percentDense: 0.01, extent: 4, pruneOpacity: 0.01, pruneWorldScale: 0.1}
	ev := s.densifyAndPrune(cfg, rand.New(rand.NewPCG(1, 1)))
	if diff := (DensifyEvent{Before: 1, Split: 1, After: 2}); ev != diff {
		t.Fatalf("event %+v, want %+v", ev, diff)
	}
	for i := range 2 {
		if got, want := c.LogScale[3*i], float32(math.Log(0.2/1.6)); math.Abs(float64(got-want)) > 1e-6 {
			t.Errorf("child %d log-scale %v, want %v", i, got, want)
		}
		// Samples come from N(0, diag(σ²)): within 6σ per axis.
		for a, sd := range []float64{0.2, 0.05, 0.05} {
			if math.Abs(float64(c.Pos[3*i+a])) > 6*sd {
				t.Errorf("child %d axis %d at %v, beyond 6σ", i, a, c.Pos[3*i+a])
			}
		}
	}
}

func TestResetOpacity(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 5))
	s := randomState(r, 20, 0)
	before := slices.Clone(s.cloud.OpacityLogit)
	s.resetOpacity()
	for i, l := range s.cloud.OpacityLogit {
		want := min(before[i], splat.Logit(0.01))
		if l != want {
			t.Errorf("opacity logit %d = %v, want %v", i, l, want)
		}
		if s.mOpa[i] != 0 || s.vOpa[i] != 0 {
			t.Errorf("Adam opacity moments %d not reset", i)
		}
	}
}

func TestAppendAndKeepRows(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 7))
	s := randomState(r, 5, 1)
	want := [][][]float32{rowOf(s, 4), rowOf(s, 1)}
	first := s.appendCopies([]int{4, 1})
	if first != 5 || s.len() != 7 {
		t.Fatalf("appendCopies: first %d, len %d", first, s.len())
	}
	if err := s.check(); err != nil {
		t.Fatal(err)
	}
	s.keep([]bool{false, false, false, false, false, true, true})
	if s.len() != 2 {
		t.Fatalf("keep: len %d, want 2", s.len())
	}
	for row := range 2 {
		got := rowOf(s, row)
		for ci, col := range s.columns() {
			if col.param && !slices.Equal(got[ci], want[row][ci]) {
				t.Errorf("row %d column %s = %v, want %v", row, col.name, got[ci], want[row][ci])
			}
			if !col.param && slices.ContainsFunc(got[ci], func(v float32) bool { return v != 0 }) {
				t.Errorf("row %d column %s = %v, want zeros", row, col.name, got[ci])
			}
		}
	}
}
