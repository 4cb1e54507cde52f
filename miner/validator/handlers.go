package validator

import (
	"context"
	"errors"
	"fmt"

	"github.com/splatbench/splatbench/miner/bittensor"
)

// ValidatorVersion is the Era-B validator version GetVersion reports.
const ValidatorVersion = 45

func secs(d interface{ Seconds() float64 }) float64 { return d.Seconds() }

func bodyHotkey(s bittensor.Synapse) string {
	if h := s.Base().Dendrite.Hotkey; h != nil {
		return *h
	}
	return ""
}

// handlePullTask is docs/protocol.md §7.3.
func (v *Validator) handlePullTask(_ context.Context, req *bittensor.Request) (bittensor.Synapse, error) {
	p := req.Body.(*bittensor.PullTask)
	hotkey := bodyHotkey(p)
	now := unix(v.now())
	v.mu.Lock()
	defer v.mu.Unlock()
	p.Task, p.CooldownUntil, p.CooldownViolations = nil, 0, 0
	m, ok := v.miner(hotkey)
	if !ok {
		p.CooldownUntil = int64(now + secs(v.opts.UnregisteredCooldown))
		v.log.Info("pull from unregistered hotkey", "hotkey", hotkey)
		return p, nil
	}
	m.Stats.Pulls++
	defer v.save()
	if now < float64(m.CooldownUntil) {
		m.CooldownViolations++
		m.Stats.EarlyPulls++
		if m.CooldownViolations > int64(v.opts.ViolationThreshold) {
			m.CooldownUntil += int64(secs(v.opts.ViolationPenalty))
		}
		p.CooldownUntil, p.CooldownViolations = m.CooldownUntil, m.CooldownViolations
		v.log.Info("pull on cooldown", "hotkey", hotkey, "cooldown_until", m.CooldownUntil, "violations", m.CooldownViolations)
		return p, nil
	}
	if m.AssignedTask == nil {
		m.AssignedTask = v.nextTask()
		t := now
		m.AssignmentTime = &t
		m.Stats.TasksAssigned++
		v.log.Info("task assigned", "hotkey", hotkey, "task", m.AssignedTask.ID, "prompt", m.AssignedTask.Prompt)
	}
	task := *m.AssignedTask
	p.Task = &task
	p.ValidationThreshold = v.opts.QualityThreshold
	p.ThrottlePeriod = int64(secs(v.opts.ThrottlePeriod))
	return p, nil
}

// blacklistSubmit refuses SubmitResults from unknown hotkeys and from
// miners with no assigned task (403, docs/protocol.md §2.6).
func (v *Validator) blacklistSubmit(req *bittensor.Request) (bool, string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	m, ok := v.st.Miners[req.Hotkey]
	switch {
	case !ok:
		return true, fmt.Sprintf("hotkey %s is not registered", req.Hotkey)
	case m.AssignedTask == nil:
		return true, fmt.Sprintf("hotkey %s has no assigned task", req.Hotkey)
	}
	return false, ""
}

// blacklistGetVersion refuses every miner: only validators (stake ≥ 1000)
// and the owner may call GetVersion, and the local validator knows none.
func (v *Validator) blacklistGetVersion(req *bittensor.Request) (bool, string) {
	return true, fmt.Sprintf("hotkey %s is not a validator", req.Hotkey)
}

func (v *Validator) handleGetVersion(_ context.Context, req *bittensor.Request) (bittensor.Synapse, error) {
	g := req.Body.(*bittensor.GetVersion)
	g.Version, g.ValidationVersion = ValidatorVersion, `"local"`
	return g, nil
}

// handleSubmitResults is docs/protocol.md §7.4 with the outcome table of docs/protocol.md §1.6.
func (v *Validator) handleSubmitResults(ctx context.Context, req *bittensor.Request) (bittensor.Synapse, error) {
	s := req.Body.(*bittensor.SubmitResults)
	hotkey := bodyHotkey(s)
	validatorHotkey := ""
	if h := s.Axon.Hotkey; h != nil {
		validatorHotkey = *h
	}
	taskID := s.TaskID
	if taskID == "" && s.Task != nil {
		taskID = s.Task.ID
	}
	results := s.Results
	now := unix(v.now())

	v.mu.Lock()
	m, ok := v.st.Miners[hotkey]
	if !ok || m.AssignedTask == nil {
		v.mu.Unlock()
		// The header hotkey passed the blacklist but the body names another.
		return nil, &bittensor.StatusError{Code: 500, Message: fmt.Sprintf("body hotkey %q has no assigned task", hotkey)}
	}
	m.Stats.Submissions++
	done := func(outcome string) (bittensor.Synapse, error) {
		v.respond(s, m, now)
		v.log.Info("submission", "hotkey", hotkey, "outcome", outcome, "cooldown_until", m.CooldownUntil,
			"score", s.Feedback.TaskFidelityScore)
		v.save()
		v.mu.Unlock()
		return s, nil
	}
	// 1. The task id must match; otherwise feedback only.
	if taskID != m.AssignedTask.ID {
		m.Stats.FeedbackOnly++
		return done("wrong task id")
	}
	// 2. Submission signature.
	err := bittensor.VerifySubmissionSignature(s.Signature, s.SubmitTime, m.AssignedTask.Prompt, validatorHotkey, hotkey)
	if errors.Is(err, bittensor.ErrMalformedSignature) {
		v.save()
		v.mu.Unlock()
		return nil, err // the real validator raises: 500, task kept, nothing counted
	}
	if err != nil {
		m.Stats.BadSignatures++
		m.Stats.Penalties++
		m.resetTask(now, secs(v.opts.TaskCooldown+v.opts.CooldownPenalty), secs(v.opts.ThrottlePeriod))
		return done("bad signature")
	}
	// 3. A valid signature forgives one violation.
	m.CooldownViolations = max(0, m.CooldownViolations-1)
	// 4. Empty results skip the task without penalty.
	if results == "" {
		m.Stats.Skipped++
		m.resetTask(now, secs(v.opts.TaskCooldown), secs(v.opts.ThrottlePeriod))
		return done("skipped")
	}
	// 5. Validation lock.
	if m.ValidationLockedUntil > now {
		m.Stats.FeedbackOnly++
		return done("validation locked")
	}
	m.ValidationLockedUntil = now + secs(v.opts.ValidationLock)
	task := *m.AssignedTask
	v.save()
	v.mu.Unlock()

	// 6. Score outside the state lock.
	score, serr := v.score(ctx, task, results)

	v.mu.Lock()
	now = unix(v.now())
	if m.AssignedTask == nil || m.AssignedTask.ID != task.ID {
		// Another submission of the same task finished first.
		m.Stats.FeedbackOnly++
		return done("superseded")
	}
	if serr != nil {
		m.Stats.ValidationFailed++
		m.resetTask(now, secs(v.opts.TaskCooldown), secs(v.opts.ThrottlePeriod))
		v.log.Warn("scorer failed", "hotkey", hotkey, "err", serr)
		s.Feedback = &bittensor.Feedback{ValidationFailed: true}
		return done("validation failed")
	}
	// 7. Double-reward guard: any score, before the threshold check.
	if m.LastSubmitTime+secs(v.opts.TaskCooldown)-secs(v.opts.ThrottlePeriod) > now {
		m.Stats.FeedbackOnly++
		return done("double-reward guard")
	}
	// 8. Below the threshold: penalty.
	if score < v.opts.QualityThreshold {
		m.Stats.Rejected++
		m.Stats.Penalties++
		m.resetTask(now, secs(v.opts.TaskCooldown+v.opts.CooldownPenalty), secs(v.opts.ThrottlePeriod))
		return done(fmt.Sprintf("rejected (score %.3f)", score))
	}
	// 9. Accept.
	fid := min(1, score)
	m.Stats.Accepted++
	m.resetTask(now, secs(v.opts.TaskCooldown), secs(v.opts.ThrottlePeriod))
	m.Observations = append(pruneObservations(m.Observations, now, secs(v.opts.ObservationWindow)), now)
	m.FidelityScore = v.opts.EMAAlpha*fid + (1-v.opts.EMAAlpha)*m.FidelityScore
	m.LastSubmitTime = now
	s.Feedback = &bittensor.Feedback{TaskFidelityScore: fid}
	return done("accepted")
}

// respond fills the feedback every SubmitResults path returns (docs/protocol.md §7.4 step
// 10) and blanks the result and signature.
func (v *Validator) respond(s *bittensor.SubmitResults, m *Miner, now float64) {
	if s.Feedback == nil {
		s.Feedback = &bittensor.Feedback{}
	}
	n := m.windowCount(now, secs(v.opts.ObservationWindow))
	s.Feedback.AverageFidelityScore = m.FidelityScore
	s.Feedback.GenerationsWithinTheWindow = int64(n)
	s.Feedback.CurrentDuelRating = m.Rating
	s.Feedback.CurrentMinerReward = float64(n) * m.Rating
	s.CooldownUntil = m.CooldownUntil
	s.Results, s.Signature = "", ""
}

func pruneObservations(obs []float64, now, window float64) []float64 {
	out := obs[:0]
	for _, t := range obs {
		if t > now-window {
			out = append(out, t)
		}
	}
	return out
}

func (v *Validator) score(ctx context.Context, task bittensor.Task, results string) (float64, error) {
	if v.opts.Faults.SerialValidation {
		v.scoreMu.Lock()
		defer v.scoreMu.Unlock()
	}
	return v.opts.Scorer.Score(ctx, task, results)
}
