package miner

import (
	"testing"
	"testing/synctest"
	"time"
)

// TestCooldownCompliance mines 8 validators for 24 virtual hours with
// fewer workers than validators: no pull may ever come early, every
// pulled task is submitted, and the loops keep every validator busy.
func TestCooldownCompliance(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		workers int
		took    time.Duration
		hours   int
	}{
		{"fast generator, one worker", 1, 20 * time.Second, 24},
		{"slow generator, two workers", 2, 150 * time.Second, 24},
		{"more workers than validators", 12, 400 * time.Second, 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(8)
				gen := &fakeGen{took: tc.took}
				m, _ := newMiner(t, w, Options{Workers: tc.workers, Threshold: 0.6}, gen)
				d := time.Duration(tc.hours) * time.Hour
				runFor(t, m, d)
				got := w.totals()
				st := m.Stats()
				if got.violations != 0 {
					t.Errorf("cooldown violations: %d, want 0", got.violations)
				}
				if got.badSigs != 0 {
					t.Errorf("bad signatures: %d", got.badSigs)
				}
				// Each validator yields at most one task per
				// max(300, t+270) s (docs/protocol.md §1.6); the workers at most one per
				// generation time each.
				perVal := int(d / max(300*time.Second, tc.took+270*time.Second))
				ideal := min(8*perVal, tc.workers*int(d/tc.took))
				if got.issued < ideal*80/100 || got.issued > 8*(perVal+1) {
					t.Errorf("tasks issued: %d, want about %d (80%%..ceiling %d)", got.issued, ideal, 8*(perVal+1))
				}
				if got.open > 8 || got.issued != got.submitted+got.open {
					t.Errorf("issued %d = submitted %d + open %d does not hold", got.issued, got.submitted, got.open)
				}
				if st.Pulled != got.issued || st.Submitted != got.submitted {
					t.Errorf("miner stats pulled/submitted %d/%d, validators saw %d/%d", st.Pulled, st.Submitted, got.issued, got.submitted)
				}
				if st.Accepted != got.accepted || st.Empty != got.empty || st.Rejected != got.rejected {
					t.Errorf("miner accepted/empty/rejected %d/%d/%d, validators %d/%d/%d",
						st.Accepted, st.Empty, st.Rejected, got.accepted, got.empty, got.rejected)
				}
				if got.rejected != 0 {
					t.Errorf("%d results below the validators' threshold were submitted", got.rejected)
				}
				t.Logf("%v: issued %d (ideal %d), accepted %d, empty %d, held at stop %d, cooldown wait %.0f s",
					d, got.issued, ideal, got.accepted, got.empty, st.Held, st.CooldownWaitSeconds)
			})
		})
	}
}
