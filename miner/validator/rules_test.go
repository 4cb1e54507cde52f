package validator

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/splatbench/splatbench/miner/bittensor"
)

// rig drives a validator's handlers directly (no network) so the rules run
// in synctest's virtual time.
type rig struct {
	t     *testing.T
	v     *Validator
	miner *bittensor.Keypair
}

func newRig(t *testing.T, o Options) *rig {
	t.Helper()
	if o.Key == nil {
		o.Key, _ = bittensor.KeypairFromURI("//Validator0")
	}
	if o.Scorer == nil {
		o.Scorer = FixedScorer(0.9)
	}
	if len(o.Prompts) == 0 {
		o.Prompts = []string{"a red cube", "a blue sphere"}
	}
	v, err := New(o, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := bittensor.KeypairFromURI("//Miner")
	return &rig{t: t, v: v, miner: m}
}

func (r *rig) req(s bittensor.Synapse) *bittensor.Request {
	hk, vk := r.miner.SS58(), r.v.Hotkey()
	s.Base().Dendrite.Hotkey, s.Base().Axon.Hotkey = &hk, &vk
	return &bittensor.Request{Name: s.SynapseName(), Body: s, Hotkey: hk}
}

func (r *rig) pull() *bittensor.PullTask {
	r.t.Helper()
	out, err := r.v.handlePullTask(context.Background(), r.req(bittensor.NewPullTask()))
	if err != nil {
		r.t.Fatal(err)
	}
	return out.(*bittensor.PullTask)
}

// submit sends results for task, signed over prompt (the task's own prompt
// unless overridden).
func (r *rig) submit(task bittensor.Task, results, signedPrompt string) (*bittensor.SubmitResults, error) {
	r.t.Helper()
	if signedPrompt == "" {
		signedPrompt = task.Prompt
	}
	signed := task
	signed.Prompt = signedPrompt
	s, err := bittensor.NewSubmission(r.miner, r.v.Hotkey(), signed, results, time.Now().UnixNano())
	if err != nil {
		r.t.Fatal(err)
	}
	s.Task = &task
	out, err := r.v.handleSubmitResults(context.Background(), r.req(s))
	if err != nil {
		return nil, err
	}
	return out.(*bittensor.SubmitResults), nil
}

func (r *rig) state() Miner {
	r.v.mu.Lock()
	defer r.v.mu.Unlock()
	return *r.v.st.Miners[r.miner.SS58()]
}

func nowS() int64 { return time.Now().Unix() }

// TestCooldownTable walks docs/protocol.md §1.6's outcome table row by row.
func TestCooldownTable(t *testing.T) {
	t.Parallel()
	const result = "c3B6" // any non-empty base64; the scorer is scripted
	tests := []struct {
		name         string
		score        float64
		scoreErr     bool
		results      string
		signedPrompt string
		wrongID      bool
		workFor      time.Duration // time between assignment and submission
		// want
		cooldownAfterAssign int64 // cooldown_until - assignment time; -1: unchanged (task kept)
		fidelity            float64
		validationFailed    bool
		observations        int64
		penalties           int
	}{
		{name: "accepted fast", score: 0.9, results: result, workFor: 10 * time.Second, cooldownAfterAssign: 300, fidelity: 0.9, observations: 1},
		{name: "accepted slow", score: 0.9, results: result, workFor: 100 * time.Second, cooldownAfterAssign: 370, fidelity: 0.9, observations: 1},
		{name: "score clipped to 1", score: 1.7, results: result, workFor: 10 * time.Second, cooldownAfterAssign: 300, fidelity: 1, observations: 1},
		{name: "below threshold", score: 0.59, results: result, workFor: 10 * time.Second, cooldownAfterAssign: 900, penalties: 1},
		{name: "below threshold slow", score: 0.1, results: result, workFor: 100 * time.Second, cooldownAfterAssign: 970, penalties: 1},
		{name: "empty results", score: 0.9, results: "", workFor: 10 * time.Second, cooldownAfterAssign: 300},
		{name: "invalid signature", score: 0.9, results: result, signedPrompt: "another prompt", workFor: 10 * time.Second, cooldownAfterAssign: 900, penalties: 1},
		{name: "validation service error", scoreErr: true, results: result, workFor: 10 * time.Second, cooldownAfterAssign: 300, validationFailed: true},
		{name: "wrong task id", score: 0.9, results: result, wrongID: true, workFor: 10 * time.Second, cooldownAfterAssign: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, Options{Scorer: ScorerFunc(func(context.Context, bittensor.Task, string) (float64, error) {
					if tt.scoreErr {
						return 0, context.DeadlineExceeded
					}
					return tt.score, nil
				})})
				p := r.pull()
				if p.Task == nil || p.ValidationThreshold != 0.6 || p.ThrottlePeriod != 30 || p.CooldownUntil != 0 {
					t.Fatalf("pull: %+v", p)
				}
				assigned := nowS()
				time.Sleep(tt.workFor)
				task := *p.Task
				if tt.wrongID {
					task.ID = "not-the-task"
				}
				got, err := r.submit(task, tt.results, tt.signedPrompt)
				if err != nil {
					t.Fatal(err)
				}
				st := r.state()
				if tt.cooldownAfterAssign < 0 {
					if st.AssignedTask == nil || st.CooldownUntil != 0 || got.CooldownUntil != 0 {
						t.Errorf("task not kept: %+v", st)
					}
				} else if got.CooldownUntil-assigned != tt.cooldownAfterAssign || st.AssignedTask != nil {
					t.Errorf("cooldown_until = assign + %d, want + %d (task %v)", got.CooldownUntil-assigned, tt.cooldownAfterAssign, st.AssignedTask)
				}
				fb := got.Feedback
				if fb == nil || fb.TaskFidelityScore != tt.fidelity || fb.ValidationFailed != tt.validationFailed ||
					fb.GenerationsWithinTheWindow != tt.observations || fb.CurrentDuelRating != 1500 ||
					fb.CurrentMinerReward != float64(tt.observations)*1500 {
					t.Errorf("feedback %+v", fb)
				}
				if got.Results != "" || got.Signature != "" {
					t.Error("results/signature not blanked")
				}
				if st.Stats.Penalties != tt.penalties {
					t.Errorf("penalties %d, want %d", st.Stats.Penalties, tt.penalties)
				}
				if tt.observations == 1 && st.FidelityScore != 0.05*tt.fidelity+0.95 {
					t.Errorf("EMA %v", st.FidelityScore)
				}
			})
		})
	}
}

func TestViolationsAndRepull(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, Options{ViolationThreshold: 2})
		p := r.pull()
		if again := r.pull(); again.Task == nil || again.Task.ID != p.Task.ID {
			t.Fatalf("re-pull did not return the same task: %+v", again)
		}
		time.Sleep(10 * time.Second)
		got, _ := r.submit(*p.Task, "c3B6", "")
		cd := got.CooldownUntil
		// Early pulls: violations 1, 2 (threshold), then +10 s each beyond it.
		wantCD := []int64{cd, cd, cd + 10, cd + 20}
		for i, want := range wantCD {
			q := r.pull()
			if q.Task != nil || q.CooldownUntil != want || q.CooldownViolations != int64(i+1) {
				t.Errorf("early pull %d: task %v cooldown %d violations %d, want cooldown %d", i+1, q.Task, q.CooldownUntil, q.CooldownViolations, want)
			}
		}
		// After the cooldown, a new task; a valid submission forgives one violation.
		time.Sleep(time.Duration(cd+20-nowS()) * time.Second)
		q := r.pull()
		if q.Task == nil || q.Task.ID == p.Task.ID {
			t.Fatalf("no new task after cooldown: %+v", q)
		}
		if _, err := r.submit(*q.Task, "", ""); err != nil {
			t.Fatal(err)
		}
		if st := r.state(); st.CooldownViolations != 3 || st.Stats.EarlyPulls != 4 || st.Stats.TasksAssigned != 2 {
			t.Errorf("state %+v", st)
		}
	})
}

func TestDoubleRewardGuardAndLock(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, Options{})
		p := r.pull()
		// Pretend an accepted submission happened just now (state carried
		// over a restart, say): the guard returns feedback only.
		r.v.mu.Lock()
		r.v.st.Miners[r.miner.SS58()].LastSubmitTime = float64(nowS())
		r.v.mu.Unlock()
		got, _ := r.submit(*p.Task, "c3B6", "")
		st := r.state()
		if st.AssignedTask == nil || got.CooldownUntil != 0 || got.Feedback.TaskFidelityScore != 0 || st.Stats.Accepted != 0 {
			t.Errorf("guard: %+v feedback %+v", st, got.Feedback)
		}
		// The guard left the validation lock on: a resubmit within 30 s is feedback only.
		time.Sleep(5 * time.Second)
		r.submit(*p.Task, "c3B6", "")
		if st := r.state(); st.AssignedTask == nil || st.Stats.FeedbackOnly != 2 {
			t.Errorf("lock: %+v", st.Stats)
		}
		// After the guard window the same task is accepted.
		time.Sleep(300 * time.Second)
		got, _ = r.submit(*p.Task, "c3B6", "")
		if got.Feedback.TaskFidelityScore != 0.9 || r.state().Stats.Accepted != 1 {
			t.Errorf("after guard: %+v", got.Feedback)
		}
	})
}

func TestMalformedSignatureKeepsTask(t *testing.T) {
	t.Parallel()
	r := newRig(t, Options{})
	p := r.pull()
	s, _ := bittensor.NewSubmission(r.miner, r.v.Hotkey(), *p.Task, "c3B6", 1)
	s.Signature = "!!!"
	if _, err := r.v.handleSubmitResults(context.Background(), r.req(s)); err == nil {
		t.Fatal("malformed signature accepted")
	}
	if st := r.state(); st.AssignedTask == nil || st.CooldownUntil != 0 || st.Stats.Penalties != 0 {
		t.Errorf("state changed: %+v", st)
	}
}

func TestUnregisteredPull(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		other, _ := bittensor.KeypairFromURI("//Registered")
		r := newRig(t, Options{Miners: []string{other.SS58()}})
		p := r.pull()
		if p.Task != nil || p.CooldownUntil != nowS()+3600 {
			t.Errorf("unregistered pull: %+v", p)
		}
		if blocked, _ := r.v.blacklistSubmit(&bittensor.Request{Hotkey: r.miner.SS58()}); !blocked {
			t.Error("unregistered submit not blacklisted")
		}
		if blocked, _ := r.v.blacklistSubmit(&bittensor.Request{Hotkey: other.SS58()}); !blocked {
			t.Error("submit without a task not blacklisted")
		}
	})
}
