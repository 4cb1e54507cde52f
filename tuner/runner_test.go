package tuner

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/splatbench/splatbench/results"
)

// fakeEvaluator stands on the far side of the Evaluator boundary: it
// "generates" by computing a deterministic score from the point and
// counts what it was asked to do.
type fakeEvaluator struct {
	mu    sync.Mutex
	calls []string
	// hook, when set, runs first and may fail or block the trial.
	hook func(ctx context.Context, t Trial) error
}

func (f *fakeEvaluator) Evaluate(ctx context.Context, t Trial) (Outcome, error) {
	f.mu.Lock()
	f.calls = append(f.calls, t.ID)
	f.mu.Unlock()
	if f.hook != nil {
		if err := f.hook(ctx, t); err != nil {
			return Outcome{}, err
		}
	}
	it, _ := t.Point.Float("fit.iterations")
	secs := it / 100
	return Outcome{
		Stages:    []results.StageTiming{{Name: "fit", Seconds: secs}},
		Total:     time.Duration(secs * float64(time.Second)),
		Scores:    map[string]float64{ScoreKey: it / 1000},
		ScoreKind: ScoreFidelity,
	}, nil
}

func (f *fakeEvaluator) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func testPoints(t *testing.T, iters ...int) []Point {
	t.Helper()
	var pts []Point
	for _, it := range iters {
		pts = append(pts, NewPoint(map[string]any{"fit.iterations": it}))
	}
	return pts
}

var testPrompts = []Prompt{{ID: "p1", Text: "a red cube"}, {ID: "p2", Image: "img/chair.png", Text: "chair"}}

// memWriter collects records in memory through a real results.Writer.
func memWriter() (*results.Writer, *bytes.Buffer) {
	var buf bytes.Buffer
	return results.NewWriter(&buf, "mem"), &buf
}

func readBack(t *testing.T, buf *bytes.Buffer) []results.Record {
	t.Helper()
	r := results.NewReader(bytes.NewReader(buf.Bytes()), "mem")
	var recs []results.Record
	for r.Scan() {
		rec, err := r.Record()
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestRunnerRecordsEveryTrialInOrder(t *testing.T) {
	t.Parallel()
	ev := &fakeEvaluator{}
	w, buf := memWriter()
	r := &Runner{Evaluator: ev, Writer: w, Repeats: 2, Warmup: 1, Seed: 10}
	stats, err := r.Run(t.Context(), testPoints(t, 100, 200), testPrompts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(RunStats{Planned: 12, Evaluated: 12}, stats); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	recs := readBack(t, buf)
	var got []string
	for _, rec := range recs {
		got = append(got, rec.ID)
	}
	want := []string{
		"fit.iterations=100|p1|w0", "fit.iterations=100|p1|r0", "fit.iterations=100|p1|r1",
		"fit.iterations=100|p2|w0", "fit.iterations=100|p2|r0", "fit.iterations=100|p2|r1",
		"fit.iterations=200|p1|w0", "fit.iterations=200|p1|r0", "fit.iterations=200|p1|r1",
		"fit.iterations=200|p2|w0", "fit.iterations=200|p2|r0", "fit.iterations=200|p2|r1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("record order (-want +got):\n%s", diff)
	}
	r1 := recs[2]
	if !(r1.Kind == results.KindTrial && r1.Seed == 11 && r1.Repeat == 1 && !r1.Warmup && r1.TotalSeconds == 1 &&
		r1.Prompt == "a red cube" && r1.Scores[ScoreKey] == 0.1 && r1.ScoreKind == ScoreFidelity) {
		t.Errorf("record %+v", r1)
	}
	if !recs[0].Warmup || recs[3].Prompt != "img/chair.png" {
		t.Errorf("warm-up flag or image prompt lost: %+v %+v", recs[0], recs[3])
	}
	if it, _ := toFloat(r1.Params["fit.iterations"]); it != 100 {
		t.Errorf("params = %v", r1.Params)
	}
}

func TestRunnerThresholdPointsShareTrials(t *testing.T) {
	t.Parallel()
	ev := &fakeEvaluator{}
	w, _ := memWriter()
	pts := []Point{
		NewPoint(map[string]any{"fit.iterations": 100, ThresholdKnob: 0.5}),
		NewPoint(map[string]any{"fit.iterations": 100, ThresholdKnob: 0.6}),
	}
	r := &Runner{Evaluator: ev, Writer: w, Repeats: 1}
	if _, err := r.Run(t.Context(), pts, testPrompts[:1], nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"fit.iterations=100|p1|r0"}, ev.Calls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestRunnerFailuresAreRecordedAndTheSweepGoesOn(t *testing.T) {
	t.Parallel()
	ev := &fakeEvaluator{hook: func(ctx context.Context, tr Trial) error {
		switch {
		case strings.HasPrefix(tr.ID, "fit.iterations=100|p1|r0"):
			return errors.New("matte: model file truncated")
		case strings.HasPrefix(tr.ID, "fit.iterations=100|p2|r0"):
			panic("index out of range")
		}
		return nil
	}}
	w, buf := memWriter()
	r := &Runner{Evaluator: ev, Writer: w, Repeats: 1}
	stats, err := r.Run(t.Context(), testPoints(t, 100, 200), testPrompts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Evaluated != 4 || stats.Failed != 2 {
		t.Errorf("stats = %+v, want 4 evaluated, 2 failed", stats)
	}
	recs := readBack(t, buf)
	if recs[0].Error != "matte: model file truncated" {
		t.Errorf("record 0 error = %q", recs[0].Error)
	}
	if !strings.HasPrefix(recs[1].Error, "evaluator panicked: index out of range") {
		t.Errorf("record 1 error = %q", recs[1].Error)
	}
	if !recs[2].OK() || !recs[3].OK() {
		t.Errorf("later trials failed: %+v", recs[2:])
	}
}

func TestRunnerTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ev := &fakeEvaluator{hook: func(ctx context.Context, tr Trial) error {
			if strings.HasPrefix(tr.ID, "fit.iterations=200|") {
				<-ctx.Done() // a stage that hangs until cancelled
				return ctx.Err()
			}
			time.Sleep(30 * time.Second)
			return nil
		}}
		w, buf := memWriter()
		r := &Runner{Evaluator: ev, Writer: w, Repeats: 1, Timeout: time.Minute}
		start := time.Now()
		stats, err := r.Run(t.Context(), testPoints(t, 100, 200), testPrompts[:1], nil)
		if err != nil {
			t.Fatal(err)
		}
		if elapsed := time.Since(start); elapsed != 90*time.Second {
			t.Errorf("sweep took %v of fake time, want 30s + 1m timeout", elapsed)
		}
		if stats.Failed != 1 {
			t.Errorf("stats = %+v", stats)
		}
		recs := readBack(t, buf)
		if recs[0].Error != "" || recs[0].TotalSeconds != 1 {
			t.Errorf("record 0 = %+v", recs[0])
		}
		if want := "timed out after 1m0s: context deadline exceeded"; recs[1].Error != want {
			t.Errorf("record 1 error = %q, want %q", recs[1].Error, want)
		}
		if recs[1].TotalSeconds != 60 {
			t.Errorf("timed-out trial total = %v s, want the 60 s it ran", recs[1].TotalSeconds)
		}
	})
}

// TestRunnerResume kills a sweep mid-run (cancels its context after N
// evaluations), resumes it from trials.jsonl on disk, and checks that no
// trial was evaluated twice and that the record set is complete.
func TestRunnerResume(t *testing.T) {
	t.Parallel()
	for _, workers := range []int{1, 3} {
		for _, killAfter := range []int{1, 5, 11} {
			path := filepath.Join(t.TempDir(), results.TrialsFile)
			pts := testPoints(t, 100, 200, 300)
			ev := &fakeEvaluator{}
			ctx, cancel := context.WithCancel(t.Context())
			var n int
			var nmu sync.Mutex
			ev.hook = func(c context.Context, tr Trial) error {
				nmu.Lock()
				n++
				k := n
				if k == killAfter {
					cancel()
				}
				nmu.Unlock()
				switch {
				case k < killAfter:
					return nil // finished before the kill
				case k == killAfter:
					return nil // the trial during which the kill lands finishes
				}
				<-c.Done() // anything else is in flight and interrupted
				return c.Err()
			}
			w, err := results.OpenWriter(path)
			if err != nil {
				t.Fatal(err)
			}
			r := &Runner{Evaluator: ev, Writer: w, Repeats: 2, Warmup: 1, Workers: workers}
			_, err = r.Run(ctx, pts, testPrompts, nil)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("workers %d kill %d: first run err = %v, want context.Canceled", workers, killAfter, err)
			}
			w.Close()
			cancel()

			prior, warns, err := results.ReadAll(path)
			if err != nil || len(warns) > 0 {
				t.Fatal(err, warns)
			}
			if len(prior) == 0 {
				t.Fatalf("workers %d kill %d: nothing on disk after the kill", workers, killAfter)
			}
			first := ev.Calls()
			ev2 := &fakeEvaluator{}
			w2, err := results.OpenWriter(path)
			if err != nil {
				t.Fatal(err)
			}
			r2 := &Runner{Evaluator: ev2, Writer: w2, Repeats: 2, Warmup: 1, Workers: workers}
			stats, err := r2.Run(t.Context(), pts, testPrompts, prior)
			if err != nil {
				t.Fatal(err)
			}
			w2.Close()
			recorded := map[string]bool{}
			for _, rec := range prior {
				recorded[rec.ID] = true
			}
			for _, id := range ev2.Calls() {
				if recorded[id] {
					t.Errorf("workers %d kill %d: %s evaluated again after it was recorded", workers, killAfter, id)
				}
			}
			all, _, err := results.ReadAll(path)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, rec := range all {
				got = append(got, rec.ID)
			}
			slices.Sort(got)
			var want []string
			for _, tr := range Plan(pts, testPrompts, 2, 1, 0) {
				want = append(want, tr.ID)
			}
			slices.Sort(want)
			// Every measured trial is recorded exactly once. A warm-up is
			// skipped on resume when its group had already started.
			var gotMeasured, wantMeasured []string
			for _, id := range got {
				if !strings.HasSuffix(id, "|w0") {
					gotMeasured = append(gotMeasured, id)
				}
			}
			for _, id := range want {
				if !strings.HasSuffix(id, "|w0") {
					wantMeasured = append(wantMeasured, id)
				}
			}
			if diff := cmp.Diff(wantMeasured, gotMeasured); diff != "" {
				t.Errorf("workers %d kill %d: measured records (-want +got):\n%s", workers, killAfter, diff)
			}
			if len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Errorf("workers %d kill %d: duplicate records: %v", workers, killAfter, got)
			}
			if stats.Planned != len(want) || stats.Skipped+stats.Evaluated != stats.Planned {
				t.Errorf("workers %d kill %d: stats %+v (first run called %d)", workers, killAfter, stats, len(first))
			}
		}
	}
}

func TestRunnerStopsOnWriteFailure(t *testing.T) {
	t.Parallel()
	ev := &fakeEvaluator{}
	r := &Runner{Evaluator: ev, Writer: failingWriter{}, Repeats: 3}
	_, err := r.Run(t.Context(), testPoints(t, 100), testPrompts, nil)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want the write error", err)
	}
	if n := len(ev.Calls()); n != 1 {
		t.Errorf("%d trials evaluated after the write failed, want 1", n)
	}
}

type failingWriter struct{}

func (failingWriter) Append(results.Record) error { return errors.New("disk full") }

func TestRunnerRejectsBadSettings(t *testing.T) {
	t.Parallel()
	w, _ := memWriter()
	tests := []struct {
		name string
		r    Runner
		pts  []Point
	}{
		{"no evaluator", Runner{Writer: w, Repeats: 1}, testPoints(t, 1)},
		{"no repeats", Runner{Evaluator: &fakeEvaluator{}, Writer: w}, testPoints(t, 1)},
		{"no points", Runner{Evaluator: &fakeEvaluator{}, Writer: w, Repeats: 1}, nil},
	}
	for _, tt := range tests {
		if _, err := tt.r.Run(t.Context(), tt.pts, testPrompts, nil); err == nil {
			t.Errorf("%s: want an error", tt.name)
		}
	}
}

func TestRunnerProgress(t *testing.T) {
	t.Parallel()
	w, _ := memWriter()
	var out bytes.Buffer
	r := &Runner{Evaluator: &fakeEvaluator{}, Writer: w, Repeats: 2, Progress: &out}
	if _, err := r.Run(t.Context(), testPoints(t, 100), testPrompts, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "tune") || !strings.Contains(out.String(), "4/4") {
		t.Errorf("progress output %q lacks the description or the final count", out.String())
	}
}
