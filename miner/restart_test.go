package miner

import (
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"
)

// TestRestart stops a miner at awkward moments and starts a new one on the
// same state file (the validators keep their state, as real ones do):
// the new miner must not pull early and must submit the held task.
func TestRestart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// first is how the first miner's run goes: its generator, the
		// network faults, how long it runs.
		gen1   *fakeGen
		fault1 func(method string, call int) fault
		run1   time.Duration
		noFile bool // control: the second miner starts without state
		// wantGen2 is how many generations the second miner starts in 6 min.
		wantGen2       int
		wantViolations int
	}{
		{name: "held while generating: regenerated and submitted",
			gen1: &fakeGen{block: true}, run1: 2 * time.Minute, wantGen2: 2},
		{name: "held after generating: the stored result is submitted",
			gen1: &fakeGen{took: 20 * time.Second},
			fault1: func(m string, c int) fault {
				if m == "submit" {
					return hangFirst
				}
				return ok
			},
			run1: time.Minute, wantGen2: 1},
		{name: "stopped on a cooldown: the cooldown is kept",
			gen1: &fakeGen{took: 20 * time.Second}, run1: 2 * time.Minute, wantGen2: 1},
		{name: "control: no state file, the restart pulls early",
			gen1: &fakeGen{took: 20 * time.Second}, run1: 2 * time.Minute, noFile: true,
			wantGen2: 1, wantViolations: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "miner-state.json")
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(1)
				if tc.fault1 != nil {
					w.net.fault = func(m string, _ Validator, c int) fault { return tc.fault1(m, c) }
				}
				opts := Options{Threshold: 0.6, StateFile: path, StartSpread: time.Nanosecond}
				m1, _ := newMiner(t, w, opts, tc.gen1)
				runFor(t, m1, tc.run1)
				held := m1.Stats().Validators[0].Holding
				w.net.fault = nil

				if tc.noFile {
					opts.StateFile = ""
				}
				gen2 := &fakeGen{took: 20 * time.Second, score: func(Task) float64 { return 0.9 }}
				m2, _ := newMiner(t, w, opts, gen2)
				if held != "" && m2.Stats().Validators[0].Holding != held {
					t.Fatalf("restarted miner holds %q, want %q", m2.Stats().Validators[0].Holding, held)
				}
				runFor(t, m2, 6*time.Minute)
				f := w.fv(0)
				if f.violationsTotal != tc.wantViolations {
					t.Errorf("cooldown violations %d, want %d", f.violationsTotal, tc.wantViolations)
				}
				if gen2.calls != tc.wantGen2 {
					t.Errorf("second miner generated %d times, want %d", gen2.calls, tc.wantGen2)
				}
				if held != "" {
					if len(f.open) > 1 || f.open[held] || f.badSigs != 0 {
						t.Errorf("held task %s not submitted (open %v, bad signatures %d)", held, f.open, f.badSigs)
					}
					if st := m2.Stats(); st.Resumed != 1 {
						t.Errorf("resumed %d, want 1", st.Resumed)
					}
				}
			})
			if !tc.noFile {
				// Submitted results leave no files behind.
				if left, _ := os.ReadDir(heldDir(path)); len(left) != 0 {
					t.Errorf("held results left: %v", left)
				}
			}
		})
	}
}

// TestShutdownGrace: with a grace period an in-flight generation finishes
// and is submitted after the context ends; Run returns after it.
func TestShutdownGrace(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(2)
		m, _ := newMiner(t, w, Options{Workers: 2, Threshold: 0.6, ShutdownGrace: time.Minute},
			&fakeGen{took: 40 * time.Second, score: func(Task) float64 { return 0.9 }})
		runFor(t, m, 20*time.Second) // both generating
		if st := m.Stats(); st.Held != 0 || st.Accepted != 2 {
			t.Errorf("after a graceful stop: held %d, accepted %d; want 0, 2", st.Held, st.Accepted)
		}
	})
}
