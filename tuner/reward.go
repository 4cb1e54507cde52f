package tuner

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Verdict is what becomes of one generated result in the mining loop.
type Verdict int

const (
	// Skipped: the miner's self-check scored it below the threshold (or
	// the generation failed), so it submits an empty result.
	Skipped Verdict = iota
	// Accepted: submitted and scored ≥ the validator's threshold.
	Accepted
	// Rejected: submitted and scored below the validator's threshold.
	Rejected
)

func (v Verdict) String() string {
	switch v {
	case Skipped:
		return "skipped"
	case Accepted:
		return "accepted"
	case Rejected:
		return "rejected"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// RewardModel estimates how many accepted results per hour a miner earns
// with a given generation-time distribution and self-check outcome mix,
// under the 404-GEN validator rules (docs/protocol.md §1.6, base-miner
// polling docs/protocol.md §2.9). It is a steady-state fluid model:
//
//   - A validator hands a miner one task at a time. With assignment at
//     time a, submission at a+t, cooldown c and throttle T, the validator
//     sets cooldown_until = max(a+t+c−T, a+c), so the next pull is at
//     a + max(c, t+c−T). With the defaults (c = 300 s, T = 30 s) that is
//     a + max(300, t+270) for an accepted result.
//   - A submitted result scoring below the validator's threshold adds the
//     penalty (600 s) to c: the next pull is at a + max(900, t+870).
//   - A skipped result (self-check below the miner's threshold, or a failed
//     generation) is submitted as an empty result: cooldown c with no
//     penalty and no reward, a + max(300, t+270). Not submitting at all is
//     never better: a synthetic task has no deadline and stays assigned,
//     blocking that validator.
//   - Each validator therefore cycles once per C(t, verdict) seconds when
//     a worker is free at its pull time, giving V / E[C] tasks per second
//     over V validators. Each task occupies one of W workers for t
//     seconds, giving at most W / E[t]. The task rate is the smaller of the
//     two (which one binds is reported); accepted results per hour are
//     3600 × rate × P(accepted). Expectations are sample means over the
//     measured trials, so the latency distribution, not only its median,
//     counts.
//
// Assumptions, each a simplification of the real loop:
//   - The miner pulls the moment a cooldown ends (no 10 s idle poll, no
//     premature pulls, hence no cooldown violations); Overhead adds a
//     fixed per-task time (pull and submit round trips) to t.
//   - Every validator always has a task for us (synthetic tasks) and all
//     V accept our pulls; the owner-validator cadence does not change
//     the count. Validation-service errors and signature failures are
//     absent.
//   - The double-reward guard (a second submit within c−T of the last) is
//     never hit: the next assignment is at least t+c−T after the last
//     submit, so the next submit is later still.
//   - The fluid minimum ignores queueing when both limits are close, so
//     it is an upper bound there.
//   - The validator's verdict is known only for validator-style scores
//     (ScoreValidator, a CLIP estimate of the validator's score): accepted
//     iff score ≥ ValidatorThreshold. For the weight-free fidelity score
//     the self-check is taken as the validator's verdict: every submitted
//     result is accepted.
//   - Rewards are counted as accepted results; the duel/Glicko ranking
//     that turns them into weight (docs/protocol.md §3.6) is out of scope.
type RewardModel struct {
	// Workers is the number of generations that run at once (W ≥ 1).
	Workers int
	// Validators is the number of validators pulled from (V ≥ 1).
	Validators int
	// Cooldown, Throttle and Penalty are the validator's
	// generation.task_cooldown, throttle_period and cooldown_penalty.
	Cooldown, Throttle, Penalty time.Duration
	// ValidatorThreshold is the validator's acceptance threshold (0.6).
	ValidatorThreshold float64
	// Overhead is added to every task's generation time.
	Overhead time.Duration
}

// DefaultRewardModel is the model with the validator defaults of docs/protocol.md §1.6:
// cooldown 300 s, throttle 30 s, penalty 600 s, threshold 0.6.
func DefaultRewardModel(workers, validators int) RewardModel {
	return RewardModel{
		Workers:            workers,
		Validators:         validators,
		Cooldown:           300 * time.Second,
		Throttle:           30 * time.Second,
		Penalty:            600 * time.Second,
		ValidatorThreshold: 0.6,
	}
}

// TaskSample is one measured trial as the reward model sees it.
type TaskSample struct {
	// Seconds is the generation time, self-check included.
	Seconds float64
	Verdict Verdict
}

// RewardRate is the model's answer for one point.
type RewardRate struct {
	// TasksPerHour is the task throughput; AcceptedPerHour of them are
	// accepted results (the reward rate).
	TasksPerHour    float64
	AcceptedPerHour float64
	// Bound says which limit binds: "validators" (cooldowns) or "workers".
	Bound string
	// CycleSeconds is E[C], the mean time between a validator's pulls.
	CycleSeconds float64
	// WorkersToSaturate is V·E[t]/E[C]: the workers needed to keep every
	// validator busy; more workers add nothing.
	WorkersToSaturate float64
}

// Cycle is the time from one pull to the next pull of the same validator
// for a task that took t seconds and ended with verdict v.
func (m RewardModel) Cycle(t float64, v Verdict) float64 {
	c := m.Cooldown.Seconds()
	if v == Rejected {
		c += m.Penalty.Seconds()
	}
	return math.Max(c, t+c-m.Throttle.Seconds())
}

// Classify turns one trial's outcome into a verdict at the miner's
// threshold: failed → Skipped; score below threshold → Skipped; a
// validator-style score below ValidatorThreshold → Rejected; otherwise
// Accepted. Without a score the evaluator's own verdict is used (nil:
// Skipped).
func (m RewardModel) Classify(failed bool, score float64, hasScore bool, kind string, threshold float64, selfCheck *bool) Verdict {
	switch {
	case failed:
		return Skipped
	case !hasScore:
		if selfCheck != nil && *selfCheck {
			return Accepted
		}
		return Skipped
	case score < threshold:
		return Skipped
	case kind == ScoreValidator && score < m.ValidatorThreshold:
		return Rejected
	}
	return Accepted
}

// Rate evaluates the model over the samples of one point.
func (m RewardModel) Rate(samples []TaskSample) (RewardRate, error) {
	if m.Workers < 1 || m.Validators < 1 {
		return RewardRate{}, fmt.Errorf("reward model: %d workers, %d validators: need at least one of each", m.Workers, m.Validators)
	}
	if m.Cooldown <= 0 || m.Throttle < 0 || m.Penalty < 0 || m.Overhead < 0 {
		return RewardRate{}, errors.New("reward model: cooldown must be positive, throttle, penalty and overhead not negative")
	}
	if len(samples) == 0 {
		return RewardRate{}, errors.New("reward model: no samples")
	}
	var sumT, sumC float64
	accepted := 0
	for i, s := range samples {
		if s.Seconds < 0 || math.IsNaN(s.Seconds) || math.IsInf(s.Seconds, 0) {
			return RewardRate{}, fmt.Errorf("reward model: sample %d: generation time %v", i, s.Seconds)
		}
		t := s.Seconds + m.Overhead.Seconds()
		sumT += t
		sumC += m.Cycle(t, s.Verdict)
		if s.Verdict == Accepted {
			accepted++
		}
	}
	n := float64(len(samples))
	meanT, meanC := sumT/n, sumC/n
	r := RewardRate{CycleSeconds: meanC, Bound: "validators"}
	validatorRate := float64(m.Validators) / meanC
	rate := validatorRate
	if meanT > 0 {
		r.WorkersToSaturate = float64(m.Validators) * meanT / meanC
		if workerRate := float64(m.Workers) / meanT; workerRate < validatorRate {
			rate, r.Bound = workerRate, "workers"
		}
	}
	r.TasksPerHour = 3600 * rate
	r.AcceptedPerHour = r.TasksPerHour * float64(accepted) / n
	return r, nil
}
