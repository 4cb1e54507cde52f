package miner

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/imagefile"
	"github.com/splatbench/splatbench/pipeline/imagefile/imagefiletest"
)

// TestResendAfterRestartDelivered: a submission cut off by shutdown after
// it reached the validator is sent again by the next run and answered 403
// "no task assigned". That is the earlier attempt delivered: counted once,
// and the next pull follows the validator's cooldown rule (at 330 s)
// instead of the 900 s back-off for an unknown outcome (before: released
// as a failure, no second task within 6 minutes of the restart).
func TestResendAfterRestartDelivered(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "miner-state.json")
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(1)
		w.net.fault = func(m string, _ Validator, c int) fault {
			if m == "submit" && c == 1 {
				return hang // reaches the validator; the answer never comes
			}
			return ok
		}
		opts := Options{Threshold: 0.6, StateFile: path, StartSpread: time.Nanosecond}
		gen := func() *fakeGen { return &fakeGen{took: 20 * time.Second, score: func(Task) float64 { return 0.9 }} }
		m1, _ := newMiner(t, w, opts, gen())
		runFor(t, m1, time.Minute) // stopped while the submission hangs
		if h := m1.Stats().Held; h != 1 {
			t.Fatalf("first run holds %d tasks, want the one cut off", h)
		}
		w.net.fault = nil
		m2, _ := newMiner(t, w, opts, gen())
		runFor(t, m2, 6*time.Minute)
		f, st := w.fv(0), m2.Stats()
		if f.violationsTotal != 0 {
			t.Errorf("cooldown violations %d, want 0", f.violationsTotal)
		}
		if st.Delivered != 1 || st.SubmitFailures != 0 || st.Released != 0 {
			t.Errorf("delivered %d, submit failures %d, released %d; want 1 0 0", st.Delivered, st.SubmitFailures, st.Released)
		}
		if f.issued != 2 || f.accepted != 2 {
			t.Errorf("validator issued %d tasks and accepted %d; want 2 and 2 (back to the normal cooldown)", f.issued, f.accepted)
		}
	})
}

// TestGenerationCrashNotRetried: a generation that kills the process (an
// image prompt that exhausts memory, say) is not started again and again
// at every restart: after two starts that never finished, the task is
// answered empty and the validator moves on.
func TestGenerationCrashNotRetried(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "miner-state.json")
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(1)
		opts := Options{Threshold: 0.6, StateFile: path, StartSpread: time.Nanosecond}
		// crashRun runs a miner whose generation never ends and takes the
		// state file as it is 30 s in: what a killed process leaves.
		crashRun := func() *fakeGen {
			gen := &fakeGen{block: true}
			m, _ := newMiner(t, w, opts, gen)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- m.Run(ctx) }()
			time.Sleep(30 * time.Second)
			snap, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, snap, 0o644); err != nil {
				t.Fatal(err)
			}
			return gen
		}
		for i := range 2 {
			if g := crashRun(); g.calls != 1 {
				t.Fatalf("crash run %d generated %d times, want 1", i, g.calls)
			}
		}
		gen := &fakeGen{took: 20 * time.Second, score: func(Task) float64 { return 0.9 }}
		m, _ := newMiner(t, w, opts, gen)
		runFor(t, m, time.Minute)
		f, st := w.fv(0), m.Stats()
		if gen.calls != 0 {
			t.Errorf("third run generated the task that crashed twice (%d calls), want it answered empty", gen.calls)
		}
		if f.empty != 1 || st.Empty != 1 || st.GenerateErrors != 1 || st.Held != 0 {
			t.Errorf("validator empty %d, miner empty %d, generate errors %d, held %d; want 1 1 1 0", f.empty, st.Empty, st.GenerateErrors, st.Held)
		}
	})
	// A clean stop during a generation is no crash: the task is generated
	// again on the next run, however often that happens.
	t.Run("clean stops", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "miner-state.json")
		synctest.Test(t, func(t *testing.T) {
			w := newWorld(1)
			opts := Options{Threshold: 0.6, StateFile: path, StartSpread: time.Nanosecond}
			for range 3 {
				m, _ := newMiner(t, w, opts, &fakeGen{block: true})
				runFor(t, m, 30*time.Second)
			}
			gen := &fakeGen{took: 20 * time.Second, score: func(Task) float64 { return 0.9 }}
			m, _ := newMiner(t, w, opts, gen)
			runFor(t, m, time.Minute)
			if f := w.fv(0); gen.calls != 1 || f.accepted != 1 {
				t.Errorf("after three clean stops: %d generations, %d accepted; want 1 1", gen.calls, f.accepted)
			}
		})
	})
}

// logRecorder keeps every log message.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.msgs = append(r.msgs, rec.Message)
	r.mu.Unlock()
	return nil
}
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *logRecorder) WithGroup(string) slog.Handler      { return r }

func (r *logRecorder) count(sub string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.msgs {
		if strings.Contains(m, sub) {
			n++
		}
	}
	return n
}

// TestUnregisteredLogged: a validator that does not know the hotkey answers
// with no task, no violation and an hour's cooldown (docs/protocol.md §1.1); the miner logs
// that, not a cooldown violation, and waits the hour out.
func TestUnregisteredLogged(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(1)
		w.fv(0).unregistered = true
		rec := &logRecorder{}
		m, err := New(Options{Validators: w.vals, Threshold: 0.6, StartSpread: time.Nanosecond}, w.net,
			&fakeGen{took: time.Second}, w.signer, slog.New(rec), newRegistry())
		if err != nil {
			t.Fatal(err)
		}
		runFor(t, m, 2*time.Hour+time.Minute)
		st := m.Stats()
		if n := rec.count("on cooldown"); n != 0 {
			t.Errorf("%d unregistered refusals logged as cooldowns", n)
		}
		if n := rec.count("not registered"); n != 3 || st.Unregistered != 3 {
			t.Errorf("%d refusals logged as unregistered, %d counted; want 3 (at 0 s, 1 h, 2 h)", n, st.Unregistered)
		}
	})
}

// TestPipelineGeneratorImageBomb: the miner's image task whose prompt is a
// 67-byte PNG declaring 100000×100000 pixels is refused by the pipeline's
// decoder (an error: the task is answered empty) instead of killing the
// process with a 40 GB allocation, as it did through image.Decode.
func TestPipelineGeneratorImageBomb(t *testing.T) {
	t.Parallel()
	g, err := NewPipelineGenerator(context.Background(), pipeline.NewBuilder(slog.New(slog.DiscardHandler), ""), tinyMineProfile(), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for _, tc := range []struct {
		prompt string
		want   error
	}{
		{b64(imagefiletest.BombPNG(100000, 100000)), imagefile.ErrTooLarge},
		{b64([]byte("<html>not an image</html>")), imagefile.ErrFormat},
	} {
		_, err := g.Generate(context.Background(), Task{ID: "t", Type: "image", Prompt: tc.prompt})
		if !errors.Is(err, tc.want) {
			t.Errorf("image task: %v, want %v", err, tc.want)
		}
	}
}
