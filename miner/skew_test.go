package miner

import (
	"fmt"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/splatbench/splatbench/miner/bittensor"
	"github.com/splatbench/splatbench/miner/validator"
)

// skewRun is one validator's outcome in a clock-skew soak.
type skewRun struct {
	skew                               time.Duration
	early, violations, tasks, accepted int
	offset                             float64 // the miner's estimate, seconds
}

// slowestCycle bounds one validator's pull-to-pull cycle in the skew
// soaks: the 300 s task cooldown, the fake generation's 40 s, the
// miner's margin on a lagging clock (up to ~20 s when answers carry no
// Date) and the round trips. Each validator has its own worker, so no task
// waits behind another validator's, and the soaks count tasks assigned:
// how many of them end accepted depends on the fake generator's scripted
// scores for random task ids (1 in 12 below the threshold, 1 in 25
// failing), not on the clocks.
const slowestCycle = 7 * time.Minute

// dateMode is what the answers' Date header says in a skew soak.
type dateMode int

const (
	skewedDates   dateMode = iota // the validator's clock, as a server on it stamps it
	noDates                       // no Date header
	unskewedDates                 // the miner's clock: the Date and the cooldowns disagree
)

// runSkewSoak mines one local validator per skew (real axon, real
// dendrite, in-memory network) for soak of virtual time and returns what
// each validator saw, plus the 401s the miner caused.
func runSkewSoak(t *testing.T, skews []time.Duration, dates dateMode, soak time.Duration) (runs []skewRun, unauthorized int) {
	t.Helper()
	spz := e2eCloudSPZ(t)
	synctest.Test(t, func(t *testing.T) {
		minerKey, err := bittensor.KeypairFromURI("//SkewMiner")
		if err != nil {
			t.Fatal(err)
		}
		nw := newE2ENet()
		nw.noDate, nw.unskewedDate = dates == noDates, dates == unskewedDates
		var vals []Validator
		var locals []*validator.Validator
		for i, skew := range skews {
			key, err := bittensor.KeypairFromURI(fmt.Sprintf("//SkewValidator%d", i))
			if err != nil {
				t.Fatal(err)
			}
			lv, err := validator.New(validator.Options{Key: key, UID: i, IP: fmt.Sprintf("10.0.2.%d", i+1), Port: 8092,
				Stake: 10000, Scorer: validator.GateScorer{Pass: 0.9}, PromptSeed: uint64(i),
				Faults: validator.Faults{ClockSkew: skew}}, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			info := lv.Info()
			v := Validator{UID: info.UID, Hotkey: info.Hotkey, Address: info.Addr()}
			nw.handlers[v.Address], nw.skew[v.Address] = lv.Handler(), skew
			vals, locals = append(vals, v), append(locals, lv)
		}
		client, err := NewDendriteClient(bittensor.DendriteOptions{Key: minerKey, Client: &http.Client{Transport: nw},
			Log: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		m, err := New(Options{Validators: vals, Workers: len(vals), Threshold: 0.6, GenerateTimeout: 5 * time.Minute},
			client, &e2eGen{spz: spz, took: 40 * time.Second}, KeypairSigner{Hotkey: minerKey}, testLogger(t), newRegistry())
		if err != nil {
			t.Fatal(err)
		}
		runFor(t, m, soak)
		nw.wg.Wait()
		st := m.Stats()
		for i, lv := range locals {
			s := lv.Summary()
			if len(s.Miners) != 1 {
				t.Fatalf("validator %d saw miners %+v, want only the test miner", i, s.Miners)
			}
			ms := s.Miners[0]
			runs = append(runs, skewRun{skew: skews[i], early: ms.EarlyPulls, violations: int(ms.Violations),
				tasks: ms.TasksAssigned, accepted: ms.Accepted, offset: st.Validators[i].ClockOffset})
		}
		unauthorized = nw.status[http.StatusUnauthorized]
	})
	return runs, unauthorized
}

// TestClockSkew mines validators whose clocks run 3 s and 30 s behind and
// ahead of the miner's. cooldown_until is on the validator's clock; the
// miner learns each validator's offset from the answers' Date headers and
// must never pull early. A validator 30 s ahead also refuses nonces from
// the miner's clock (older than its now − 16 s): the first call is refused
// 401, its Date shows the lead, and from then on the nonces follow it.
func TestClockSkew(t *testing.T) {
	t.Parallel()
	soak := 2 * time.Hour
	if testing.Short() {
		soak = 90 * time.Minute
	}
	skews := []time.Duration{0, -3 * time.Second, 3 * time.Second, -30 * time.Second, 30 * time.Second}
	runs, unauthorized := runSkewSoak(t, skews, skewedDates, soak)
	for _, r := range runs {
		t.Logf("skew %+v: early pulls %d, violations %d, tasks %d, accepted %d, estimated offset %+.2fs", r.skew,
			r.early, r.violations, r.tasks, r.accepted, r.offset)
		if r.early != 0 || r.violations != 0 {
			t.Errorf("skew %v: %d early pulls, %d violations, want none", r.skew, r.early, r.violations)
		}
		checkSkewThroughput(t, r, soak)
		// The estimate is a lower bound within the Date's second.
		if got := time.Duration(r.offset * float64(time.Second)); got > r.skew || got < r.skew-1500*time.Millisecond {
			t.Errorf("skew %v: estimated offset %v, want in [skew-1.5s, skew]", r.skew, got)
		}
	}
	// Only the first call to the validator 30 s ahead may be refused.
	if unauthorized > 1 {
		t.Errorf("%d answers were 401, want at most 1", unauthorized)
	}
}

// TestClockSkewWithoutDate is the fallback when answers carry no Date: a
// refusal with cooldown_until bounds how far the validator's clock lags,
// so a lagging clock costs a few early pulls once, then none. (Without
// the Date a validator far ahead cannot be reached at all: its axon
// refuses every nonce, as it would a Python miner's.)
func TestClockSkewWithoutDate(t *testing.T) {
	t.Parallel()
	soak := 2 * time.Hour
	if testing.Short() {
		soak = 90 * time.Minute
	}
	skews := []time.Duration{0, -3 * time.Second, 3 * time.Second, -30 * time.Second}
	maxEarly := map[time.Duration]int{0: 0, -3 * time.Second: 1, 3 * time.Second: 0, -30 * time.Second: 4}
	runs, _ := runSkewSoak(t, skews, noDates, soak)
	for _, r := range runs {
		t.Logf("skew %+v: early pulls %d, violations %d, tasks %d, accepted %d, estimated offset %+.2fs", r.skew,
			r.early, r.violations, r.tasks, r.accepted, r.offset)
		if r.early > maxEarly[r.skew] {
			t.Errorf("skew %v: %d early pulls, want <= %d", r.skew, r.early, maxEarly[r.skew])
		}
		checkSkewThroughput(t, r, soak)
	}
}

// checkSkewThroughput: a skewed clock must not cost cycles (tasks
// assigned at least soak/slowestCycle), and most results are accepted.
func checkSkewThroughput(t *testing.T, r skewRun, soak time.Duration) {
	t.Helper()
	if want := int(soak / slowestCycle); r.tasks < want {
		t.Errorf("skew %v: %d tasks in %v, want >= %d", r.skew, r.tasks, soak, want)
	}
	if r.accepted < r.tasks/2 {
		t.Errorf("skew %v: %d of %d tasks accepted, want at least half", r.skew, r.accepted, r.tasks)
	}
}

// TestClockSkewDateDisagrees: a validator whose cooldowns run 30 s behind
// while its Date header says the clocks agree (an independent validator in
// the interop run). The bound a refusal gives is kept across Dates, so the
// lag is learnt once, in a few early pulls, instead of again every cycle
// (before: 48 early pulls and 32 violations in 90 minutes; now 3 and 0).
func TestClockSkewDateDisagrees(t *testing.T) {
	t.Parallel()
	soak := 90 * time.Minute
	runs, _ := runSkewSoak(t, []time.Duration{-30 * time.Second}, unskewedDates, soak)
	for _, r := range runs {
		t.Logf("skew %+v: early pulls %d, violations %d, tasks %d, accepted %d, estimated offset %+.2fs", r.skew,
			r.early, r.violations, r.tasks, r.accepted, r.offset)
		if r.early > 5 {
			t.Errorf("skew %v with an unskewed Date: %d early pulls, want <= 5 (learnt once)", r.skew, r.early)
		}
		checkSkewThroughput(t, r, soak)
	}
}
