package tuner

import (
	"bytes"
	"testing"
	"time"

	"github.com/splatbench/splatbench/results"
)

func writeRun(t *testing.T, out string, at time.Time, recs []results.Record) *results.Run {
	t.Helper()
	run, err := results.Create(out, "tune", at)
	if err != nil {
		t.Fatal(err)
	}
	w, err := run.AppendRecords()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return run
}

func TestCompareGolden(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	_, recsA := sweepFixture()
	// B: the same sweep on a machine twice as fast, without it=800, plus
	// an it=50 point A never ran.
	var recsB []results.Record
	for _, r := range recsA {
		if it, _ := toFloat(r.Params["fit.iterations"]); it == 800 {
			continue
		}
		r.TotalSeconds /= 2
		recsB = append(recsB, r)
	}
	recsB = append(recsB, trialRecs(50, []float64{0.2}, []float64{0.3})...)
	a := writeRun(t, out, time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC), recsA)
	b := writeRun(t, out, time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC), recsB)
	tab, err := Compare(a, b, AggregateOptions{Threshold: 0.6, Reward: DefaultRewardModel(1, 4)})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tab.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.txt", buf.Bytes())
}

func TestCompareNothingInCommon(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	a := writeRun(t, out, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), trialRecs(100, []float64{1}, []float64{0.5}))
	b := writeRun(t, out, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), trialRecs(200, []float64{1}, []float64{0.5}))
	if _, err := Compare(a, b, AggregateOptions{Reward: DefaultRewardModel(1, 1)}); err == nil {
		t.Error("want an error for runs with no point in common")
	}
}
