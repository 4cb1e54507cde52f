package results

import "slices"

// StageSummary is the distribution of one stage over a set of records.
type StageSummary struct {
	Stage string
	// Seconds is wall time; DeviceSeconds covers only records whose stage
	// had a device timer (its N says how many).
	Seconds, DeviceSeconds Summary
	// PeakBytes is the largest peak any record reported for the stage.
	PeakBytes uint64
	// Devices lists what ran the stage, in order of first appearance.
	Devices []string
}

// TotalStage is the name SummarizeStages gives the whole-job row.
const TotalStage = "total"

// SummarizeStages summarises every stage of the timed, successful records
// (warm-ups and failed jobs are left out, as MLPerf leaves out warm-up),
// in the order stages first appear, followed by a TotalStage row for
// TotalSeconds.
func SummarizeStages(recs []Record) []StageSummary {
	type acc struct {
		secs, dev []float64
		peak      uint64
		devices   []string
	}
	var order []string
	byName := map[string]*acc{}
	get := func(name string) *acc {
		a, ok := byName[name]
		if !ok {
			a = &acc{}
			byName[name] = a
			order = append(order, name)
		}
		return a
	}
	var totals []float64
	for _, r := range recs {
		if r.Warmup || !r.OK() {
			continue
		}
		totals = append(totals, r.TotalSeconds)
		for _, s := range r.Stages {
			a := get(s.Name)
			a.secs = append(a.secs, s.Seconds)
			if s.DeviceSeconds > 0 {
				a.dev = append(a.dev, s.DeviceSeconds)
			}
			a.peak = max(a.peak, s.PeakBytes)
			if s.Device != "" && !slices.Contains(a.devices, s.Device) {
				a.devices = append(a.devices, s.Device)
			}
		}
	}
	if len(totals) == 0 {
		return nil
	}
	out := make([]StageSummary, 0, len(order)+1)
	for _, name := range order {
		a := byName[name]
		out = append(out, StageSummary{Stage: name, Seconds: Summarize(a.secs), DeviceSeconds: Summarize(a.dev), PeakBytes: a.peak, Devices: a.devices})
	}
	out = append(out, StageSummary{Stage: TotalStage, Seconds: Summarize(totals), DeviceSeconds: Summarize(nil)})
	return out
}
