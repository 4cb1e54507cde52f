package results_test

import (
	"fmt"
	"os"
	"time"

	"github.com/splatbench/splatbench/results"
)

// A run directory: metadata, records appended as jobs finish, and read
// back (for example by a resumed sweep that skips finished trial ids).
func Example() {
	out, err := os.MkdirTemp("", "runs")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(out)

	start := time.Date(2026, 11, 25, 20, 30, 0, 0, time.UTC)
	run, err := results.Create(out, "bench", start)
	if err != nil {
		fmt.Println(err)
		return
	}
	meta := results.NewMeta("bench", []string{"splatbench", "bench"}, start)
	if err := run.WriteMeta(meta); err != nil {
		fmt.Println(err)
		return
	}
	w, err := run.AppendRecords()
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, secs := range []float64{9.9, 1.2, 1.0, 1.4} {
		rec := results.Record{ID: fmt.Sprint("job-", i), Kind: results.KindBench, Warmup: i == 0, TotalSeconds: secs,
			Stages: []results.StageTiming{{Name: "fit", Seconds: secs, Device: "cpu"}}}
		if err := w.Append(rec); err != nil {
			fmt.Println(err)
			return
		}
	}
	w.Close()

	recs, warnings, err := run.ReadRecords()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(run.ID(), len(recs), "records,", len(warnings), "warnings")
	for _, s := range results.SummarizeStages(recs) {
		fmt.Printf("%s: n=%d p50=%.1f s p90=%.1f s\n", s.Stage, s.Seconds.N, s.Seconds.P50, s.Seconds.P90)
	}
	// Output:
	// 20261125-203000-bench 4 records, 0 warnings
	// fit: n=3 p50=1.2 s p90=1.4 s
	// total: n=3 p50=1.2 s p90=1.4 s
}
