package results

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestSummarizeStages(t *testing.T) {
	t.Parallel()
	rec := func(id string, total, a, b, dev float64, warm bool, errText string) Record {
		return Record{ID: id, Kind: KindBench, Warmup: warm, Error: errText, TotalSeconds: total, Stages: []StageTiming{
			{Name: "matte", Seconds: a, Device: "cpu", PeakBytes: uint64(a * 100)},
			{Name: "fit", Seconds: b, DeviceSeconds: dev, Device: "cuda:0"},
		}}
	}
	recs := []Record{
		rec("w", 100, 50, 50, 40, true, ""), // warm-up: excluded
		rec("1", 3, 1, 2, 1.5, false, ""),
		rec("2", 5, 2, 3, 0, false, ""),
		rec("x", 9, 9, 9, 9, false, "boom"), // failed: excluded
		rec("3", 4, 3, 1, 0.5, false, ""),
	}
	recs[4].Stages[0].Device = "ort:CPUExecutionProvider"
	got := SummarizeStages(recs)
	none := Summarize(nil)
	want := []StageSummary{
		{Stage: "matte", Seconds: Summary{N: 3, Min: 1, Max: 3, Mean: 2, P50: 2, P90: 3, P99: 3}, DeviceSeconds: none,
			PeakBytes: 300, Devices: []string{"cpu", "ort:CPUExecutionProvider"}},
		{Stage: "fit", Seconds: Summary{N: 3, Min: 1, Max: 3, Mean: 2, P50: 2, P90: 3, P99: 3},
			DeviceSeconds: Summary{N: 2, Min: 0.5, Max: 1.5, Mean: 1, P50: 1.5, P90: 1.5, P99: 1.5}, Devices: []string{"cuda:0"}},
		{Stage: TotalStage, Seconds: Summary{N: 3, Min: 3, Max: 5, Mean: 4, P50: 4, P90: 5, P99: 5}, DeviceSeconds: none},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := SummarizeStages(recs[:1]); got != nil {
		t.Errorf("only warm-ups: %v, want nil", got)
	}
}
