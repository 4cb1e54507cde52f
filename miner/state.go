package miner

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/splatbench/splatbench/results/atomicfile"
)

// stateVersion is the state file's schema version.
const stateVersion = 1

// state is what the miner persists: per validator (by hotkey) its
// cooldown, back-off, blacklist, held task and counters.
type state struct {
	Version    int                  `json:"version"`
	Validators map[string]*valState `json:"validators"`
}

// valState is one validator's persisted state.
type valState struct {
	UID    int    `json:"uid"`
	Hotkey string `json:"hotkey"`
	// CooldownUntil is the validator's last cooldown (unix s).
	CooldownUntil int64 `json:"cooldown_until"`
	// NextPull is the earliest next PullTask, every rule applied.
	NextPull time.Time `json:"next_pull"`
	// Failures counts consecutive failed exchanges.
	Failures         int       `json:"consecutive_failures"`
	BlacklistedUntil time.Time `json:"blacklisted_until,omitzero"`
	// Violations is the validator's last reported cooldown_violations.
	Violations int       `json:"cooldown_violations"`
	Held       *heldTask `json:"held,omitempty"`
	Counters   `json:"counters"`
	// clock estimates the validator's clock offset (relearnt each run).
	clock clockEstimate
	// loggedOffset is the offset last logged.
	loggedOffset time.Duration
}

// heldTask is a task pulled and not yet submitted or released.
type heldTask struct {
	Task      Task      `json:"task"`
	PulledAt  time.Time `json:"pulled_at"`
	Threshold float64   `json:"validation_threshold"`
	Throttle  int       `json:"throttle_period"`
	// Generated is set once the result is final: Empty, or in ResultFile
	// (base64 SPZ, a file next to the state file).
	Generated  bool    `json:"generated"`
	Empty      bool    `json:"empty,omitempty"`
	ResultFile string  `json:"result_file,omitempty"`
	Score      float64 `json:"self_score"`
	// GenerateStarts counts generations started and not finished by a
	// clean stop: one that reaches maxGenerateStarts is taken to have
	// killed the process and is not started again.
	GenerateStarts int `json:"generate_starts,omitempty"`
	// Attempts counts submissions sent; NotBefore delays the next one.
	Attempts  int       `json:"attempts"`
	NotBefore time.Time `json:"not_before,omitzero"`
	// results is the generated result while this process runs (the file
	// is for the next one).
	results string
}

// Counters are per-validator totals; Stats sums them.
type Counters struct {
	Pulled         int `json:"pulled"`
	Submitted      int `json:"submitted"`
	Accepted       int `json:"accepted"`
	Rejected       int `json:"rejected"`
	Empty          int `json:"empty"`
	ValidationFail int `json:"validation_failed"`
	// SelfCheckSkips and GenerateErrors are the reasons for Empty.
	SelfCheckSkips int `json:"self_check_skips"`
	GenerateErrors int `json:"generate_errors"`
	PullFailures   int `json:"pull_failures"`
	SubmitFailures int `json:"submit_failures"`
	// Refusals are pulls answered with no task (cooldown, unregistered);
	// Unregistered are those that said the hotkey is unknown.
	Refusals     int `json:"refusals"`
	Unregistered int `json:"unregistered,omitempty"`
	Released     int `json:"released"`
	// Delivered counts resends answered "no task assigned": an earlier
	// attempt had reached the validator (also counted in Submitted).
	Delivered int `json:"delivered_before,omitempty"`
	Resumed   int `json:"resumed"`
	// ScoreSum sums the validators' fidelity scores of accepted results.
	ScoreSum            float64 `json:"score_sum"`
	CooldownWaitSeconds float64 `json:"cooldown_wait_seconds"`
}

func (c *Counters) add(o Counters) {
	c.Pulled += o.Pulled
	c.Submitted += o.Submitted
	c.Accepted += o.Accepted
	c.Rejected += o.Rejected
	c.Empty += o.Empty
	c.ValidationFail += o.ValidationFail
	c.SelfCheckSkips += o.SelfCheckSkips
	c.GenerateErrors += o.GenerateErrors
	c.PullFailures += o.PullFailures
	c.SubmitFailures += o.SubmitFailures
	c.Refusals += o.Refusals
	c.Unregistered += o.Unregistered
	c.Released += o.Released
	c.Delivered += o.Delivered
	c.Resumed += o.Resumed
	c.ScoreSum += o.ScoreSum
	c.CooldownWaitSeconds += o.CooldownWaitSeconds
}

// loadState reads path; a missing file is an empty state.
func loadState(path string) (*state, error) {
	st := &state{Version: stateVersion, Validators: map[string]*valState{}}
	if path == "" {
		return st, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("miner state: %w", err)
	}
	return decodeState(path, b)
}

func decodeState(path string, b []byte) (*state, error) {
	st := &state{}
	if err := json.Unmarshal(b, st); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("miner state %s: offset %d: %w", path, se.Offset, err)
		case errors.As(err, &te):
			return nil, fmt.Errorf("miner state %s: field %s at offset %d: %w", path, te.Field, te.Offset, err)
		}
		return nil, fmt.Errorf("miner state %s: %w", path, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("miner state %s: field version: %d, want %d", path, st.Version, stateVersion)
	}
	if st.Validators == nil {
		st.Validators = map[string]*valState{}
	}
	for key, vs := range st.Validators {
		switch {
		case vs == nil:
			return nil, fmt.Errorf("miner state %s: validators[%q]: null", path, key)
		case vs.Hotkey != key:
			return nil, fmt.Errorf("miner state %s: validators[%q]: field hotkey is %q", path, key, vs.Hotkey)
		case vs.Held != nil && vs.Held.Task.ID == "":
			return nil, fmt.Errorf("miner state %s: validators[%q].held.task: empty id", path, key)
		case vs.Held != nil && vs.Held.ResultFile != "" && filepath.Base(vs.Held.ResultFile) != vs.Held.ResultFile:
			return nil, fmt.Errorf("miner state %s: validators[%q].held.result_file %q is not a plain name", path, key, vs.Held.ResultFile)
		}
	}
	return st, nil
}

// save writes st to path atomically (temporary file, fsync, rename).
func (st *state) save(path string) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("miner state %s: %w", path, err)
	}
	return writeAtomic(path, append(b, '\n'))
}

func writeAtomic(path string, b []byte) error {
	if err := atomicfile.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("miner state: %w", err)
	}
	return nil
}

// maxGenerateStarts is how often a held task's generation may start
// without finishing (a crash each time) before it is answered empty.
const maxGenerateStarts = 2

// heldDir is where generated, unsubmitted results wait.
func heldDir(statePath string) string { return statePath + ".held" }

// resultName is a held result's file name: a hash, so that a validator's
// task id never becomes a path.
func resultName(hotkey, taskID string) string {
	h := sha256.Sum256([]byte(hotkey + "\x00" + taskID))
	return hex.EncodeToString(h[:12]) + ".b64"
}

// writeResult stores a held result; it returns the file name.
func writeResult(statePath, hotkey, taskID, results string) (string, error) {
	name := resultName(hotkey, taskID)
	dir := heldDir(statePath)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("miner held results: %w", err)
	}
	if err := writeAtomic(filepath.Join(dir, name), []byte(results)); err != nil {
		return "", err
	}
	return name, nil
}

func readResult(statePath, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(heldDir(statePath), name))
	if err != nil {
		return "", fmt.Errorf("miner held result: %w", err)
	}
	return string(b), nil
}

func removeResult(statePath, name string) {
	if statePath != "" && name != "" {
		os.Remove(filepath.Join(heldDir(statePath), name))
	}
}
