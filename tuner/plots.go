package tuner

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/splatbench/splatbench/results"
	"github.com/splatbench/splatbench/results/plot"
)

// PlotsDir is where WriteOutputs puts the figures inside a run.
const PlotsDir = "plots"

// maxBars bounds the stage-breakdown figure: beyond it only the front and
// the picked points are drawn.
const maxBars = 24

// figure is one built figure and its file stem under plots/.
type figure struct {
	stem, caption string
	fig           *plot.Figure
}

// pointLabel is a short label: the point's knob values in knob order.
func pointLabel(p Point, knobs []string) string {
	var parts []string
	for _, k := range knobs {
		if v, ok := p.Values[k]; ok {
			parts = append(parts, strings.Trim(FormatValue(v), `"`))
		}
	}
	if len(parts) == 0 {
		return p.ID
	}
	return strings.Join(parts, ",")
}

// buildFigures draws the tune figures: latency against score with the
// front, the per-stage p50 breakdown, and the score distributions of the
// picked profiles. A figure without data to draw is left out and its
// reason returned among the warnings.
func buildFigures(stats []PointStats, front []int, picks []Pick, recs []results.Record) ([]figure, []error) {
	knobs := knobPaths(stats)
	legend := strings.Join(knobs, ",")
	var figs []figure
	var warns []error

	var all, fr []plot.Point
	for _, s := range stats {
		if s.OK() {
			all = append(all, plot.Point{X: s.Latency.P50, Y: s.Score.Mean, Label: pointLabel(s.Point, knobs)})
		}
	}
	for _, i := range front {
		s := stats[i]
		fr = append(fr, plot.Point{X: s.Latency.P50, Y: s.Score.Mean, Label: pointLabel(s.Point, knobs)})
	}
	if f, err := plot.Scatter(all, fr, "p50 latency (s)", "mean score", "Latency vs score"); err != nil {
		warns = append(warns, err)
	} else {
		figs = append(figs, figure{"pareto", fmt.Sprintf("p50 latency against mean score per point; the Pareto front is drawn and labelled (%s).", legend), f})
	}

	// Stage timings do not depend on analysis knobs (the threshold), so
	// there is one bar per run point.
	var rows []int
	seenRun := map[string]bool{}
	addRow := func(i int) {
		if stats[i].OK() && !seenRun[stats[i].RunID] {
			seenRun[stats[i].RunID] = true
			rows = append(rows, i)
		}
	}
	if len(stats) <= maxBars {
		for i := range stats {
			addRow(i)
		}
	} else {
		for _, i := range front {
			addRow(i)
		}
		for _, p := range picks {
			addRow(p.Index)
		}
	}
	var stageNames []string
	for _, i := range rows {
		for _, st := range stats[i].Stages {
			if st.Stage != results.TotalStage && !slices.Contains(stageNames, st.Stage) {
				stageNames = append(stageNames, st.Stage)
			}
		}
	}
	if len(rows) > 0 && len(stageNames) > 0 {
		cats := make([]string, len(rows))
		secs := make([][]float64, len(rows))
		for r, i := range rows {
			cats[r] = pointLabel(RunPoint(stats[i].Point), knobs)
			secs[r] = make([]float64, len(stageNames))
			for j, name := range stageNames {
				for _, st := range stats[i].Stages {
					if st.Stage == name {
						secs[r][j] = st.Seconds.P50
					}
				}
			}
		}
		if f, err := plot.StackedBars(cats, stageNames, secs, "p50 seconds", "Per-stage latency"); err != nil {
			warns = append(warns, err)
		} else {
			var runKnobs []string
			for _, k := range knobs {
				if !slices.Contains(AnalysisKnobs, k) {
					runKnobs = append(runKnobs, k)
				}
			}
			figs = append(figs, figure{"stages", fmt.Sprintf("p50 seconds of each stage per generation point (%s); a reused stage (the matte of an image already matted) counts what computing it cost.", strings.Join(runKnobs, ",")), f})
		}
	} else {
		warns = append(warns, errors.New("plot stages: no stage timings"))
	}

	var samples []plot.Sample
	seen := map[int]int{}
	for _, p := range picks {
		if k, dup := seen[p.Index]; dup {
			samples[k].Name += ", " + p.Name
			continue
		}
		var vals []float64
		runID := stats[p.Index].RunID
		for _, r := range recs {
			if r.Kind != results.KindTrial || r.Warmup || !r.OK() || PointID(r.Params) != runID {
				continue
			}
			if v, ok := r.Scores[ScoreKey]; ok {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			continue
		}
		seen[p.Index] = len(samples)
		samples = append(samples, plot.Sample{Name: p.Name, Values: vals})
	}
	if len(samples) > 0 {
		if f, err := plot.Distributions(samples, 0, "score", "Score distributions of the chosen profiles"); err != nil {
			warns = append(warns, err)
		} else {
			figs = append(figs, figure{"scores", "Per-trial scores of the points behind each emitted profile.", f})
		}
	} else {
		warns = append(warns, errors.New("plot scores: no scores"))
	}
	return figs, warns
}

// writeFigures writes each figure as PNG and SVG under dir and returns
// the SVG bytes for the report.
func writeFigures(dir string, figs []figure) ([][]byte, []string, error) {
	var svgs [][]byte
	var files []string
	for _, f := range figs {
		png := filepath.Join(dir, f.stem+".png")
		svgPath := filepath.Join(dir, f.stem+".svg")
		if err := f.fig.WritePNG(png); err != nil {
			return nil, files, fmt.Errorf("plot %s: %w", f.stem, err)
		}
		if err := f.fig.WriteSVG(svgPath); err != nil {
			return nil, files, fmt.Errorf("plot %s: %w", f.stem, err)
		}
		svg, err := f.fig.SVG()
		if err != nil {
			return nil, files, fmt.Errorf("plot %s: %w", f.stem, err)
		}
		svgs = append(svgs, svg)
		files = append(files, png, svgPath)
	}
	return svgs, files, nil
}
