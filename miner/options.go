package miner

import (
	"errors"
	"fmt"
	"time"
)

// Protocol defaults (docs/protocol.md §1.6, §2.9, §7.8).
const (
	DefaultPullTimeout    = 12 * time.Second
	DefaultSubmitTimeout  = 300 * time.Second
	DefaultFailureBackoff = 300 * time.Second
	// DefaultTaskCooldown and DefaultCooldownPenalty are the validator's
	// cooldown after a task and the extra after a rejected one.
	DefaultTaskCooldown    = 300 * time.Second
	DefaultCooldownPenalty = 600 * time.Second
)

// Blacklist names validators the miner never pulls from.
type Blacklist struct {
	UIDs    []int    `json:"uids,omitempty"`
	Hotkeys []string `json:"hotkeys,omitempty"`
}

// Options configure a Miner. Zero durations and counts take the defaults
// listed on each field.
type Options struct {
	Validators []Validator
	// Workers is the generation pool size (default 1).
	Workers int
	// Submitters is the submission pool size (default: one per validator).
	Submitters int
	// QueueSize bounds the tasks pulled and waiting for a worker (default
	// Workers). A loop does not pull while the queue is full.
	QueueSize int
	// Threshold is the self-check score below which an empty result is
	// submitted instead (the profile's score threshold).
	Threshold float64
	// StateFile is where cooldowns, held tasks and counters persist
	// ("" keeps them in memory only). Generated but unsubmitted results go
	// to StateFile + ".held/".
	StateFile string
	Blacklist Blacklist
	// BlacklistAfter consecutive failures blacklist a validator for
	// BlacklistFor (defaults 5 and 1 h; BlacklistAfter < 0 disables).
	BlacklistAfter int
	BlacklistFor   time.Duration
	// PullTimeout and SubmitTimeout are the client timeouts (12 s, 300 s).
	PullTimeout   time.Duration
	SubmitTimeout time.Duration
	// GenerateTimeout bounds one generation (0: none).
	GenerateTimeout time.Duration
	// FailureBackoff is the pause after a failed pull or a refusal without
	// a cooldown (300 s, the base miner's FAILED_VALIDATOR_DELAY).
	FailureBackoff time.Duration
	// SubmitFailureBackoff is the pause after a submission whose outcome
	// is unknown (default task cooldown + penalty, 900 s: the longest
	// cooldown the validator may have set meanwhile).
	SubmitFailureBackoff time.Duration
	// TaskCooldown is the validator's base cooldown (300 s), used with the
	// throttle when a validator sends feedback but no cooldown.
	TaskCooldown time.Duration
	// MinPullInterval is the least time between two pulls from one
	// validator (default 10 s): a cooldown already in the past does not
	// turn into a busy loop.
	MinPullInterval time.Duration
	// CooldownMargin is added to every validator cooldown (default 1 s)
	// to absorb clock skew and the validator's second granularity.
	CooldownMargin time.Duration
	// StartSpread spreads the loops' first pulls: each starts at a
	// deterministic offset in [0, StartSpread) from its hotkey's hash
	// (default 10 s).
	StartSpread time.Duration
	// MaxSubmitAttempts is how often one result is sent before the task is
	// released (default 2).
	MaxSubmitAttempts int
	// ShutdownGrace is how long in-flight generations and submissions may
	// go on after Run's context ends (0: cancelled at once; the tasks stay
	// held in the state file and resume on the next run).
	ShutdownGrace time.Duration
	// Now is the clock (default time.Now). Waits use the standard
	// library's timers, so testing/synctest drives both.
	Now func() time.Time
}

func (o *Options) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if o.Workers == 0 {
		o.Workers = 1
	}
	if o.Submitters == 0 {
		o.Submitters = max(1, len(o.Validators))
	}
	if o.QueueSize == 0 {
		o.QueueSize = o.Workers
	}
	if o.BlacklistAfter == 0 {
		o.BlacklistAfter = 5
	}
	def(&o.BlacklistFor, time.Hour)
	def(&o.PullTimeout, DefaultPullTimeout)
	def(&o.SubmitTimeout, DefaultSubmitTimeout)
	def(&o.FailureBackoff, DefaultFailureBackoff)
	def(&o.TaskCooldown, DefaultTaskCooldown)
	def(&o.SubmitFailureBackoff, DefaultTaskCooldown+DefaultCooldownPenalty)
	def(&o.MinPullInterval, 10*time.Second)
	def(&o.CooldownMargin, time.Second)
	def(&o.StartSpread, 10*time.Second)
	if o.MaxSubmitAttempts == 0 {
		o.MaxSubmitAttempts = 2
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

func (o *Options) validate() error {
	var errs []error
	if len(o.Validators) == 0 {
		errs = append(errs, errors.New("validators: none configured"))
	}
	seen := map[string]int{}
	for i, v := range o.Validators {
		if v.Hotkey == "" {
			errs = append(errs, fmt.Errorf("validators[%d] (uid %d): empty hotkey", i, v.UID))
		}
		if j, dup := seen[v.Hotkey]; dup {
			errs = append(errs, fmt.Errorf("validators[%d]: hotkey %s repeats validators[%d]", i, v.Hotkey, j))
		}
		seen[v.Hotkey] = i
	}
	for _, c := range []struct {
		name string
		n    int
	}{{"workers", o.Workers}, {"submitters", o.Submitters}, {"queue size", o.QueueSize},
		{"max submit attempts", o.MaxSubmitAttempts}} {
		if c.n < 1 {
			errs = append(errs, fmt.Errorf("%s: %d, want >= 1", c.name, c.n))
		}
	}
	for _, c := range []struct {
		name string
		d    time.Duration
	}{{"pull timeout", o.PullTimeout}, {"submit timeout", o.SubmitTimeout},
		{"failure backoff", o.FailureBackoff}, {"submit failure backoff", o.SubmitFailureBackoff},
		{"task cooldown", o.TaskCooldown}, {"min pull interval", o.MinPullInterval},
		{"blacklist for", o.BlacklistFor}, {"generate timeout", o.GenerateTimeout},
		{"cooldown margin", o.CooldownMargin}, {"start spread", o.StartSpread},
		{"shutdown grace", o.ShutdownGrace}} {
		if c.d < 0 {
			errs = append(errs, fmt.Errorf("%s: %v is negative", c.name, c.d))
		}
	}
	if o.Threshold < 0 || o.Threshold > 1 {
		errs = append(errs, fmt.Errorf("threshold: %v outside [0, 1]", o.Threshold))
	}
	return errors.Join(errs...)
}
