package miner

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metricValue sums the samples of a counter family whose labels include
// want.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range want {
				if got[k] != v {
					continue metric
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			case m.Histogram != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}

// TestSelfCheck: a result below the threshold, or a failed generation,
// is submitted empty (cooldown 300 s, no 600 s penalty); a good one is
// submitted whole.
func TestSelfCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		score   float64
		fail    bool
		outcome string
		reason  string
	}{
		{"good result is submitted", 0.8, false, "accepted", ""},
		{"below threshold goes empty", 0.55, false, "empty", "self_check"},
		{"generation error goes empty", 0, true, "empty", "generate_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(1)
				gen := &fakeGen{took: 20 * time.Second, score: func(Task) float64 { return tc.score }}
				if tc.fail {
					gen.fail = func(Task) error { return errors.New("CUDA out of memory") }
				}
				// The profile's threshold is above the validators' 0.6.
				m, reg := newMiner(t, w, Options{Threshold: 0.7, StartSpread: time.Nanosecond}, gen)
				runFor(t, m, 5*time.Minute+10*time.Second)
				f := w.fv(0)
				if f.rejected != 0 || f.violationsTotal != 0 {
					t.Errorf("rejected %d, violations %d; want 0, 0", f.rejected, f.violationsTotal)
				}
				// Submitted at 20 s: cooldown max(20+270, 0+300) = 300,
				// plus the 1 s margin; a penalty would make it 900.
				if diff := gaps(w.net.callTimes("pull", w.vals[0])); len(diff) != 1 || diff[0] != 301*time.Second {
					t.Errorf("pull gaps %v, want [5m1s]", diff)
				}
				if got := metricValue(t, reg, "splatbench_miner_tasks_submitted_total", map[string]string{"outcome": tc.outcome}); got != 1 {
					t.Errorf("submitted{outcome=%s} = %v, want 1", tc.outcome, got)
				}
				if tc.reason != "" {
					if got := metricValue(t, reg, "splatbench_miner_tasks_skipped_total", map[string]string{"reason": tc.reason, "uid": "10"}); got != 1 {
						t.Errorf("skipped{reason=%s} = %v, want 1", tc.reason, got)
					}
					if st := m.Stats(); st.Empty != 1 || f.empty != 1 {
						t.Errorf("empty: miner %d, validator %d; want 1", st.Empty, f.empty)
					}
				} else if f.accepted != 1 {
					t.Errorf("accepted %d, want 1", f.accepted)
				}
			})
		})
	}
}
