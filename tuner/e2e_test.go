package tuner

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/results"
)

// TestSweepEndToEnd wires the pieces the way cmd/splatbench tune does: a
// sweep → points → runner into a run directory → outputs and profiles.
func TestSweepEndToEnd(t *testing.T) {
	t.Parallel()
	sweep := configs.DefaultSweep()
	sweep.Knobs = []configs.Knob{
		{Name: "fit.iterations", Values: []any{100, 200, 400}},
		{Name: "score.threshold", Values: []any{0.3, 0.35}},
	}
	sweep.Repeats, sweep.Warmup = 2, 1
	base := configs.DefaultProfile()
	pts, err := Points(sweep, base)
	if err != nil {
		t.Fatal(err)
	}
	run, err := results.Create(t.TempDir(), "tune", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	w, err := run.AppendRecords()
	if err != nil {
		t.Fatal(err)
	}
	ev := &fakeEvaluator{}
	r := &Runner{Evaluator: ev, Writer: w, Repeats: sweep.Repeats, Warmup: sweep.Warmup, Timeout: sweep.TrialTimeout, Workers: sweep.Workers}
	stats, err := r.Run(context.Background(), pts, testPrompts, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	// 3 run points (the threshold is judged afterwards) × 2 prompts × 3.
	if stats.Evaluated != 18 || len(ev.Calls()) != 18 {
		t.Errorf("stats %+v, %d calls; want 18", stats, len(ev.Calls()))
	}
	recs, warns, err := run.ReadRecords()
	if err != nil || len(warns) > 0 {
		t.Fatal(err, warns)
	}
	out, err := WriteOutputs(run, OutputOptions{
		Base: base, Points: pts, Records: recs, Objectives: sweep.Objectives,
		Aggregate: AggregateOptions{Threshold: base.Score.Threshold, Reward: DefaultRewardModel(sweep.Workers, sweep.Validators)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Stats) != 6 || len(out.Profiles) != 4 {
		t.Fatalf("%d stats, profiles %v", len(out.Stats), out.Profiles)
	}
	for _, p := range out.Profiles {
		if _, err := configs.LoadProfile(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := os.Stat(run.Path(ReportFile)); err != nil {
		t.Error(err)
	}
	// The fake scores it/1000: 0.1, 0.2, 0.4. Only it=400 passes either
	// threshold, so best-reward-rate is it=400.
	for _, p := range out.Picks {
		if p.Name == ProfileBestReward {
			if it, _ := out.Stats[p.Index].Point.Float("fit.iterations"); it != 400 {
				t.Errorf("best-reward-rate at %s", out.Stats[p.Index].Point.ID)
			}
		}
	}
}
