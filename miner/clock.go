package miner

import (
	"log/slog"
	"time"
)

// A validator's cooldown_until is an absolute time on the validator's own
// clock. The miner schedules on its own clock, so it converts with a per-
// validator estimate of offset = validator clock − miner clock, built from
// what the answers reveal:
//
//   - The HTTP Date header of an answer (net/http and uvicorn stamp it from
//     the server's clock, truncated to the second). The validator stamped
//     Date at some instant between the miner sending the request (sent) and
//     reading the answer (received), so
//     Date − received ≤ offset < Date + 1 s − sent.
//   - A PullTask refused on cooldown: the validator's clock read less than
//     cooldown_until when it handled the request, after sent, so
//     offset < cooldown_until − sent. This is the fallback when no Date
//     comes back: it catches a validator whose clock runs behind.
//
// The miner pulls when the lower bound says the validator's clock has
// reached cooldown_until, so an estimate that errs only errs late.

// offsetBounds bound a validator's clock offset: lo ≤ offset < hi.
type offsetBounds struct{ lo, hi time.Duration }

// dateBounds are the bounds one answer's Date header gives.
func dateBounds(date, sent, received time.Time) offsetBounds {
	return offsetBounds{lo: date.Sub(received), hi: date.Add(time.Second).Sub(sent)}
}

// maxClockSamples is how many Date samples an estimate keeps.
const maxClockSamples = 32

// clockEstimate is one validator's clock offset estimate. Its zero value
// knows nothing and assumes the clocks agree.
type clockEstimate struct {
	// samples are the recent Date bounds, oldest first, all consistent
	// with one another (a sample contradicted by a newer one predates a
	// clock step and is dropped).
	samples []offsetBounds
	// upper is the least upper bound from refusals (valid when hasUpper).
	// It outlives Date samples: a validator whose Date header and
	// cooldown clock disagree (seen in the interop run) would otherwise
	// be re-learnt, with early pulls, every cycle. Dates that contradict
	// it are counted; after maxContradictions of them in a row the bound
	// is taken to predate a clock step and forgotten.
	upper          time.Duration
	hasUpper       bool
	contradictions int
}

// maxContradictions is how many Date samples in a row may contradict a
// refusal's bound before it is forgotten: about ten hours of answers at
// one task per 300 s cooldown.
const maxContradictions = 256

// addDate records a Date sample.
func (c *clockEstimate) addDate(b offsetBounds) {
	kept := c.samples[:0]
	for _, s := range c.samples {
		if s.lo < b.hi && b.lo < s.hi {
			kept = append(kept, s)
		}
	}
	c.samples = append(kept, b)
	if n := len(c.samples); n > maxClockSamples {
		c.samples = append(c.samples[:0], c.samples[n-maxClockSamples:]...)
	}
	if !c.hasUpper {
		return
	}
	if b.lo < c.upper {
		c.contradictions = 0
		return
	}
	c.contradictions++
	if c.contradictions >= maxContradictions {
		c.hasUpper, c.contradictions = false, 0
	}
}

// addUpper records an upper bound (offset < upper) from a refusal.
func (c *clockEstimate) addUpper(upper time.Duration) {
	kept := c.samples[:0]
	for _, s := range c.samples {
		if s.lo < upper {
			kept = append(kept, s)
		}
	}
	c.samples = kept
	if !c.hasUpper || upper < c.upper {
		c.upper, c.hasUpper = upper, true
	}
	c.contradictions = 0
}

// lower is the offset the miner schedules with: the tightest lower bound
// the Date samples give (0, clocks assumed in step, without any). When a
// refusal shows the validator's clock is further behind than that, it is
// the refusal's bound with as much again plus a second, so that a large
// lag is caught in a few refusals rather than one second per refusal.
func (c *clockEstimate) lower() time.Duration {
	var lo time.Duration
	for i, s := range c.samples {
		if i == 0 || s.lo > lo {
			lo = s.lo
		}
	}
	if c.hasUpper && lo >= c.upper {
		lo = 2*c.upper - time.Second
	}
	return lo
}

// known says whether anything was learnt about the validator's clock.
func (c *clockEstimate) known() bool { return len(c.samples) > 0 || c.hasUpper }

// observeDate records an answer's Date (zero: none) sent and received at
// the given times on the miner's clock; m.mu must be held.
func (m *Miner) observeDate(v Validator, vs *valState, lg *slog.Logger, date, sent, received time.Time) {
	if date.IsZero() {
		return
	}
	vs.clock.addDate(dateBounds(date, sent, received))
	m.logOffset(v, vs, lg)
}

// logOffset logs and exports vs's clock offset when it moved by a second
// or more since last logged; m.mu must be held.
func (m *Miner) logOffset(v Validator, vs *valState, lg *slog.Logger) {
	off := vs.clock.lower()
	m.met.clockOffset.With(labels(v)).Set(off.Seconds())
	if d := off - vs.loggedOffset; d > -time.Second && d < time.Second {
		return
	}
	vs.loggedOffset = off
	lg.Info("validator clock offset", "offset", off.Round(time.Millisecond),
		"note", "cooldowns are converted to this clock")
}

// localTime converts a validator's cooldown_until (unix seconds on its
// clock) to the miner's clock; m.mu must be held.
func (m *Miner) localTime(vs *valState, cooldownUntil int64) time.Time {
	return time.Unix(cooldownUntil, 0).Add(-vs.clock.lower())
}
