package tuner

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/results"
)

// trialRecs makes measured records for one run point: one per (latency,
// score) pair, with a fit and an encode stage.
func trialRecs(it int, lat, score []float64) []results.Record {
	p := NewPoint(map[string]any{"fit.iterations": it})
	var out []results.Record
	for k := range lat {
		out = append(out, results.Record{
			ID: TrialID(p, "p1", k, false), Kind: results.KindTrial, Params: p.Values, Repeat: k,
			TotalSeconds: lat[k],
			Stages:       []results.StageTiming{{Name: "fit", Seconds: lat[k] * 0.75}, {Name: "encode", Seconds: lat[k] * 0.25}},
			Scores:       map[string]float64{ScoreKey: score[k], "psnr": 20},
			ScoreKind:    ScoreValidator,
		})
	}
	return out
}

// sweepFixture is four run points plus one threshold variant of the first:
//
//	A it=100: latency 1,1,2  score .4 .5 .6  (+ one failed trial, + a warm-up)
//	B it=200: latency 2,2,3  score .7 .7 .8
//	C it=400: latency 4,4,4  score .75 .8 .9
//	D it=800: latency 8      score .7        (dominated by B)
//	A' = A at score.threshold 0.4
func sweepFixture() ([]Point, []results.Record) {
	var recs []results.Record
	a := NewPoint(map[string]any{"fit.iterations": 100})
	recs = append(recs, results.Record{ID: TrialID(a, "p1", 0, true), Kind: results.KindTrial, Params: a.Values, Warmup: true, TotalSeconds: 50})
	recs = append(recs, trialRecs(100, []float64{1, 1, 2}, []float64{0.4, 0.5, 0.6})...)
	recs = append(recs, results.Record{ID: TrialID(a, "p1", 3, false), Kind: results.KindTrial, Params: a.Values, Repeat: 3, TotalSeconds: 0.5, Error: "fit: NaN loss"})
	recs = append(recs, trialRecs(200, []float64{2, 2, 3}, []float64{0.7, 0.7, 0.8})...)
	recs = append(recs, trialRecs(400, []float64{4, 4, 4}, []float64{0.75, 0.8, 0.9})...)
	recs = append(recs, trialRecs(800, []float64{8}, []float64{0.7})...)
	pts := []Point{
		a,
		NewPoint(map[string]any{"fit.iterations": 200}),
		NewPoint(map[string]any{"fit.iterations": 400}),
		NewPoint(map[string]any{"fit.iterations": 800}),
		NewPoint(map[string]any{"fit.iterations": 100, ThresholdKnob: 0.4}),
		NewPoint(map[string]any{"fit.iterations": 1600}), // never run
	}
	return pts, recs
}

func fixtureStats(t *testing.T) []PointStats {
	t.Helper()
	pts, recs := sweepFixture()
	return Aggregate(pts, recs, AggregateOptions{Threshold: 0.6, Reward: DefaultRewardModel(1, 1)})
}

func TestAggregate(t *testing.T) {
	t.Parallel()
	st := fixtureStats(t)
	type row struct {
		Trials, Failed              int
		P50, P90, ScoreMean, Thresh float64
		AcceptRate                  float64
		Acc, Rej, Skip              int
		PerHour, Tasks              float64
	}
	got := make([]row, len(st))
	for i, s := range st {
		got[i] = row{s.Trials, s.Failed, s.Latency.P50, s.Latency.P90, s.Score.Mean, s.Threshold, s.AcceptRate,
			s.Accepted, s.Rejected, s.Skipped, s.Reward.AcceptedPerHour, s.Reward.TasksPerHour}
	}
	nan := math.NaN()
	want := []row{
		// A: 1 of 4 passes 0.6; all cycles 300 s → 12 tasks/h, 3 accepted/h.
		{4, 1, 1, 2, 0.5, 0.6, 0.25, 1, 0, 3, 3, 12},
		{3, 0, 2, 3, 0.7333333333333334, 0.6, 1, 3, 0, 0, 12, 12},
		{3, 0, 4, 4, 0.8166666666666668, 0.6, 1, 3, 0, 0, 12, 12},
		{1, 0, 8, 8, 0.7, 0.6, 1, 1, 0, 0, 12, 12},
		// A': .4 and .5 are now submitted and rejected (900 s cycles):
		// E[C] = (300+900+900+300)/4 = 600 s → 6 tasks/h, 1.5 accepted/h.
		{4, 1, 1, 2, 0.5, 0.4, 0.75, 1, 2, 1, 1.5, 6},
		{0, 0, nan, nan, nan, 0.6, nan, 0, 0, 0, nan, nan},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateNaNs(), cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if st[4].RunID != st[0].Point.ID {
		t.Errorf("threshold variant runs as %q, want %q", st[4].RunID, st[0].Point.ID)
	}
	var stages []string
	for _, s := range st[0].Stages {
		stages = append(stages, s.Stage)
	}
	if diff := cmp.Diff([]string{"fit", "encode", results.TotalStage}, stages); diff != "" {
		t.Errorf("stages (-want +got):\n%s", diff)
	}
	if st[5].RewardErr == "" {
		t.Error("a point without trials has no reward error")
	}
}

func TestAggregateLastRecordWins(t *testing.T) {
	t.Parallel()
	p := NewPoint(map[string]any{"fit.iterations": 100})
	failed := results.Record{ID: "x", Kind: results.KindTrial, Params: p.Values, TotalSeconds: 3, Error: "boom"}
	retried := trialRecs(100, []float64{2}, []float64{0.9})[0]
	retried.ID = "x"
	st := Aggregate([]Point{p}, []results.Record{failed, retried}, AggregateOptions{Reward: DefaultRewardModel(1, 1)})
	if st[0].Trials != 1 || st[0].Failed != 0 || st[0].Latency.P50 != 2 {
		t.Errorf("stats %+v, want the retried record only", st[0])
	}
}

func TestFront(t *testing.T) {
	t.Parallel()
	st := fixtureStats(t)
	tests := []struct {
		objectives []string
		want       []int
	}{
		// A and A' share latency and score: both on the front.
		{[]string{"latency_p50", "score"}, []int{0, 4, 1, 2}},
		// A is faster, B earns more.
		{[]string{"latency_p50", "reward_rate"}, []int{0, 1}},
		// A' passes more often than A at the same latency and score.
		{[]string{"latency_p50", "score", "accept_rate"}, []int{4, 1, 2}},
	}
	for _, tt := range tests {
		objs, err := LookupObjectives(tt.objectives)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Front(st, objs)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%v: front (-want +got):\n%s", tt.objectives, diff)
		}
	}
	if _, err := LookupObjectives([]string{"latency_p42"}); err == nil {
		t.Error("unknown objective: want an error")
	}
}

func TestSelect(t *testing.T) {
	t.Parallel()
	st := fixtureStats(t)
	picks, err := Select(st)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, p := range picks {
		got[p.Name] = p.Index
	}
	// fastest: A (p50 1 s, passes once); best score: C; best reward: B and
	// C tie at 12/h, B is faster; knee: B (normalised gap 0.40).
	want := map[string]int{ProfileFastest: 0, ProfileBestScore: 2, ProfileBestReward: 1, ProfileKnee: 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("picks (-want +got):\n%s", diff)
	}
	if _, err := Select(st[5:]); err == nil {
		t.Error("no successful points: want an error")
	}
}

func TestWriteProfilesLoadBack(t *testing.T) {
	t.Parallel()
	st := fixtureStats(t)
	picks, err := Select(st)
	if err != nil {
		t.Fatal(err)
	}
	// Give the knee pick a threshold point, to check analysis knobs land
	// in the profile too.
	picks[3].Index = 4
	base := configs.DefaultProfile()
	dir := t.TempDir()
	paths, err := WriteProfiles(dir, base, st, picks)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]float64{
		ProfileFastest:    {100, 0.6},
		ProfileBestScore:  {400, 0.6},
		ProfileBestReward: {200, 0.6},
		ProfileKnee:       {100, 0.4},
	}
	for i, path := range paths {
		name := picks[i].Name
		if path != filepath.Join(dir, ProfilesDir, name+".yaml") {
			t.Errorf("path %s", path)
		}
		prof, err := configs.LoadProfile(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if prof.Name != name || prof.Fit.Iterations != int(want[name][0]) || prof.Score.Threshold != want[name][1] {
			t.Errorf("%s: name %q, fit.iterations %d, threshold %v; want %v", name, prof.Name, prof.Fit.Iterations, prof.Score.Threshold, want[name])
		}
		// Everything else is the base profile.
		prof.Name, prof.Fit.Iterations, prof.Score.Threshold = base.Name, base.Fit.Iterations, base.Score.Threshold
		if diff := cmp.Diff(base, prof); diff != "" {
			t.Errorf("%s differs from the base beyond its knobs (-base +got):\n%s", name, diff)
		}
	}
}
