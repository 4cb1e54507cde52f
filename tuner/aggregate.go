package tuner

import (
	"fmt"
	"math"

	"github.com/splatbench/splatbench/results"
)

// PointStats is everything the tuner knows about one point after its
// trials: the objectives the Pareto front and the profiles are chosen by.
type PointStats struct {
	Point Point
	// RunID is the ID of the run point whose trials these are (Point
	// without its analysis knobs).
	RunID string
	// Trials is the number of measured trials recorded (warm-ups are not
	// counted); Failed of them ended with an error.
	Trials, Failed int
	// Latency is the distribution of the total job time in seconds over
	// the successful measured trials (nearest-rank percentiles).
	Latency results.Summary
	// Stages are the per-stage distributions over the same trials, in
	// pipeline order, ending with the "total" row.
	Stages []results.StageSummary
	// Score is the distribution of Scores["score"] over the successful
	// measured trials that have one; ScoreKind says what it is.
	Score     results.Summary
	ScoreKind string
	// Threshold is the self-check threshold the point was judged at: its
	// score.threshold knob, or the base profile's.
	Threshold float64
	// AcceptRate is the fraction of measured trials (failed ones
	// included) whose score is ≥ Threshold.
	AcceptRate float64
	// Verdicts counts the trials by what the reward model makes of them.
	Accepted, Rejected, Skipped int
	// Reward is the expected reward rate; RewardErr says why it is
	// missing (no trials).
	Reward    RewardRate
	RewardErr string
}

// OK reports whether the point has at least one successful measured trial,
// so its latency and score mean something.
func (s PointStats) OK() bool { return s.Latency.N > 0 }

// AggregateOptions are the settings aggregation needs besides the records.
type AggregateOptions struct {
	// Threshold is the base profile's score.threshold, used for points
	// that do not sweep it.
	Threshold float64
	// Reward is the reward-rate model (workers, validators, rules).
	Reward RewardModel
}

// Aggregate computes the statistics of every point from the records of a
// sweep (trials.jsonl). Records are matched to points by the point ID of
// their Params, so points that differ only in analysis knobs share
// records; warm-ups and non-trial records are ignored; when an ID occurs
// more than once (a failed trial retried on resume) the last record wins.
// Points without records come back with Trials = 0 and NaN statistics.
func Aggregate(points []Point, recs []results.Record, opt AggregateOptions) []PointStats {
	byRun := map[string][]results.Record{}
	last := map[string]int{} // trial ID → index in byRun[run]
	for _, rec := range recs {
		if rec.Kind != results.KindTrial || rec.Warmup {
			continue
		}
		run := PointID(rec.Params)
		if i, dup := last[rec.ID]; dup {
			byRun[run][i] = rec
			continue
		}
		last[rec.ID] = len(byRun[run])
		byRun[run] = append(byRun[run], rec)
	}
	out := make([]PointStats, len(points))
	for i, p := range points {
		rp := RunPoint(p)
		out[i] = aggregatePoint(p, rp.ID, byRun[rp.ID], opt)
	}
	return out
}

func aggregatePoint(p Point, runID string, recs []results.Record, opt AggregateOptions) PointStats {
	s := PointStats{Point: p, RunID: runID, Threshold: opt.Threshold, Trials: len(recs)}
	if th, ok := p.Float(ThresholdKnob); ok {
		s.Threshold = th
	}
	var lat, scores []float64
	var samples []TaskSample
	pass := 0
	for _, rec := range recs {
		if s.ScoreKind == "" {
			s.ScoreKind = rec.ScoreKind
		}
		score, hasScore := rec.Scores[ScoreKey]
		if math.IsNaN(score) {
			hasScore = false
		}
		if !rec.OK() {
			s.Failed++
		} else {
			lat = append(lat, rec.TotalSeconds)
			if hasScore {
				scores = append(scores, score)
			}
		}
		if rec.OK() && ((hasScore && score >= s.Threshold) || (!hasScore && rec.Accepted != nil && *rec.Accepted)) {
			pass++
		}
		v := opt.Reward.Classify(!rec.OK(), score, hasScore, rec.ScoreKind, s.Threshold, rec.Accepted)
		switch v {
		case Accepted:
			s.Accepted++
		case Rejected:
			s.Rejected++
		default:
			s.Skipped++
		}
		samples = append(samples, TaskSample{Seconds: rec.TotalSeconds, Verdict: v})
	}
	s.Latency = results.Summarize(lat)
	s.Score = results.Summarize(scores)
	s.Stages = results.SummarizeStages(recs)
	if s.Trials > 0 {
		s.AcceptRate = float64(pass) / float64(s.Trials)
	} else {
		s.AcceptRate = math.NaN()
	}
	r, err := opt.Reward.Rate(samples)
	if err != nil {
		s.RewardErr = err.Error()
		s.Reward = RewardRate{TasksPerHour: math.NaN(), AcceptedPerHour: math.NaN(), CycleSeconds: math.NaN(), WorkersToSaturate: math.NaN()}
	} else {
		s.Reward = r
	}
	return s
}

// Objective is one metric of a point that the front can be built on.
type Objective struct {
	// Name is what sweeps and tables call it ("latency_p50", "score", ...).
	Name      string
	Direction Direction
	// Unit is shown in table headers ("s", "", "/h").
	Unit  string
	Value func(PointStats) float64
}

// Objectives lists the metrics a sweep's objectives may name.
var Objectives = []Objective{
	{"latency_p50", Minimize, "s", func(s PointStats) float64 { return s.Latency.P50 }},
	{"latency_p90", Minimize, "s", func(s PointStats) float64 { return s.Latency.P90 }},
	{"latency_p99", Minimize, "s", func(s PointStats) float64 { return s.Latency.P99 }},
	{"latency_mean", Minimize, "s", func(s PointStats) float64 { return s.Latency.Mean }},
	{"score", Maximize, "", func(s PointStats) float64 { return s.Score.Mean }},
	{"score_p50", Maximize, "", func(s PointStats) float64 { return s.Score.P50 }},
	{"accept_rate", Maximize, "", func(s PointStats) float64 { return s.AcceptRate }},
	{"reward_rate", Maximize, "/h", func(s PointStats) float64 { return s.Reward.AcceptedPerHour }},
}

// DefaultObjectives are latency p50 against mean score.
var DefaultObjectives = []string{"latency_p50", "score"}

// LookupObjectives resolves objective names (nil or empty: the defaults).
func LookupObjectives(names []string) ([]Objective, error) {
	if len(names) == 0 {
		names = DefaultObjectives
	}
	out := make([]Objective, 0, len(names))
	seen := map[string]bool{}
	for _, n := range names {
		found := false
		for _, o := range Objectives {
			if o.Name == n {
				out, found = append(out, o), true
				break
			}
		}
		if !found {
			var known []string
			for _, o := range Objectives {
				known = append(known, o.Name)
			}
			return nil, fmt.Errorf("objective %q: want one of %v", n, known)
		}
		if seen[n] {
			return nil, fmt.Errorf("objective %q listed twice", n)
		}
		seen[n] = true
	}
	return out, nil
}

// Front returns the indices (into stats) of the Pareto-optimal points under
// the objectives, ordered by the first objective (best first). Points
// whose objectives are not all known (no successful trial, no score) are
// left out.
func Front(stats []PointStats, objectives []Objective) ([]int, error) {
	if len(objectives) == 0 {
		return nil, fmt.Errorf("front: no objectives")
	}
	vecs, idx := objectiveVectors(stats, objectives)
	var local []int
	if len(objectives) == 2 {
		f, err := Front2D(vecs)
		if err != nil {
			return nil, err
		}
		local = f
	} else {
		fronts, err := NonDominatedSort(vecs)
		if err != nil {
			return nil, err
		}
		if len(fronts) > 0 {
			local = fronts[0]
		}
		sortByFirst(local, vecs)
	}
	out := make([]int, len(local))
	for k, i := range local {
		out[k] = idx[i]
	}
	return out, nil
}

// objectiveVectors returns the minimised objective vectors of the points
// whose objectives are all finite, and their indices into stats.
func objectiveVectors(stats []PointStats, objectives []Objective) ([][]float64, []int) {
	var vecs [][]float64
	var idx []int
	for i, s := range stats {
		v := make([]float64, len(objectives))
		ok := s.OK()
		for j, o := range objectives {
			x := o.Value(s)
			if math.IsNaN(x) || math.IsInf(x, 0) {
				ok = false
				break
			}
			if o.Direction == Maximize {
				x = -x
			}
			v[j] = x
		}
		if ok {
			vecs = append(vecs, v)
			idx = append(idx, i)
		}
	}
	return vecs, idx
}

func sortByFirst(local []int, vecs [][]float64) {
	for i := 1; i < len(local); i++ {
		for j := i; j > 0 && lessVec(vecs[local[j]], vecs[local[j-1]]); j-- {
			local[j], local[j-1] = local[j-1], local[j]
		}
	}
}

func lessVec(a, b []float64) bool {
	for k := range a {
		if a[k] != b[k] {
			return a[k] < b[k]
		}
	}
	return false
}
