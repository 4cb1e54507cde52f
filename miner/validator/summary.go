package validator

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
)

// MinerSummary is one miner's line of a Summary.
type MinerSummary struct {
	Hotkey        string
	UID           int
	Violations    int64
	CooldownUntil int64
	Fidelity      float64
	MinerStats
}

// FaultCounts counts injected faults.
type FaultCounts struct {
	Hangs, ServerErrors, Garbage, Drops int
}

// Summary is what a validator saw, per miner.
type Summary struct {
	UID    int
	Hotkey string
	Miners []MinerSummary // by UID
	Faults FaultCounts
}

// Summary returns the per-miner counters.
func (v *Validator) Summary() Summary {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := Summary{UID: v.opts.UID, Hotkey: v.Hotkey(), Faults: v.faults}
	for _, m := range v.st.Miners {
		s.Miners = append(s.Miners, MinerSummary{Hotkey: m.Hotkey, UID: m.UID, Violations: m.CooldownViolations,
			CooldownUntil: m.CooldownUntil, Fidelity: m.FidelityScore, MinerStats: m.Stats})
	}
	sort.Slice(s.Miners, func(i, j int) bool { return s.Miners[i].UID < s.Miners[j].UID })
	return s
}

// WriteText prints the summary as an aligned table.
func (s Summary) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "validator uid %d %s (faults: %d hangs, %d 500s, %d garbage, %d drops)\n",
		s.UID, s.Hotkey, s.Faults.Hangs, s.Faults.ServerErrors, s.Faults.Garbage, s.Faults.Drops)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "uid\thotkey\tpulls\tearly\ttasks\tsubmits\taccepted\trejected\tskipped\tbad sig\tval. failed\tfeedback only\tpenalties\tviolations")
	for _, m := range s.Miners {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", m.UID, m.Hotkey, m.Pulls, m.EarlyPulls,
			m.TasksAssigned, m.Submissions, m.Accepted, m.Rejected, m.Skipped, m.BadSignatures, m.ValidationFailed,
			m.FeedbackOnly, m.Penalties, m.Violations)
	}
	return tw.Flush()
}
