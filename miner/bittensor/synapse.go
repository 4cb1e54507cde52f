package bittensor

import (
	"encoding/json"
	"fmt"
)

// Synapse names (the route of each, docs/protocol.md §2.1).
const (
	NamePullTask      = "PullTask"
	NameSubmitResults = "SubmitResults"
	NameGetVersion    = "GetVersion"
)

// Task kinds (docs/protocol.md §1.2).
const (
	TaskText  = "text"
	TaskImage = "image"
)

// Protocol defaults (docs/protocol.md §1.3, §1.7, §7.8).
const (
	DefaultValidationThreshold = 0.6
	CompressionSPZ             = 2
	SDKVersion                 = 9009000 // bittensor 9.9.0 as an int
	PullTaskTimeout            = 12.0    // seconds, base miner
	SubmitResultsTimeout       = 300.0   // seconds, base miner
)

// TerminalInfo describes one end of a call (bittensor's TerminalInfo); every
// field is nullable on the wire.
type TerminalInfo struct {
	StatusCode    *int     `json:"status_code"`
	StatusMessage *string  `json:"status_message"`
	ProcessTime   *float64 `json:"process_time"`
	IP            *string  `json:"ip"`
	Port          *int     `json:"port"`
	Version       *int64   `json:"version"`
	Nonce         *int64   `json:"nonce"`
	UUID          *string  `json:"uuid"`
	Hotkey        *string  `json:"hotkey"`
	Signature     *string  `json:"signature"`
}

// SynapseBase holds the fields every bittensor Synapse carries (docs/protocol.md §2.3).
type SynapseBase struct {
	Name             string       `json:"name"`
	Timeout          float64      `json:"timeout"`
	TotalSize        int64        `json:"total_size"`
	HeaderSize       int64        `json:"header_size"`
	Dendrite         TerminalInfo `json:"dendrite"`
	Axon             TerminalInfo `json:"axon"`
	ComputedBodyHash string       `json:"computed_body_hash"`
}

// Base returns the common fields.
func (b *SynapseBase) Base() *SynapseBase { return b }

// Synapse is one of the 404-GEN synapses: *PullTask, *SubmitResults or
// *GetVersion.
type Synapse interface {
	// SynapseName is the class name, which is also the route.
	SynapseName() string
	// Base returns the bittensor fields shared by all synapses.
	Base() *SynapseBase
	// RequiredFields are the JSON fields with no default, which must be in
	// every body and get a bt_header_input_obj_* header.
	RequiredFields() []string
}

// NewSynapse returns a synapse of the named class with its defaults, or
// false for an unknown name.
func NewSynapse(name string) (Synapse, bool) {
	switch name {
	case NamePullTask:
		return NewPullTask(), true
	case NameSubmitResults:
		return NewSubmitResults(), true
	case NameGetVersion:
		return NewGetVersion(), true
	}
	return nil, false
}

func newBase(name string, timeout float64) SynapseBase {
	return SynapseBase{Name: name, Timeout: timeout}
}

// Task is a TextTask or an ImageTask (docs/protocol.md §1.2). For an image task Prompt is the
// base64 of the image file.
type Task struct {
	Type   string `json:"type"`
	ID     string `json:"id"`
	Prompt string `json:"prompt"`
}

// UnmarshalJSON decodes a task; a missing type means "text" (TextTask's
// default), an unknown one is an error.
func (t *Task) UnmarshalJSON(b []byte) error {
	type plain Task
	p := plain{Type: TaskText}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if p.Type != TaskText && p.Type != TaskImage {
		return fmt.Errorf("task type %q: want %q or %q", p.Type, TaskText, TaskImage)
	}
	*t = Task(p)
	return nil
}

// MarshalJSON encodes a task; an empty Type is written as "text".
func (t Task) MarshalJSON() ([]byte, error) {
	type plain Task
	p := plain(t)
	if p.Type == "" {
		p.Type = TaskText
	}
	return json.Marshal(p)
}

// PullTask asks a validator for a task (docs/protocol.md §1.3).
type PullTask struct {
	SynapseBase
	Task                *Task   `json:"task"`
	ValidationThreshold float64 `json:"validation_threshold"`
	ThrottlePeriod      int64   `json:"throttle_period"`
	CooldownUntil       int64   `json:"cooldown_until"`
	CooldownViolations  int64   `json:"cooldown_violations"`
}

// NewPullTask returns a PullTask with the protocol defaults.
func NewPullTask() *PullTask {
	return &PullTask{SynapseBase: newBase(NamePullTask, PullTaskTimeout), ValidationThreshold: DefaultValidationThreshold}
}

// SynapseName implements Synapse.
func (*PullTask) SynapseName() string { return NamePullTask }

// RequiredFields implements Synapse.
func (*PullTask) RequiredFields() []string { return nil }

// Feedback is the validator's verdict on a submission (docs/protocol.md §1.3).
type Feedback struct {
	ValidationFailed           bool    `json:"validation_failed"`
	TaskFidelityScore          float64 `json:"task_fidelity_score"`
	AverageFidelityScore       float64 `json:"average_fidelity_score"`
	GenerationsWithinTheWindow int64   `json:"generations_within_the_window"`
	CurrentDuelRating          float64 `json:"current_duel_rating"`
	CurrentMinerReward         float64 `json:"current_miner_reward"`
}

// SubmitResults delivers a result (docs/protocol.md §1.3). Results is base64(SPZ); "" skips
// the task without penalty. Signature is base64 of the 64-byte submission
// signature (SubmissionSignature).
type SubmitResults struct {
	SynapseBase
	Task          *Task     `json:"task"` // deprecated, back-fills task_id
	TaskID        string    `json:"task_id"`
	Results       string    `json:"results"`
	DataFormat    string    `json:"data_format"`
	DataVer       int64     `json:"data_ver"`
	Compression   int64     `json:"compression"`
	SubmitTime    int64     `json:"submit_time"`
	Signature     string    `json:"signature"`
	Feedback      *Feedback `json:"feedback"`
	CooldownUntil int64     `json:"cooldown_until"`
}

// NewSubmitResults returns a SubmitResults with the protocol defaults.
func NewSubmitResults() *SubmitResults {
	return &SubmitResults{SynapseBase: newBase(NameSubmitResults, SubmitResultsTimeout), DataFormat: "ply", Compression: CompressionSPZ}
}

// SynapseName implements Synapse.
func (*SubmitResults) SynapseName() string { return NameSubmitResults }

// RequiredFields implements Synapse.
func (*SubmitResults) RequiredFields() []string {
	return []string{"results", "submit_time", "signature"}
}

// GetVersion asks a validator for its version; only validators may call it.
type GetVersion struct {
	SynapseBase
	Version           int64  `json:"version"`
	ValidationVersion string `json:"validation_version"`
}

// NewGetVersion returns a GetVersion with the defaults.
func NewGetVersion() *GetVersion {
	return &GetVersion{SynapseBase: newBase(NameGetVersion, PullTaskTimeout)}
}

// SynapseName implements Synapse.
func (*GetVersion) SynapseName() string { return NameGetVersion }

// RequiredFields implements Synapse.
func (*GetVersion) RequiredFields() []string { return nil }
