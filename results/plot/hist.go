package plot

import (
	"fmt"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Sample is a named set of values, one distribution.
type Sample struct {
	Name   string
	Values []float64
}

// Histogram draws one distribution; see Distributions.
func Histogram(s Sample, bins int, xLabel, title string) (*Figure, error) {
	return Distributions([]Sample{s}, bins, xLabel, title)
}

// Distributions overlays the histograms of several samples (score per
// profile, latency per device) on shared bins so their shapes compare
// directly. Each is drawn as a translucent fill. bins <= 0 picks
// ceil(sqrt(N)) for the largest sample, between 5 and 40. NaN values are
// left out; a sample with no finite values is an error.
func Distributions(samples []Sample, bins int, xLabel, title string) (*Figure, error) {
	if len(samples) == 0 {
		return nil, fmt.Errorf("plot %q: no samples", title)
	}
	lo, hi, most := math.Inf(1), math.Inf(-1), 0
	clean := make([][]float64, len(samples))
	for i, s := range samples {
		for _, v := range s.Values {
			if math.IsInf(v, 0) {
				return nil, fmt.Errorf("plot %q: sample %q: infinite value", title, s.Name)
			}
			if !math.IsNaN(v) {
				clean[i] = append(clean[i], v)
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		if len(clean[i]) == 0 {
			return nil, fmt.Errorf("plot %q: sample %q has no finite values", title, s.Name)
		}
		most = max(most, len(clean[i]))
	}
	if bins <= 0 {
		bins = min(max(int(math.Ceil(math.Sqrt(float64(most)))), 5), 40)
	}
	if hi == lo { // one value: a bin of width 1 around it
		lo, hi = lo-0.5, hi+0.5
	}
	width := (hi - lo) / float64(bins)

	p := newPlot(title, xLabel, "count")
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	d := Data{Title: title, XLabel: xLabel, YLabel: "count"}
	for i, s := range samples {
		h := &plotter.Histogram{Bins: make([]plotter.HistogramBin, bins), Width: width, FillColor: withAlpha(paletteColor(i), 0.45)}
		h.LineStyle = plotter.DefaultLineStyle
		h.LineStyle.Color = paletteColor(i)
		h.LineStyle.Width = vg.Points(1)
		ser := Series{Name: s.Name, Kind: "histogram", X: make([]float64, bins), X1: make([]float64, bins), Y: make([]float64, bins)}
		for b := range h.Bins {
			// The conversions forbid fused multiply-add, so edges are the
			// same on every architecture.
			h.Bins[b].Min = lo + float64(float64(b)*width)
			h.Bins[b].Max = lo + float64(float64(b+1)*width)
		}
		h.Bins[bins-1].Max = hi // no rounding gap at the top edge
		for _, v := range clean[i] {
			b := min(int((v-lo)/width), bins-1)
			h.Bins[b].Weight++
		}
		for b, bin := range h.Bins {
			ser.X[b], ser.X1[b], ser.Y[b] = bin.Min, bin.Max, bin.Weight
		}
		p.Add(h)
		p.Legend.Add(fmt.Sprintf("%s (n=%d)", s.Name, len(clean[i])), h)
		d.Series = append(d.Series, ser)
	}
	p.X.Min, p.X.Max = lo, hi
	pad(&p.X.Min, &p.X.Max, 0.03, 0.03)
	p.Y.Min = 0
	pad(&p.Y.Min, &p.Y.Max, 0, 0.1*float64(len(samples)))
	return newFigure(p, d), nil
}
