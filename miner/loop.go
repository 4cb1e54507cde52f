package miner

import (
	"context"
	"hash/fnv"
	"log/slog"
	"time"
)

// startOffset is v's deterministic delay before its first pull, from
// the hash of its hotkey (as Prometheus spreads its scrape loops).
func (m *Miner) startOffset(v Validator) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(v.Hotkey))
	return time.Duration(h.Sum64() % uint64(m.opts.StartSpread))
}

// sleepUntil waits until t on the clock; false when ctx ended first.
func (m *Miner) sleepUntil(ctx context.Context, t time.Time) bool {
	d := t.Sub(m.opts.Now())
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// loop is v's polling loop: wait out the cooldown, pull, hand the task to
// the workers, wait for its submission, repeat. It returns when ctx ends.
func (m *Miner) loop(ctx context.Context, v Validator, start time.Time) {
	lg := m.log.With("uid", v.UID, "hotkey", v.Hotkey)
	if !m.sleepUntil(ctx, start.Add(m.startOffset(v))) {
		return
	}
	for ctx.Err() == nil {
		m.mu.Lock()
		vs := m.vstate(v)
		now := m.opts.Now()
		blacklisted, held, nextPull := vs.BlacklistedUntil, vs.Held, vs.NextPull
		var task Task
		if held != nil {
			task = held.Task
		}
		m.mu.Unlock()

		if blacklisted.After(now) {
			lg.Info("validator blacklisted; waiting", "until", blacklisted)
			m.sleepUntil(ctx, blacklisted)
			continue
		}
		if held != nil {
			// A task held from before (a restart, or a failed submission
			// being retried): submitting is no pull, so no cooldown applies.
			if !m.sleepUntil(ctx, held.NotBefore) {
				return
			}
			m.resume(ctx, v, lg, held.Generated, task)
			continue
		}
		if wait := nextPull.Sub(now); wait > 0 {
			lg.Debug("waiting for cooldown", "until", nextPull, "wait", wait)
			if !m.sleepUntil(ctx, nextPull) {
				m.addWait(v, m.opts.Now().Sub(now))
				return
			}
			m.addWait(v, wait)
		}
		select {
		case m.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		m.mu.Lock()
		// Between the wait and the slot a submission may have moved it.
		early := m.vstate(v).NextPull.After(m.opts.Now())
		m.mu.Unlock()
		if early {
			<-m.slots
			continue
		}
		task, ok := m.pull(ctx, v, lg)
		if !ok {
			<-m.slots
			continue
		}
		j := &job{v: v, log: lg, task: task, done: make(chan struct{})}
		m.queue <- j // a slot is held: never blocks
		m.met.queueDepth.Inc()
		select {
		case <-j.done:
		case <-ctx.Done():
			return
		}
	}
}

func (m *Miner) addWait(v Validator, d time.Duration) {
	if d <= 0 {
		return
	}
	m.met.cooldownWait.With(labels(v)).Add(d.Seconds())
	m.mu.Lock()
	m.vstate(v).CooldownWaitSeconds += d.Seconds()
	m.mu.Unlock()
}

// resume sends a held task on: to the submitters when generated, else to
// the workers. It waits for the outcome.
func (m *Miner) resume(ctx context.Context, v Validator, lg *slog.Logger, generated bool, task Task) {
	j := &job{v: v, log: lg, task: task, done: make(chan struct{})}
	lg.Info("resuming held task", "task", task.ID, "generated", generated)
	m.mu.Lock()
	vs := m.vstate(v)
	vs.Resumed++
	held := vs.Held
	m.mu.Unlock()
	if generated {
		if !held.Empty {
			res, err := held.results, error(nil)
			if res == "" {
				res, err = readResult(m.opts.StateFile, held.ResultFile)
			}
			if err != nil {
				lg.Error("held result lost; releasing task", "task", task.ID, "err", err)
				m.release(v, lg, "held result lost", m.opts.SubmitFailureBackoff)
				return
			}
			j.results = res
		}
		m.submitq <- j // at most one job per validator: never blocks
	} else {
		select {
		case m.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		m.queue <- j
		m.met.queueDepth.Inc()
	}
	select {
	case <-j.done:
	case <-ctx.Done():
	}
}

// pull calls PullTask and records the answer; ok is true with a task.
func (m *Miner) pull(ctx context.Context, v Validator, lg *slog.Logger) (Task, bool) {
	l := labels(v)
	pctx, cancel := context.WithTimeout(ctx, m.opts.PullTimeout)
	t0, sent := time.Now(), m.opts.Now()
	resp, err := m.client.PullTask(pctx, v)
	cancel()
	m.met.latency.With(with(l, "method", "PullTask")).Observe(time.Since(t0).Seconds())

	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.save()
	vs := m.vstate(v)
	now := m.opts.Now()
	m.observeDate(v, vs, lg, resp.Date, sent, now)
	// A pull never changes a known cooldown, so the next pull waits at
	// least for it; a failed pull adds the base miner's back-off.
	next := now.Add(m.opts.MinPullInterval)
	switch {
	case err != nil:
		if ctx.Err() != nil {
			lg.Info("pull interrupted by shutdown", "err", err)
			return Task{}, false
		}
		m.met.requestFailures.With(with(l, "method", "PullTask")).Inc()
		vs.PullFailures++
		lg.Warn("pull failed; backing off", "err", err, "backoff", m.opts.FailureBackoff)
		vs.NextPull = later(vs.NextPull, now.Add(m.opts.FailureBackoff))
		m.failure(vs, lg, now)
		return Task{}, false
	case resp.Task == nil:
		m.met.refused.With(l).Inc()
		vs.Refusals++
		vs.Failures = 0
		vs.Violations = resp.CooldownViolations
		if resp.CooldownUntil > 0 {
			// The validator's clock read less than cooldown_until when it
			// handled the pull: a bound on how far behind it runs.
			vs.clock.addUpper(time.Unix(resp.CooldownUntil, 0).Sub(sent))
			m.logOffset(v, vs, lg)
			vs.CooldownUntil = resp.CooldownUntil
			next = later(next, m.localTime(vs, resp.CooldownUntil).Add(m.opts.CooldownMargin))
		} else {
			next = later(next, now.Add(m.opts.FailureBackoff))
		}
		switch {
		case resp.CooldownViolations == 0 && resp.CooldownUntil > 0:
			// A registered miner's early pull always counts a violation
			// before the answer (docs/protocol.md §1.6), so none means the validator does
			// not know the hotkey (docs/protocol.md §1.1: an hour's cooldown).
			vs.Unregistered++
			lg.Warn("pull refused: this hotkey is not registered with the validator; waiting out its cooldown",
				"cooldown_until", resp.CooldownUntil)
		case resp.CooldownUntil > now.Unix():
			lg.Warn("pull refused: on cooldown", "cooldown_until", resp.CooldownUntil,
				"violations", resp.CooldownViolations)
		}
		vs.NextPull = next
		return Task{}, false
	case resp.Task.ID == "":
		m.met.requestFailures.With(with(l, "method", "PullTask")).Inc()
		vs.PullFailures++
		lg.Warn("pull answered a task without id; backing off", "backoff", m.opts.FailureBackoff)
		vs.NextPull = now.Add(m.opts.FailureBackoff)
		m.failure(vs, lg, now)
		return Task{}, false
	}
	m.met.pulled.With(l).Inc()
	m.met.held.Inc()
	vs.Pulled++
	vs.Failures = 0
	vs.Violations = resp.CooldownViolations
	vs.NextPull = later(vs.NextPull, next)
	vs.Held = &heldTask{Task: *resp.Task, PulledAt: now, Threshold: resp.ValidationThreshold,
		Throttle: resp.ThrottlePeriod}
	lg.Info("task pulled", "task", resp.Task.ID, "type", resp.Task.Type)
	return *resp.Task, true
}

// failure counts a failed exchange and blacklists v after too many in a
// row; m.mu must be held.
func (m *Miner) failure(vs *valState, lg *slog.Logger, now time.Time) {
	vs.Failures++
	if m.opts.BlacklistAfter > 0 && vs.Failures >= m.opts.BlacklistAfter {
		vs.BlacklistedUntil = now.Add(m.opts.BlacklistFor)
		vs.NextPull = later(vs.NextPull, vs.BlacklistedUntil)
		lg.Warn("validator blacklisted after consecutive failures", "failures", vs.Failures,
			"until", vs.BlacklistedUntil)
		vs.Failures = 0
	}
}

// release gives a held task up and delays the next pull by backoff.
func (m *Miner) release(v Validator, lg *slog.Logger, why string, backoff time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	vs := m.vstate(v)
	if vs.Held == nil {
		return
	}
	lg.Warn("releasing task", "task", vs.Held.Task.ID, "why", why)
	removeResult(m.opts.StateFile, vs.Held.ResultFile)
	vs.Held = nil
	vs.Released++
	vs.NextPull = later(vs.NextPull, m.opts.Now().Add(backoff))
	m.met.released.With(labels(v)).Inc()
	m.met.held.Dec()
	m.save()
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
