package miner

import (
	"context"
	"encoding/base64"
	"errors"
	"time"
)

// worker generates queued tasks until ctx ends; a generation in flight
// runs under work, which outlives ctx by the shutdown grace.
func (m *Miner) worker(ctx, work context.Context) {
	for {
		var j *job
		select {
		case j = <-m.queue:
		case <-ctx.Done():
			return
		}
		m.met.queueDepth.Dec()
		<-m.slots
		if ctx.Err() != nil {
			return // the task stays held and resumes on the next run
		}
		m.generate(work, j)
	}
}

// generate runs the generator and the self-check, records the result
// (held, on disk) and passes it to the submitters.
func (m *Miner) generate(work context.Context, j *job) {
	m.met.workersBusy.Inc()
	defer m.met.workersBusy.Dec()
	gctx, cancel := work, context.CancelFunc(func() {})
	if m.opts.GenerateTimeout > 0 {
		gctx, cancel = context.WithTimeout(work, m.opts.GenerateTimeout)
	}
	// A generation started maxGenerateStarts times without finishing
	// killed the process each time (an input that exhausts memory, say):
	// it is not started again, the task is answered empty.
	m.mu.Lock()
	crashed, starts := false, 0
	if h := m.vstate(j.v).Held; h != nil && h.Task.ID == j.task.ID {
		crashed, starts = h.GenerateStarts >= maxGenerateStarts, h.GenerateStarts
		if !crashed {
			h.GenerateStarts++
			m.save()
		}
	}
	m.mu.Unlock()
	var out Output
	var err error
	if !crashed {
		t0 := time.Now()
		out, err = m.gen.Generate(gctx, j.task)
		m.met.generateSeconds.Observe(time.Since(t0).Seconds())
	}
	cancel()
	if err != nil && work.Err() != nil {
		j.log.Info("generation interrupted by shutdown; task stays held", "task", j.task.ID)
		m.mu.Lock()
		if h := m.vstate(j.v).Held; h != nil && h.Task.ID == j.task.ID && h.GenerateStarts > 0 {
			h.GenerateStarts-- // a clean stop, not a crash
			m.save()
		}
		m.mu.Unlock()
		return
	}

	l := labels(j.v)
	reason := ""
	switch {
	case crashed:
		reason = "generate_crashed"
		j.log.Error("generation started and never finished; not starting it again, submitting empty",
			"task", j.task.ID, "starts", starts)
	case err != nil:
		reason = "generate_error"
		j.log.Warn("generation failed; submitting empty", "task", j.task.ID, "err", err)
	case len(out.Data) == 0:
		reason = "no_output"
		j.log.Warn("generation gave no output; submitting empty", "task", j.task.ID)
	case !out.Accepted || out.Score < m.opts.Threshold:
		reason = "self_check"
		j.log.Info("self-check below threshold; submitting empty", "task", j.task.ID,
			"score", out.Score, "threshold", m.opts.Threshold)
	}
	if err == nil {
		m.met.selfScore.Observe(out.Score)
	}
	if reason == "" {
		j.results = base64.StdEncoding.EncodeToString(out.Data)
	} else {
		m.met.skipped.With(with(l, "reason", reason)).Inc()
	}

	m.mu.Lock()
	vs := m.vstate(j.v)
	if reason == "generate_error" || reason == "no_output" || reason == "generate_crashed" {
		vs.GenerateErrors++
	} else if reason == "self_check" {
		vs.SelfCheckSkips++
	}
	if h := vs.Held; h != nil && h.Task.ID == j.task.ID {
		h.Generated, h.Empty, h.Score, h.results = true, reason != "", out.Score, j.results
		if !h.Empty && m.opts.StateFile != "" {
			name, werr := writeResult(m.opts.StateFile, j.v.Hotkey, j.task.ID, j.results)
			if werr != nil {
				// Still submitted now; only a restart before that loses it.
				j.log.Error("saving held result", "task", j.task.ID, "err", werr)
				h.Generated = false
			}
			h.ResultFile = name
		}
		m.save()
	}
	m.mu.Unlock()
	m.submitq <- j // at most one job per validator in flight: never blocks
}

// submitter sends generated results until the submit queue closes.
func (m *Miner) submitter(work context.Context) {
	for j := range m.submitq {
		if work.Err() != nil {
			continue // stays held, generated, and resumes on the next run
		}
		m.submit(work, j)
		close(j.done)
	}
}

// submit signs and sends j's result and records the validator's answer.
func (m *Miner) submit(work context.Context, j *job) {
	l := labels(j.v)
	now := m.opts.Now()
	sub := Submission{Task: j.task, TaskID: j.task.ID, Results: j.results, SubmitTime: now.UnixNano()}
	sig, err := m.signer.SignSubmission(sub.SubmitTime, j.task.Prompt, j.v.Hotkey)
	if err != nil {
		j.log.Error("signing submission; releasing task", "task", j.task.ID, "err", err)
		m.release(j.v, j.log, "signing failed", m.opts.FailureBackoff)
		return
	}
	sub.Signature = sig

	m.mu.Lock()
	if h := m.vstate(j.v).Held; h != nil {
		h.Attempts++
	}
	// Until the answer is in, assume the longest cooldown it may set.
	vs := m.vstate(j.v)
	vs.NextPull = later(vs.NextPull, now.Add(m.opts.SubmitFailureBackoff))
	m.save()
	m.mu.Unlock()

	sctx, cancel := context.WithTimeout(work, m.opts.SubmitTimeout)
	t0, sent := time.Now(), m.opts.Now()
	resp, err := m.client.SubmitResults(sctx, j.v, sub)
	cancel()
	m.met.latency.With(with(l, "method", "SubmitResults")).Observe(time.Since(t0).Seconds())

	m.mu.Lock()
	defer m.mu.Unlock()
	vs = m.vstate(j.v)
	h := vs.Held
	now = m.opts.Now()
	m.observeDate(j.v, vs, j.log, resp.Date, sent, now)
	if err != nil || resp.Feedback == nil {
		if err != nil && work.Err() != nil {
			j.log.Info("submission interrupted by shutdown; task stays held", "task", j.task.ID)
			m.save()
			return
		}
		if errors.Is(err, ErrTaskNotHeld) && h != nil && h.Attempts > 1 {
			m.delivered(vs, j, h, now)
			return
		}
		m.met.requestFailures.With(with(l, "method", "SubmitResults")).Inc()
		m.met.failed.With(l).Inc()
		vs.SubmitFailures++
		if err == nil {
			j.log.Warn("submission answered without feedback", "task", j.task.ID)
		} else {
			j.log.Warn("submission failed", "task", j.task.ID, "err", err)
		}
		if resp.CooldownUntil > 0 {
			vs.CooldownUntil = resp.CooldownUntil
		}
		m.failure(vs, j.log, now)
		if h != nil && h.Attempts < m.opts.MaxSubmitAttempts && !errors.Is(err, ErrTaskNotHeld) {
			h.NotBefore = now.Add(m.opts.SubmitFailureBackoff)
			j.log.Info("will resubmit", "task", j.task.ID, "at", h.NotBefore)
		} else if h != nil {
			m.dropHeld(vs, j.v)
			vs.Released++
			m.met.released.With(l).Inc()
			j.log.Warn("submission attempts exhausted; task released", "task", j.task.ID)
		}
		m.save()
		return
	}

	fb := resp.Feedback
	outcome := "rejected"
	switch {
	case j.results == "":
		outcome = "empty"
		vs.Empty++
	case fb.ValidationFailed:
		outcome = "validation_failed"
		vs.ValidationFail++
	case h != nil && fb.TaskFidelityScore >= h.Threshold && fb.TaskFidelityScore > 0:
		outcome = "accepted"
		vs.Accepted++
		vs.ScoreSum += fb.TaskFidelityScore
	default:
		vs.Rejected++
	}
	if j.results != "" && !fb.ValidationFailed {
		m.met.validatorScore.With(l).Observe(fb.TaskFidelityScore)
	}
	m.met.submitted.With(with(l, "outcome", outcome)).Inc()
	vs.Submitted++
	vs.Failures = 0
	next := now.Add(m.opts.MinPullInterval)
	if resp.CooldownUntil > 0 {
		vs.CooldownUntil = resp.CooldownUntil
		next = later(next, m.localTime(vs, resp.CooldownUntil).Add(m.opts.CooldownMargin))
	} else if h != nil {
		// No cooldown sent: the validator's own rule (docs/protocol.md §1.6),
		// max(submit + cooldown - throttle, assignment + cooldown).
		throttle := time.Duration(h.Throttle) * time.Second
		next = later(next, later(now.Add(m.opts.TaskCooldown-throttle), h.PulledAt.Add(m.opts.TaskCooldown)))
	}
	vs.NextPull = next // the answer replaces the provisional back-off
	j.log.Info("submitted", "task", j.task.ID, "outcome", outcome, "score", fb.TaskFidelityScore,
		"cooldown_until", resp.CooldownUntil, "window", fb.GenerationsWithinWindow,
		"reward", fb.CurrentMinerReward)
	if h != nil {
		m.dropHeld(vs, j.v)
	}
	m.save()
}

// delivered handles a resend answered "no task assigned": an earlier
// attempt (cut off by a shutdown or a lost answer) reached the validator,
// which took it and reset the task. It counts once, as delivered with an
// unknown verdict, and the next pull follows the validator's own cooldown
// rule from the pull (docs/protocol.md §1.6) instead of the back-off for an unknown
// outcome; m.mu must be held.
func (m *Miner) delivered(vs *valState, j *job, h *heldTask, now time.Time) {
	l := labels(j.v)
	vs.Submitted++
	vs.Delivered++
	vs.Failures = 0
	m.met.submitted.With(with(l, "outcome", "delivered_before")).Inc()
	throttle := time.Duration(h.Throttle) * time.Second
	vs.NextPull = later(now.Add(m.opts.MinPullInterval),
		later(now.Add(m.opts.TaskCooldown-throttle), h.PulledAt.Add(m.opts.TaskCooldown)))
	j.log.Info("validator holds no task: an earlier attempt was delivered", "task", j.task.ID,
		"attempts", h.Attempts, "next_pull", vs.NextPull)
	m.dropHeld(vs, j.v)
	m.save()
}

// dropHeld forgets vs's held task after its submission; m.mu must be held.
func (m *Miner) dropHeld(vs *valState, v Validator) {
	removeResult(m.opts.StateFile, vs.Held.ResultFile)
	vs.Held = nil
	m.met.held.Dec()
}
