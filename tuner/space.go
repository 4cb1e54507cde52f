package tuner

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/splatbench/splatbench/configs"
)

// Sampling designs of a sweep (configs.Sweep.Sampling).
const (
	SamplingGrid   = "grid"
	SamplingRandom = "random"
	SamplingLHS    = "lhs"
)

// ErrEmptySpace is wrapped by every error that says a sweep has no points.
var ErrEmptySpace = errors.New("empty sweep space")

// dim is one knob, checked and typed against the base profile.
type dim struct {
	path   string
	values []any // a list knob (already coerced); nil for a range
	lo, hi float64
	step   float64
	log    bool
	isInt  bool
}

// Points expands a sweep into its parameter points. Grid sampling is the
// cartesian product of every knob's grid values (the first knob varies
// slowest); random draws Samples points, each knob independently
// (uniform over a list, uniform or log-uniform over a range); lhs draws a
// Latin hypercube of Samples points (every knob's range cut into Samples
// equal strata, uniformly or in log space, each stratum used once, a list
// knob's strata mapped onto its entries). Ranges snap to Step when it is
// set and round to integers for integer profile fields. Random and lhs are
// deterministic from Sweep.Seed; duplicate points (possible after
// rounding) are dropped, so they may return fewer than Samples points.
//
// base is the profile the sweep starts from: it gives each knob's type,
// and every point is checked by applying it to a copy of base, so a value
// the profile cannot take is an error here, not a failed trial later.
func Points(s configs.Sweep, base configs.Profile) ([]Point, error) {
	dims, err := checkKnobs(s.Knobs, base)
	if err != nil {
		return nil, err
	}
	var pts []Point
	switch strings.ToLower(s.Sampling) {
	case "", SamplingGrid:
		pts, err = gridPoints(dims)
	case SamplingRandom, SamplingLHS:
		if s.Samples <= 0 {
			return nil, fmt.Errorf("sweep: sampling %s needs samples > 0, got %d: %w", s.Sampling, s.Samples, ErrEmptySpace)
		}
		r := rand.New(rand.NewPCG(uint64(s.Seed), 0x5eed_5b17))
		if strings.EqualFold(s.Sampling, SamplingRandom) {
			pts = randomPoints(dims, s.Samples, r)
		} else {
			pts = lhsPoints(dims, s.Samples, r)
		}
	default:
		return nil, fmt.Errorf("sweep: sampling %q: want grid, random or lhs", s.Sampling)
	}
	if err != nil {
		return nil, err
	}
	for _, p := range pts {
		prof := base
		for _, d := range dims {
			if err := prof.SetValue(d.path, p.Values[d.path]); err != nil {
				return nil, fmt.Errorf("sweep: point %s: %w", p.ID, err)
			}
		}
	}
	return pts, nil
}

func checkKnobs(knobs []configs.Knob, base configs.Profile) ([]dim, error) {
	if len(knobs) == 0 {
		return nil, fmt.Errorf("sweep: no knobs: %w", ErrEmptySpace)
	}
	seen := map[string]int{}
	dims := make([]dim, 0, len(knobs))
	var errs []error
	for i, k := range knobs {
		d, err := checkKnob(k, base)
		if err != nil {
			errs = append(errs, fmt.Errorf("sweep: knobs[%d] (%s): %w", i, k.Name, err))
			continue
		}
		if j, dup := seen[d.path]; dup {
			errs = append(errs, fmt.Errorf("sweep: knobs[%d] (%s): same profile path as knobs[%d]", i, k.Name, j))
			continue
		}
		seen[d.path] = i
		dims = append(dims, d)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return dims, nil
}

func checkKnob(k configs.Knob, base configs.Profile) (dim, error) {
	d := dim{path: k.Path(), step: k.Step, log: k.Log}
	cur, err := base.Get(d.path)
	if err != nil {
		return d, err
	}
	numeric := false
	switch cur.(type) {
	case int, int64:
		numeric, d.isInt = true, true
	case float64:
		numeric = true
	}
	hasRange := k.Min != nil || k.Max != nil
	switch {
	case k.Values != nil && hasRange:
		return d, errors.New("has both values and min/max")
	case k.Values != nil:
		if len(k.Values) == 0 {
			return d, fmt.Errorf("values: empty list: %w", ErrEmptySpace)
		}
		for i, v := range k.Values {
			if d.isInt {
				f, ok := toFloat(v)
				if ok && f == math.Trunc(f) {
					v = int(f)
				}
			} else if numeric {
				if f, ok := toFloat(v); ok {
					v = f
				}
			}
			for _, w := range d.values {
				if FormatValue(w) == FormatValue(v) {
					return d, fmt.Errorf("values[%d]: %s listed twice", i, FormatValue(v))
				}
			}
			d.values = append(d.values, v)
		}
		return d, nil
	case !hasRange:
		return d, fmt.Errorf("neither values nor min/max: %w", ErrEmptySpace)
	}
	if !numeric {
		return d, fmt.Errorf("min/max on a %T field; list its values instead", cur)
	}
	if k.Min == nil || k.Max == nil {
		return d, errors.New("a range needs both min and max")
	}
	d.lo, d.hi = *k.Min, *k.Max
	switch {
	case math.IsNaN(d.lo) || math.IsNaN(d.hi) || math.IsInf(d.lo, 0) || math.IsInf(d.hi, 0):
		return d, fmt.Errorf("min %v, max %v: must be finite", d.lo, d.hi)
	case d.lo > d.hi:
		return d, fmt.Errorf("min %v > max %v: %w", d.lo, d.hi, ErrEmptySpace)
	case d.step < 0 || math.IsNaN(d.step):
		return d, fmt.Errorf("step %v: must be positive", d.step)
	case d.log && d.lo <= 0:
		return d, fmt.Errorf("log scale needs min > 0, got %v", d.lo)
	case d.isInt && math.Ceil(d.lo) > math.Floor(d.hi):
		return d, fmt.Errorf("integer field, but no integer in [%v, %v]: %w", d.lo, d.hi, ErrEmptySpace)
	}
	return d, nil
}

// gridValues lists a dimension's grid: its values, or lo, lo+step, ... hi.
func (d dim) gridValues() ([]any, error) {
	if d.values != nil {
		return d.values, nil
	}
	if d.step == 0 {
		if d.lo == d.hi {
			return []any{d.at(0)}, nil
		}
		return nil, fmt.Errorf("sweep: knob %s: a grid over a range needs a step (or use random/lhs sampling)", d.path)
	}
	n := int(math.Floor((d.hi-d.lo)/d.step+1e-9)) + 1
	const maxGrid = 1 << 20
	if n > maxGrid {
		return nil, fmt.Errorf("sweep: knob %s: %d grid values, more than %d", d.path, n, maxGrid)
	}
	var out []any
	seen := map[string]bool{}
	for i := range n {
		v := d.value(d.lo + float64(i)*d.step)
		if id := FormatValue(v); !seen[id] {
			seen[id] = true
			out = append(out, v)
		}
	}
	return out, nil
}

// value rounds x to the dimension's type and clamps it into the range.
func (d dim) value(x float64) any {
	if d.step > 0 {
		x = d.lo + math.Round((x-d.lo)/d.step)*d.step
		if x > d.hi {
			x -= d.step
		}
	}
	x = math.Min(math.Max(x, d.lo), d.hi)
	if d.isInt {
		r := math.Round(x)
		r = math.Min(math.Max(r, math.Ceil(d.lo)), math.Floor(d.hi))
		return int(r)
	}
	return x
}

// at maps u ∈ [0, 1) onto the dimension: a list entry, or a point of the
// range (log-uniform with Log).
func (d dim) at(u float64) any {
	if d.values != nil {
		i := min(int(u*float64(len(d.values))), len(d.values)-1)
		return d.values[i]
	}
	if d.log {
		return d.value(math.Exp(math.Log(d.lo) + u*(math.Log(d.hi)-math.Log(d.lo))))
	}
	return d.value(d.lo + u*(d.hi-d.lo))
}

// maxPoints bounds a grid so a typo cannot ask for billions of trials.
const maxPoints = 1 << 20

func gridPoints(dims []dim) ([]Point, error) {
	lists := make([][]any, len(dims))
	total := 1
	for i, d := range dims {
		vs, err := d.gridValues()
		if err != nil {
			return nil, err
		}
		lists[i] = vs
		total *= len(vs)
		if total > maxPoints {
			return nil, fmt.Errorf("sweep: grid has more than %d points", maxPoints)
		}
	}
	pts := make([]Point, 0, total)
	idx := make([]int, len(dims))
	for {
		v := make(map[string]any, len(dims))
		for i, d := range dims {
			v[d.path] = lists[i][idx[i]]
		}
		pts = append(pts, NewPoint(v))
		// Odometer: the last knob varies fastest.
		i := len(dims) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(lists[i]) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return pts, nil
		}
	}
}

func randomPoints(dims []dim, n int, r *rand.Rand) []Point {
	var pts []Point
	seen := map[string]bool{}
	for range n {
		v := make(map[string]any, len(dims))
		for _, d := range dims {
			v[d.path] = d.at(r.Float64())
		}
		pts = appendNew(pts, seen, NewPoint(v))
	}
	return pts
}

func lhsPoints(dims []dim, n int, r *rand.Rand) []Point {
	cols := make([][]any, len(dims))
	for j, d := range dims {
		perm := r.Perm(n)
		cols[j] = make([]any, n)
		for i := range n {
			cols[j][i] = d.at((float64(perm[i]) + r.Float64()) / float64(n))
		}
	}
	var pts []Point
	seen := map[string]bool{}
	for i := range n {
		v := make(map[string]any, len(dims))
		for j, d := range dims {
			v[d.path] = cols[j][i]
		}
		pts = appendNew(pts, seen, NewPoint(v))
	}
	return pts
}

func appendNew(pts []Point, seen map[string]bool, p Point) []Point {
	if seen[p.ID] {
		return pts
	}
	seen[p.ID] = true
	return append(pts, p)
}
