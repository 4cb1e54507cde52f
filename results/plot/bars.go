package plot

import (
	"fmt"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// StackedBars draws one bar per category (profile, device, trial) split
// into its stages: seconds[i][j] is the time of stage j in category i.
// Missing stages are NaN or 0 and add nothing. The legend lists the stages
// from top to bottom in the order they are stacked.
func StackedBars(categories, stages []string, seconds [][]float64, yLabel, title string) (*Figure, error) {
	if len(categories) == 0 || len(stages) == 0 {
		return nil, fmt.Errorf("plot %q: need at least one category and one stage", title)
	}
	if len(seconds) != len(categories) {
		return nil, fmt.Errorf("plot %q: %d rows of seconds for %d categories", title, len(seconds), len(categories))
	}
	for i, row := range seconds {
		if len(row) != len(stages) {
			return nil, fmt.Errorf("plot %q: category %q has %d stage times, want %d", title, categories[i], len(row), len(stages))
		}
		for j, v := range row {
			if v < 0 || math.IsInf(v, 0) {
				return nil, fmt.Errorf("plot %q: category %q stage %q: %v seconds", title, categories[i], stages[j], v)
			}
		}
	}
	p := newPlot(title, "", yLabel)
	p.Add(plotter.NewGrid())
	p.NominalX(categories...)
	if len(categories) > 6 {
		p.X.Tick.Label.Rotation = math.Pi / 6
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
	p.Legend.Top = true
	d := Data{Title: title, YLabel: yLabel}

	width := barWidth(len(categories))
	base := make([]float64, len(categories))
	var below *plotter.BarChart
	bars := make([]*plotter.BarChart, len(stages))
	for j, stage := range stages {
		vals := make(plotter.Values, len(categories))
		s := Series{Name: stage, Kind: "bars", X: make([]float64, len(categories)),
			Y0: make([]float64, len(categories)), Y: make([]float64, len(categories)), Labels: categories}
		for i := range categories {
			v := seconds[i][j]
			if math.IsNaN(v) {
				v = 0
			}
			vals[i] = v
			s.X[i], s.Y0[i], s.Y[i] = float64(i), base[i], base[i]+v
			base[i] += v
		}
		bc, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return nil, fmt.Errorf("plot %q: stage %q: %w", title, stage, err)
		}
		bc.Color = paletteColor(j)
		bc.LineStyle.Width = vg.Points(0.5)
		if below != nil {
			bc.StackOn(below)
		}
		below = bc
		bars[j] = bc
		p.Add(bc)
		d.Series = append(d.Series, s)
	}
	for j := len(stages) - 1; j >= 0; j-- {
		p.Legend.Add(stages[j], bars[j])
	}
	p.X.Min, p.X.Max = -0.6, float64(len(categories))-0.4
	p.Y.Min = 0
	pad(&p.Y.Min, &p.Y.Max, 0, 0.08*float64(len(stages))) // legend room
	return newFigure(p, d), nil
}

// barWidth keeps bars readable from 1 to many categories.
func barWidth(n int) vg.Length {
	w := DefaultWidth * 0.6 / vg.Length(n)
	return min(max(w, vg.Points(6)), vg.Points(60))
}
