package plot

import (
	"cmp"
	"fmt"
	"image/color"
	"slices"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Point is one trial (or front member) in a scatter plot.
type Point struct {
	X, Y float64
	// Label names the point; only front points are labelled.
	Label string
}

// Scatter draws all points as small grey dots and the Pareto front on top:
// a step line through the front (the boundary of what it dominates, for
// objectives read left to right), larger coloured markers and the front
// points' labels. The front is given by the caller (the tuner computes it)
// and drawn in X order. Points with NaN or infinite coordinates cannot be
// placed; they are left out and counted in the "dropped" series name.
func Scatter(points, front []Point, xLabel, yLabel, title string) (*Figure, error) {
	all, droppedAll := finitePoints(points)
	fr, droppedFront := finitePoints(front)
	if len(all)+len(fr) == 0 {
		return nil, fmt.Errorf("plot %q: no points with finite coordinates", title)
	}
	slices.SortStableFunc(fr, func(a, b Point) int { return cmp.Or(cmp.Compare(a.X, b.X), cmp.Compare(a.Y, b.Y)) })

	p := newPlot(title, xLabel, yLabel)
	p.Add(plotter.NewGrid())
	// For a front that minimises X and maximises Y nothing lies above and
	// left of it (that would dominate it), so the legend goes top left, in
	// the headroom added below.
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(6), -vg.Points(6)
	d := Data{Title: title, XLabel: xLabel, YLabel: yLabel}

	if len(all) > 0 {
		xys, s := pointSeries(all, "trials", "points")
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, fmt.Errorf("plot %q: trials: %w", title, err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: color.RGBA{120, 120, 120, 255}, Radius: vg.Points(2.2), Shape: draw.CircleGlyph{}}
		p.Add(sc)
		p.Legend.Add(fmt.Sprintf("trials (%d)", len(all)), sc)
		d.Series = append(d.Series, s)
	}
	if len(fr) > 0 {
		step := stepLine(fr)
		line, err := plotter.NewLine(step)
		if err != nil {
			return nil, fmt.Errorf("plot %q: front line: %w", title, err)
		}
		line.LineStyle = draw.LineStyle{Color: paletteColor(5), Width: vg.Points(1.5)}
		xys, s := pointSeries(fr, "Pareto front", "points")
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, fmt.Errorf("plot %q: front: %w", title, err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: paletteColor(5), Radius: vg.Points(4), Shape: draw.CircleGlyph{}}
		p.Add(line, sc)
		p.Legend.Add(fmt.Sprintf("Pareto front (%d)", len(fr)), line, sc)
		ls := Series{Name: "front step", Kind: "line"}
		for _, q := range step {
			ls.X, ls.Y = append(ls.X, q.X), append(ls.Y, q.Y)
		}
		d.Series = append(d.Series, ls, s)

		if lab := frontLabels(fr); lab != nil {
			p.Add(lab)
			ls := Series{Name: "front labels", Kind: "labels", Labels: lab.Labels}
			for _, xy := range lab.XYs {
				ls.X, ls.Y = append(ls.X, xy.X), append(ls.Y, xy.Y)
			}
			d.Series = append(d.Series, ls)
		}
	}
	// Room on the right for the last front label, and above for the legend.
	pad(&p.X.Min, &p.X.Max, 0.02, 0.08)
	pad(&p.Y.Min, &p.Y.Max, 0.04, 0.25)
	if n := droppedAll + droppedFront; n > 0 {
		d.Series = append(d.Series, Series{Name: fmt.Sprintf("dropped %d non-finite points", n), Kind: "dropped"})
	}
	return newFigure(p, d), nil
}

// stepLine is the attainment boundary of a front sorted by X: from each
// point horizontally to the next point's X, then vertically to it.
func stepLine(front []Point) plotter.XYs {
	xys := make(plotter.XYs, 0, 2*len(front)-1)
	for i, q := range front {
		if i > 0 {
			xys = append(xys, plotter.XY{X: q.X, Y: front[i-1].Y})
		}
		xys = append(xys, plotter.XY{X: q.X, Y: q.Y})
	}
	return xys
}

func frontLabels(front []Point) *plotter.Labels {
	// Points at the same place (settings that differ only in what does
	// not change latency or score) get one label listing them all.
	var labels []string
	var xys plotter.XYs
	labelled := false
	for _, q := range front {
		xy := plotter.XY{X: q.X, Y: q.Y}
		if n := len(xys); n > 0 && xys[n-1] == xy {
			if q.Label != "" {
				labels[n-1] += " | " + q.Label
			}
			continue
		}
		xys = append(xys, xy)
		labels = append(labels, q.Label)
		labelled = labelled || q.Label != ""
	}
	if !labelled {
		return nil
	}
	lab, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil { // cannot happen: the points are finite and non-empty
		return nil
	}
	for i := range lab.TextStyle {
		lab.TextStyle[i].Font.Size = vg.Points(8)
		lab.TextStyle[i].Color = color.RGBA{60, 60, 60, 255}
	}
	lab.Offset = vg.Point{X: vg.Points(5), Y: vg.Points(3)}
	return lab
}

func finitePoints(ps []Point) (kept []Point, dropped int) {
	kept = make([]Point, 0, len(ps))
	for _, q := range ps {
		if finite(q.X, q.Y) {
			kept = append(kept, q)
		} else {
			dropped++
		}
	}
	return kept, dropped
}

func pointSeries(ps []Point, name, kind string) (plotter.XYs, Series) {
	xys := make(plotter.XYs, len(ps))
	s := Series{Name: name, Kind: kind, X: make([]float64, len(ps)), Y: make([]float64, len(ps))}
	for i, q := range ps {
		xys[i] = plotter.XY{X: q.X, Y: q.Y}
		s.X[i], s.Y[i] = q.X, q.Y
	}
	return xys, s
}
