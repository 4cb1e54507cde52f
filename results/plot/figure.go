// Package plot draws the run figures: the latency/score scatter with its
// Pareto front, per-stage latency breakdowns and score distributions, with
// gonum.org/v1/plot. Each builder returns a Figure that writes PNG or SVG
// and also exposes the data it drew (Data), which is what tests compare:
// pixels depend on fonts and rasteriser versions, the data does not.
//
// The package draws what it is given; it computes no fronts or statistics.
package plot

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/splatbench/splatbench/results/atomicfile"
)

// Default figure size.
const (
	DefaultWidth  = 18 * vg.Centimeter
	DefaultHeight = 11 * vg.Centimeter
)

// Figure is a finished plot with the data behind it.
type Figure struct {
	// Width and Height are the output size; DefaultWidth/Height unless set.
	Width, Height vg.Length
	plot          *plot.Plot
	data          Data
}

// Data is what a figure shows, independent of rendering.
type Data struct {
	Title  string   `json:"title"`
	XLabel string   `json:"x_label"`
	YLabel string   `json:"y_label"`
	Series []Series `json:"series"`
}

// Series is one drawn element: a point set, a line, a bar layer or a
// histogram.
type Series struct {
	Name string `json:"name"`
	// Kind is "points", "line", "labels", "bars" or "histogram".
	Kind string    `json:"kind"`
	X    []float64 `json:"x,omitempty"`
	// X1 is the right edge of each histogram bin (X is the left edge).
	X1 []float64 `json:"x1,omitempty"`
	Y  []float64 `json:"y,omitempty"`
	// Y0 is the base of each stacked bar (Y is its top).
	Y0     []float64 `json:"y0,omitempty"`
	Labels []string  `json:"labels,omitempty"`
}

func newFigure(p *plot.Plot, d Data) *Figure {
	return &Figure{Width: DefaultWidth, Height: DefaultHeight, plot: p, data: d}
}

// Plot is the underlying gonum plot, for callers that want to adjust it.
func (f *Figure) Plot() *plot.Plot { return f.plot }

// Data returns what the figure shows.
func (f *Figure) Data() Data { return f.data }

// render encodes the figure in format ("png" or "svg").
func (f *Figure) render(format string) ([]byte, error) {
	wt, err := f.plot.WriterTo(f.Width, f.Height, format)
	if err != nil {
		return nil, fmt.Errorf("plot %q: %w", f.data.Title, err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plot %q: render %s: %w", f.data.Title, format, err)
	}
	return buf.Bytes(), nil
}

// SVG returns the figure as an SVG document that starts at its <svg>
// element (no XML prolog), ready to be inlined in HTML.
func (f *Figure) SVG() ([]byte, error) {
	b, err := f.render("svg")
	if err != nil {
		return nil, err
	}
	if i := bytes.Index(b, []byte("<svg")); i > 0 {
		b = b[i:]
	}
	return b, nil
}

// WriteSVG writes the figure as an SVG file.
func (f *Figure) WriteSVG(path string) error {
	b, err := f.render("svg")
	if err != nil {
		return err
	}
	return writeFile(path, b)
}

// WritePNG writes the figure as a PNG file.
func (f *Figure) WritePNG(path string) error {
	b, err := f.render("png")
	if err != nil {
		return err
	}
	return writeFile(path, b)
}

// writeFile writes atomically, creating the directory (plots/) if
// needed.
func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, b, 0o644)
}

// palette is a colour-blind-safe qualitative palette (Okabe–Ito order).
var palette = []color.Color{
	color.RGBA{0, 114, 178, 255},   // blue
	color.RGBA{230, 159, 0, 255},   // orange
	color.RGBA{0, 158, 115, 255},   // green
	color.RGBA{204, 121, 167, 255}, // purple
	color.RGBA{86, 180, 233, 255},  // sky
	color.RGBA{213, 94, 0, 255},    // vermillion
	color.RGBA{240, 228, 66, 255},  // yellow
	color.RGBA{0, 0, 0, 255},       // black
}

func paletteColor(i int) color.Color { return palette[i%len(palette)] }

// withAlpha returns c at opacity a (0..1), premultiplied as color.RGBA wants.
func withAlpha(c color.Color, a float64) color.Color {
	r, g, b, _ := c.RGBA()
	return color.RGBA{uint8(float64(r>>8) * a), uint8(float64(g>>8) * a), uint8(float64(b>>8) * a), uint8(255 * a)}
}

// finite reports whether every value is a finite number.
func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Title.Padding = vg.Points(6)
	p.X.Label.TextStyle.Font.Size = vg.Points(11)
	p.Y.Label.TextStyle.Font.Size = vg.Points(11)
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	return p
}

// pad widens [*lo, *hi] by fractions of its span (or of 1 when the span is 0).
func pad(lo, hi *float64, below, above float64) {
	span := *hi - *lo
	if span <= 0 {
		span = math.Max(math.Abs(*hi), 1)
	}
	*lo -= below * span
	*hi += above * span
}
