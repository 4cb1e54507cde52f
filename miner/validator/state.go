package validator

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/splatbench/splatbench/miner/bittensor"
	"github.com/splatbench/splatbench/results/atomicfile"
)

// Miner is the validator's state for one miner hotkey (MinerData, docs/protocol.md §7.2).
// Times are Unix seconds as floats, like Python's time.time().
type Miner struct {
	Hotkey                string          `json:"hotkey"`
	UID                   int             `json:"uid"`
	Observations          []float64       `json:"observations"` // accept times
	FidelityScore         float64         `json:"fidelity_score"`
	AssignedTask          *bittensor.Task `json:"assigned_task"`
	AssignmentTime        *float64        `json:"assignment_time"`
	CooldownUntil         int64           `json:"cooldown_until"`
	CooldownViolations    int64           `json:"cooldown_violations"`
	ValidationLockedUntil float64         `json:"validation_locked_until"`
	LastSubmitTime        float64         `json:"last_submit_time"`
	Rating                float64         `json:"rating"`

	Stats MinerStats `json:"stats"`
}

// MinerStats are the summary counters for one miner.
type MinerStats struct {
	Pulls            int `json:"pulls"`             // PullTask calls answered
	EarlyPulls       int `json:"early_pulls"`       // pulls while on cooldown (violations)
	TasksAssigned    int `json:"tasks_assigned"`    // new tasks handed out
	Submissions      int `json:"submissions"`       // SubmitResults calls handled
	Accepted         int `json:"accepted"`          // results at or above the threshold
	Rejected         int `json:"rejected"`          // below the threshold
	Skipped          int `json:"skipped"`           // empty results
	BadSignatures    int `json:"bad_signatures"`    // well-formed but wrong submission signatures
	ValidationFailed int `json:"validation_failed"` // scorer errors
	FeedbackOnly     int `json:"feedback_only"`     // wrong task id, lock, double-reward guard
	Penalties        int `json:"penalties"`         // 600 s penalties applied
}

func newMiner(hotkey string, uid int) *Miner {
	return &Miner{Hotkey: hotkey, UID: uid, FidelityScore: 1, Rating: initialRating}
}

const initialRating = 1500

// resetTask ends the miner's task and sets its cooldown (miner_data.py
// reset_task): int(max(now + c − T, assignment + c)), or now + c without
// an assignment time.
func (m *Miner) resetTask(now float64, cooldown, throttle float64) {
	c := now + cooldown
	if m.AssignmentTime != nil {
		c = max(now+cooldown-throttle, *m.AssignmentTime+cooldown)
	}
	m.CooldownUntil = int64(c)
	m.AssignedTask, m.AssignmentTime = nil, nil
}

// windowCount is the number of observations within window seconds of now.
func (m *Miner) windowCount(now, window float64) int {
	n := 0
	for _, t := range m.Observations {
		if t > now-window {
			n++
		}
	}
	return n
}

// stateFile is the persisted form.
type stateFile struct {
	Version   int               `json:"version"`
	Validator string            `json:"validator"`
	Miners    map[string]*Miner `json:"miners"`
	NextTask  int               `json:"next_task"`
}

const stateVersion = 1

func loadState(path, hotkey string) (*stateFile, error) {
	st := &stateFile{Version: stateVersion, Validator: hotkey, Miners: map[string]*Miner{}}
	if path == "" {
		return st, nil
	}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("validator state %s: %w", path, err)
	}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("validator state %s: %w", path, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("validator state %s: field version is %d, want %d", path, st.Version, stateVersion)
	}
	if st.Validator != hotkey {
		return nil, fmt.Errorf("validator state %s: field validator is %s but this validator is %s", path, st.Validator, hotkey)
	}
	if st.Miners == nil {
		st.Miners = map[string]*Miner{}
	}
	for k, m := range st.Miners {
		if m == nil || m.Hotkey != k {
			return nil, fmt.Errorf("validator state %s: miners[%q] is missing or names another hotkey", path, k)
		}
	}
	return st, nil
}

// save writes the state atomically (atomicfile).
func (st *stateFile) save(path string) error {
	if path == "" {
		return nil
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("validator state: %w", err)
	}
	return nil
}
