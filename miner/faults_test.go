package miner

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// gaps are the times between consecutive calls, rounded to seconds.
func gaps(ts []time.Time) []time.Duration {
	var out []time.Duration
	for i := 1; i < len(ts); i++ {
		out = append(out, ts[i].Sub(ts[i-1]).Round(time.Second))
	}
	return out
}

// TestFaults drives one validator through scripted network faults and
// checks the miner's back-offs, retries and bookkeeping; no case may
// produce a cooldown violation.
func TestFaults(t *testing.T) {
	t.Parallel()
	const gen = 20 * time.Second
	for _, tc := range []struct {
		name  string
		fault func(method string, call int) fault
		run   time.Duration
		// pullGaps and submitGaps are the expected gaps between calls.
		pullGaps, submitGaps []time.Duration
		check                func(t *testing.T, f *fakeValidator, st Stats)
	}{
		{
			name: "lost pull requests back off 300 s each",
			fault: func(m string, c int) fault {
				if m == "pull" && c <= 2 {
					return lostReq
				}
				return ok
			},
			run:      15 * time.Minute,
			pullGaps: []time.Duration{300 * time.Second, 300 * time.Second},
			check: func(t *testing.T, f *fakeValidator, st Stats) {
				if st.PullFailures != 2 || f.accepted != 1 {
					t.Errorf("pull failures %d, accepted %d; want 2, 1", st.PullFailures, f.accepted)
				}
			},
		},
		{
			name: "pull timeouts cost the 12 s client timeout plus the back-off",
			fault: func(m string, c int) fault {
				if m == "pull" && c == 1 {
					return hangFirst
				}
				return ok
			},
			run:      10 * time.Minute,
			pullGaps: []time.Duration{312 * time.Second},
		},
		{
			name: "a lost pull answer: the re-pull gets the same task, no penalty",
			fault: func(m string, c int) fault {
				if m == "pull" && c == 1 {
					return lostResp
				}
				return ok
			},
			run:      9 * time.Minute,
			pullGaps: []time.Duration{300 * time.Second},
			check: func(t *testing.T, f *fakeValidator, st Stats) {
				if f.issued != 1 || f.accepted != 1 || st.Pulled != 1 {
					t.Errorf("issued %d accepted %d pulled %d; want 1 1 1", f.issued, f.accepted, st.Pulled)
				}
			},
		},
		{
			name: "a submission that never reaches the validator is sent again after 900 s",
			fault: func(m string, c int) fault {
				if m == "submit" && c == 1 {
					return lostReq
				}
				return ok
			},
			run:        19 * time.Minute,
			pullGaps:   nil,
			submitGaps: []time.Duration{900 * time.Second},
			check: func(t *testing.T, f *fakeValidator, st Stats) {
				if f.accepted != 1 || st.SubmitFailures != 1 || st.Released != 0 {
					t.Errorf("accepted %d, submit failures %d, released %d; want 1 1 0", f.accepted, st.SubmitFailures, st.Released)
				}
			},
		},
		{
			name: "a submission answer that never comes: time out, resend, 403 means delivered, normal cooldown",
			fault: func(m string, c int) fault {
				if m == "submit" && c == 1 {
					return hang
				}
				return ok
			},
			run: 45 * time.Minute,
			// pull, generate 20 s, submit hangs 300 s, resend after
			// 900 s is refused (403: the validator took the first): it
			// counts as delivered once and the next pull follows the
			// validator's cooldown rule, 270 s after the resend (before:
			// released as a failure and 900 s more).
			pullGaps:   []time.Duration{gen + 300*time.Second + 900*time.Second + 270*time.Second, 301 * time.Second, 301 * time.Second, 301 * time.Second, 301 * time.Second},
			submitGaps: []time.Duration{1200 * time.Second, 270*time.Second + gen, 301 * time.Second, 301 * time.Second, 301 * time.Second},
			check: func(t *testing.T, f *fakeValidator, st Stats) {
				if st.SubmitFailures != 1 || st.Released != 0 || st.Delivered != 1 || f.accepted != 5 || st.Submitted != f.submitted {
					t.Errorf("submit failures %d, released %d, delivered %d, accepted %d, submitted %d (validator %d); want 1 0 1 5 and the validator's count",
						st.SubmitFailures, st.Released, st.Delivered, f.accepted, st.Submitted, f.submitted)
				}
			},
		},
		{
			name:     "a validator down for good is blacklisted after 5 failures for an hour",
			fault:    func(m string, c int) fault { return lostReq },
			run:      2*time.Hour + 30*time.Minute,
			pullGaps: []time.Duration{300 * time.Second, 300 * time.Second, 300 * time.Second, 300 * time.Second, time.Hour, 300 * time.Second, 300 * time.Second, 300 * time.Second, 300 * time.Second},
			check: func(t *testing.T, f *fakeValidator, st Stats) {
				if !st.Validators[0].Blacklisted {
					t.Errorf("not blacklisted at the end: %+v", st.Validators[0])
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(1)
				w.net.fault = func(m string, _ Validator, c int) fault { return tc.fault(m, c) }
				m, _ := newMiner(t, w, Options{Threshold: 0.6, StartSpread: time.Nanosecond}, &fakeGen{took: gen, score: func(Task) float64 { return 0.9 }})
				runFor(t, m, tc.run)
				f, st := w.fv(0), m.Stats()
				if f.violationsTotal != 0 {
					t.Errorf("cooldown violations: %d", f.violationsTotal)
				}
				if diff := cmp.Diff(tc.pullGaps, gaps(w.net.callTimes("pull", w.vals[0]))); diff != "" {
					t.Errorf("pull gaps (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tc.submitGaps, gaps(w.net.callTimes("submit", w.vals[0]))); diff != "" {
					t.Errorf("submit gaps (-want +got):\n%s", diff)
				}
				if tc.check != nil {
					tc.check(t, f, st)
				}
			})
		})
	}
}
