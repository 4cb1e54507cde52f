package tuner

import (
	"fmt"
	"math"

	"github.com/splatbench/splatbench/results"
	"github.com/splatbench/splatbench/results/table"
)

// PointsFromRecords lists the distinct run points of a set of records
// (their Params), in order of first appearance, warm-ups included.
func PointsFromRecords(recs []results.Record) []Point {
	seen := map[string]bool{}
	var pts []Point
	for _, r := range recs {
		if r.Kind != results.KindTrial {
			continue
		}
		p := NewPoint(r.Params)
		if !seen[p.ID] {
			seen[p.ID] = true
			pts = append(pts, p)
		}
	}
	return pts
}

// Compare builds the side-by-side table of `splatbench tune compare RUN_A
// RUN_B`: one row per run point that both runs measured successfully, with
// p50 latency, mean score and accepted results per hour of each run and
// the ratio B/A. Points are matched by ID, so runs with different knob
// sets match nothing. The notes count the points only one run has and
// carry the runs' read warnings (malformed trials.jsonl lines). Both runs
// are judged with the same AggregateOptions.
func Compare(a, b *results.Run, opt AggregateOptions) (*table.Table, error) {
	ra, warnA, err := a.ReadRecords()
	if err != nil {
		return nil, fmt.Errorf("compare: run %s: %w", a.ID(), err)
	}
	rb, warnB, err := b.ReadRecords()
	if err != nil {
		return nil, fmt.Errorf("compare: run %s: %w", b.ID(), err)
	}
	return CompareRecords(a.ID(), ra, b.ID(), rb, opt, append(warnA, warnB...))
}

// CompareRecords is Compare on records already read.
func CompareRecords(nameA string, ra []results.Record, nameB string, rb []results.Record, opt AggregateOptions, warnings []error) (*table.Table, error) {
	sa := Aggregate(PointsFromRecords(ra), ra, opt)
	sb := Aggregate(PointsFromRecords(rb), rb, opt)
	byID := map[string]PointStats{}
	for _, s := range sb {
		if s.OK() {
			byID[s.Point.ID] = s
		}
	}
	t := &table.Table{
		Title: fmt.Sprintf("A = %s, B = %s", nameA, nameB),
		Columns: []table.Column{
			{Name: "point"}, {Name: "n A"}, {Name: "n B"},
			{Name: "p50 A", Unit: "s"}, {Name: "p50 B", Unit: "s"}, {Name: "p50 B/A"},
			{Name: "score A"}, {Name: "score B"}, {Name: "score B/A"},
			{Name: "accepted/h A"}, {Name: "accepted/h B"}, {Name: "accepted/h B/A"},
		},
	}
	matched, onlyA := 0, 0
	for _, x := range sa {
		if !x.OK() {
			continue
		}
		y, ok := byID[x.Point.ID]
		if !ok {
			onlyA++
			continue
		}
		matched++
		delete(byID, x.Point.ID)
		t.AddRow(table.Text(x.Point.ID), table.Int(int64(x.Latency.N)), table.Int(int64(y.Latency.N)),
			table.Number(x.Latency.P50, 3), table.Number(y.Latency.P50, 3), table.Number(ratio(y.Latency.P50, x.Latency.P50), 2),
			table.Number(x.Score.Mean, 4), table.Number(y.Score.Mean, 4), table.Number(ratio(y.Score.Mean, x.Score.Mean), 3),
			table.Number(x.Reward.AcceptedPerHour, 2), table.Number(y.Reward.AcceptedPerHour, 2), table.Number(ratio(y.Reward.AcceptedPerHour, x.Reward.AcceptedPerHour), 2),
		)
	}
	if matched == 0 {
		return nil, fmt.Errorf("compare %s with %s: no point measured successfully in both runs", nameA, nameB)
	}
	t.Notes = append(t.Notes, fmt.Sprintf("%d points in both runs; %d only in A, %d only in B. Ratios are B/A: below 1 is faster (p50), above 1 is better (score, accepted/h). Compare only runs made on the same device.", matched, onlyA, len(byID)))
	for _, w := range warnings {
		t.Notes = append(t.Notes, "warning: "+w.Error())
	}
	return t, nil
}

// ratio is b/a, NaN when a is zero or either is unknown.
func ratio(b, a float64) float64 {
	if a == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return b / a
}
