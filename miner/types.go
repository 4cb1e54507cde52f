package miner

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// ErrTaskNotHeld is what a Client's SubmitResults error wraps when the
// validator holds no task for the miner (403: it restarted, or took an
// earlier submission whose answer was lost). The miner then releases the
// task at once instead of sending it again.
var ErrTaskNotHeld = errors.New("validator holds no task for this miner")

// Validator is one validator the miner pulls from.
type Validator struct {
	UID     int    `json:"uid"`
	Hotkey  string `json:"hotkey"`
	Address string `json:"address"` // "host:port" of its axon
}

func (v Validator) String() string { return strconv.Itoa(v.UID) + "/" + v.Hotkey }

// Task is a task a validator assigned (docs/protocol.md §1.2).
type Task struct {
	ID string `json:"id"`
	// Type is "text" or "image".
	Type string `json:"type"`
	// Prompt is the text prompt, or for image tasks the base64 image,
	// exactly as received (the submission signature covers it).
	Prompt string `json:"prompt"`
}

// PullResponse is a validator's answer to PullTask (docs/protocol.md §1.3).
type PullResponse struct {
	// Task is nil when the validator refused (cooldown, unregistered).
	Task                *Task
	ValidationThreshold float64
	// ThrottlePeriod is in seconds.
	ThrottlePeriod int
	// CooldownUntil is unix seconds; 0 when unset.
	CooldownUntil      int64
	CooldownViolations int
	// Date is the answer's HTTP Date header (the validator's clock, whole
	// seconds); zero when the transport does not report it.
	Date time.Time
}

// Submission is what the miner sends with SubmitResults (docs/protocol.md §1.3).
type Submission struct {
	// Task is the task answered (its id is TaskID; the deprecated task
	// field of the synapse carries it whole).
	Task   Task
	TaskID string
	// Results is base64(SPZ) or "" to skip the task without penalty.
	Results string
	// SubmitTime is the signing time in unix nanoseconds.
	SubmitTime int64
	// Signature is base64 of the 64-byte sr25519 signature (docs/protocol.md §1.5).
	Signature string
}

// Feedback is the validator's verdict on a submission.
type Feedback struct {
	ValidationFailed        bool
	TaskFidelityScore       float64
	AverageFidelityScore    float64
	GenerationsWithinWindow int
	CurrentDuelRating       float64
	CurrentMinerReward      float64
}

// SubmitResponse is the validator's answer to SubmitResults.
type SubmitResponse struct {
	// Feedback is nil when the validator sent none.
	Feedback *Feedback
	// CooldownUntil is unix seconds; 0 when unset.
	CooldownUntil int64
	// Date is as in PullResponse.
	Date time.Time
}

// Client speaks the PullTask/SubmitResults protocol to one validator at a
// time. Implementations must honour ctx (the miner puts the protocol's
// client timeouts on it) and be safe for concurrent use. A response whose
// error is non-nil may still carry Date (an error answer tells the
// validator's clock too); its other fields are ignored.
type Client interface {
	PullTask(ctx context.Context, v Validator) (PullResponse, error)
	SubmitResults(ctx context.Context, v Validator, s Submission) (SubmitResponse, error)
}

// Timing is one stage's cost in one generation.
type Timing struct {
	Stage   string  `json:"stage"`
	Seconds float64 `json:"seconds"`
}

// Output is one generation's result.
type Output struct {
	// Data is the SPZ file.
	Data []byte
	// Score is the self-check score and Accepted whether the generator's
	// own check passed.
	Score    float64
	Accepted bool
	Timings  []Timing
}

// Generator turns a task into a Gaussian splat. It must honour ctx and be
// safe for concurrent use by the worker pool.
type Generator interface {
	Generate(ctx context.Context, t Task) (Output, error)
}

// Signer signs submissions with the miner's hotkey (docs/protocol.md §1.5): the
// returned string is base64 of the signature over
// declaration + submit_time + prompt + validator hotkey + miner hotkey.
type Signer interface {
	SignSubmission(submitTimeNs int64, prompt, validatorHotkey string) (string, error)
}
