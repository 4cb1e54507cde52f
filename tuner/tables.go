package tuner

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/splatbench/splatbench/results"
	"github.com/splatbench/splatbench/results/table"
)

// knobPaths is the union of the knobs of the points, sorted.
func knobPaths(stats []PointStats) []string {
	set := map[string]bool{}
	for _, s := range stats {
		for k := range s.Point.Values {
			set[k] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// pickNames maps a point index to the names of the profiles chosen there.
func pickNames(picks []Pick) map[int]string {
	out := map[int]string{}
	for _, p := range picks {
		if out[p.Index] != "" {
			out[p.Index] += ", "
		}
		out[p.Index] += p.Name
	}
	return out
}

func knobCell(v any, ok bool) table.Cell {
	if !ok {
		return table.Number(math.NaN(), 0) // "—" in text, empty in CSV
	}
	if f, isNum := toFloat(v); isNum {
		return table.Number(f, -1)
	}
	return table.Text(FormatValue(v))
}

// PointsTable has one row per point with its knob values, the threshold
// it was judged at, and its objectives; rows of Pareto-front points are
// marked. With frontOnly only the front is listed, in front order.
func PointsTable(title string, stats []PointStats, front []int, picks []Pick, frontOnly bool) *table.Table {
	knobs := slices.DeleteFunc(knobPaths(stats), func(k string) bool { return k == ThresholdKnob })
	t := &table.Table{Title: title}
	for _, k := range knobs {
		t.Columns = append(t.Columns, table.Column{Name: k})
	}
	t.Columns = append(t.Columns, table.Column{Name: "threshold"},
		table.Column{Name: "trials"}, table.Column{Name: "failed"},
		table.Column{Name: "p50", Unit: "s"}, table.Column{Name: "p90", Unit: "s"}, table.Column{Name: "p99", Unit: "s"},
		table.Column{Name: "score"}, table.Column{Name: "accept"}, table.Column{Name: "accepted", Unit: "/h"},
		table.Column{Name: "bound"}, table.Column{Name: "profile"},
	)
	onFront := map[int]bool{}
	for _, i := range front {
		onFront[i] = true
	}
	names := pickNames(picks)
	rows := front
	if !frontOnly {
		rows = make([]int, len(stats))
		for i := range rows {
			rows[i] = i
		}
	}
	for _, i := range rows {
		s := stats[i]
		var cells []table.Cell
		for _, k := range knobs {
			v, ok := s.Point.Values[k]
			cells = append(cells, knobCell(v, ok))
		}
		bound := s.Reward.Bound
		if bound == "" {
			bound = table.Missing
		}
		cells = append(cells, table.Number(s.Threshold, -1),
			table.Int(int64(s.Trials)), table.Int(int64(s.Failed)),
			table.Number(s.Latency.P50, 3), table.Number(s.Latency.P90, 3), table.Number(s.Latency.P99, 3),
			table.Number(s.Score.Mean, 4), table.Number(s.AcceptRate, 2), table.Number(s.Reward.AcceptedPerHour, 2),
			table.Text(bound), table.Text(names[i]),
		)
		if onFront[i] && !frontOnly {
			for c := range cells {
				cells[c] = cells[c].Marked()
			}
		}
		t.AddRow(cells...)
	}
	return t
}

// PicksTable lists the emitted profiles and why each won.
func PicksTable(stats []PointStats, picks []Pick) *table.Table {
	t := &table.Table{Title: "Profiles", Columns: []table.Column{
		{Name: "profile"}, {Name: "point"}, {Name: "p50", Unit: "s"}, {Name: "score"}, {Name: "accepted", Unit: "/h"}, {Name: "why"},
	}}
	for _, p := range picks {
		s := stats[p.Index]
		t.AddRow(table.Text(p.Name), table.Text(s.Point.ID), table.Number(s.Latency.P50, 3),
			table.Number(s.Score.Mean, 4), table.Number(s.Reward.AcceptedPerHour, 2), table.Text(p.Why))
	}
	return t
}

// TrialsTable has one row per record (warm-ups and failures included):
// the knob values, total and per-stage seconds, scores and error.
func TrialsTable(recs []results.Record) *table.Table {
	knobSet := map[string]bool{}
	scoreSet := map[string]bool{}
	var stages []string
	for _, r := range recs {
		for k := range r.Params {
			knobSet[k] = true
		}
		for k := range r.Scores {
			scoreSet[k] = true
		}
		for _, s := range r.Stages {
			if !slices.Contains(stages, s.Name) {
				stages = append(stages, s.Name)
			}
		}
	}
	knobs := slices.Sorted(maps.Keys(knobSet))
	scores := slices.Sorted(maps.Keys(scoreSet))
	t := &table.Table{Title: "Trials"}
	for _, name := range []string{"id", "warmup", "repeat", "seed", "prompt"} {
		t.Columns = append(t.Columns, table.Column{Name: name})
	}
	for _, k := range knobs {
		t.Columns = append(t.Columns, table.Column{Name: k})
	}
	t.Columns = append(t.Columns, table.Column{Name: "total", Unit: "s"})
	for _, s := range stages {
		t.Columns = append(t.Columns, table.Column{Name: s, Unit: "s"})
	}
	for _, s := range scores {
		t.Columns = append(t.Columns, table.Column{Name: s})
	}
	t.Columns = append(t.Columns, table.Column{Name: "score_kind"}, table.Column{Name: "accepted"}, table.Column{Name: "error"})
	for _, r := range recs {
		cells := []table.Cell{
			table.Text(r.ID), table.Text(fmt.Sprint(r.Warmup)), table.Int(int64(r.Repeat)), table.Int(r.Seed), table.Text(r.Prompt),
		}
		for _, k := range knobs {
			v, ok := r.Params[k]
			cells = append(cells, knobCell(v, ok))
		}
		cells = append(cells, table.Number(r.TotalSeconds, -1))
		for _, name := range stages {
			if st, ok := r.Stage(name); ok {
				cells = append(cells, table.Number(st.Seconds, -1))
			} else {
				cells = append(cells, table.Text(""))
			}
		}
		for _, k := range scores {
			if v, ok := r.Scores[k]; ok {
				cells = append(cells, table.Number(v, -1))
			} else {
				cells = append(cells, table.Text(""))
			}
		}
		acc := ""
		if r.Accepted != nil {
			acc = fmt.Sprint(*r.Accepted)
		}
		cells = append(cells, table.Text(r.ScoreKind), table.Text(acc), table.Text(r.Error))
		t.AddRow(cells...)
	}
	return t
}

// BenchFile is bench.txt: one Go-benchmark line per point that has a
// successful trial, named Tune/<knob>=<value>/..., with the trial count as
// the iteration count and these metrics: sec/op (p50 latency),
// p90-sec/op, p99-sec/op, score (mean), accept-ratio and accepted/h.
// benchstat can then compare two runs point by point.
func BenchFile(stats []PointStats, config []table.KeyValue) table.BenchFile {
	f := table.BenchFile{
		Config: config,
		Better: map[string]string{"score": "higher", "accept-ratio": "higher", "accepted/h": "higher"},
	}
	for _, s := range stats {
		if !s.OK() {
			continue
		}
		var params []table.KeyValue
		for _, k := range slices.Sorted(maps.Keys(s.Point.Values)) {
			params = append(params, table.KeyValue{Key: k, Value: strings.Trim(FormatValue(s.Point.Values[k]), `"`)})
		}
		metrics := []table.Metric{
			{Value: s.Latency.P50, Unit: "sec/op"},
			{Value: s.Latency.P90, Unit: "p90-sec/op"},
			{Value: s.Latency.P99, Unit: "p99-sec/op"},
		}
		if s.Score.N > 0 {
			metrics = append(metrics, table.Metric{Value: s.Score.Mean, Unit: "score"})
		}
		if s.Trials > 0 {
			metrics = append(metrics, table.Metric{Value: s.AcceptRate, Unit: "accept-ratio"})
		}
		if s.RewardErr == "" {
			metrics = append(metrics, table.Metric{Value: s.Reward.AcceptedPerHour, Unit: "accepted/h"})
		}
		f.Lines = append(f.Lines, table.BenchLine{Name: "Tune", Params: params, Procs: 1, Iters: s.Latency.N, Metrics: metrics})
	}
	return f
}
