package plot

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// goldenData compares a figure's data with testdata/name.json.
func goldenData(t *testing.T, name string, d Data) {
	t.Helper()
	got, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// checkOutputs writes PNG and SVG and checks they are real images of some
// substance, and that SVG() is inlinable.
func checkOutputs(t *testing.T, f *Figure) {
	t.Helper()
	dir := t.TempDir()
	png, svg := filepath.Join(dir, "plots", "f.png"), filepath.Join(dir, "plots", "f.svg")
	if err := f.WritePNG(png); err != nil {
		t.Fatal(err)
	}
	if err := f.WriteSVG(svg); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(png)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || len(b) < 5000 {
		t.Errorf("PNG: %d bytes, header %q", len(b), b[:min(8, len(b))])
	}
	b, err = os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("<svg")) || len(b) < 2000 {
		t.Errorf("SVG file: %d bytes", len(b))
	}
	inline, err := f.SVG()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(inline, []byte("<svg")) || !bytes.HasSuffix(bytes.TrimSpace(inline), []byte("</svg>")) {
		t.Errorf("SVG() is not a bare <svg> element: %.60q ... %.20q", inline, inline[max(0, len(inline)-20):])
	}
	d := f.Data()
	for _, text := range []string{d.Title, d.XLabel, d.YLabel} {
		if text != "" && !bytes.Contains(inline, []byte(text)) {
			t.Errorf("SVG lacks the text %q", text)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(png))
	if len(entries) != 2 {
		t.Errorf("plots dir holds %d entries, want 2 (no temp files)", len(entries))
	}
}

func TestScatter(t *testing.T) {
	t.Parallel()
	points, front := trialCloud()
	f, err := Scatter(points, front, "p90 latency (s)", "CLIP score", "Latency vs score")
	if err != nil {
		t.Fatal(err)
	}
	goldenData(t, "scatter", f.Data())
	checkOutputs(t, f)
}

func TestScatterStepLine(t *testing.T) {
	t.Parallel()
	// The front arrives unsorted; the step goes right, then up.
	front := []Point{{X: 3, Y: 0.3, Label: "c"}, {X: 1, Y: 0.1, Label: "a"}, {X: 2, Y: 0.2, Label: "b"}}
	nan := math.NaN()
	points := append([]Point{{X: 2.5, Y: 0.15}, {X: nan, Y: 0.2}, {X: 1, Y: math.Inf(1)}}, front...)
	f, err := Scatter(points, front, "x", "y", "step")
	if err != nil {
		t.Fatal(err)
	}
	d := f.Data()
	want := []Series{
		{Name: "trials", Kind: "points", X: []float64{2.5, 3, 1, 2}, Y: []float64{0.15, 0.3, 0.1, 0.2}},
		{Name: "front step", Kind: "line", X: []float64{1, 2, 2, 3, 3}, Y: []float64{0.1, 0.1, 0.2, 0.2, 0.3}},
		{Name: "Pareto front", Kind: "points", X: []float64{1, 2, 3}, Y: []float64{0.1, 0.2, 0.3}},
		{Name: "front labels", Kind: "labels", X: []float64{1, 2, 3}, Y: []float64{0.1, 0.2, 0.3}, Labels: []string{"a", "b", "c"}},
		{Name: "dropped 2 non-finite points", Kind: "dropped"},
	}
	if diff := cmp.Diff(want, d.Series); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestScatterErrors(t *testing.T) {
	t.Parallel()
	if _, err := Scatter(nil, nil, "x", "y", "empty"); err == nil || !strings.Contains(err.Error(), `"empty"`) {
		t.Errorf("empty scatter: err = %v", err)
	}
	// Only a front, no labels: fine, and no label series.
	f, err := Scatter(nil, []Point{{X: 1, Y: 1}}, "x", "y", "front only")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range f.Data().Series {
		if s.Kind == "labels" {
			t.Error("label series for unlabelled front")
		}
	}
}

func TestStackedBars(t *testing.T) {
	t.Parallel()
	f, err := StackedBars([]string{"fast", "balanced", "cpu"}, []string{"text2img", "matte", "fit"},
		[][]float64{{0.5, 0.1, 1.5}, {1, 0.1, math.NaN()}, {0, 2.5, 40}}, "seconds per job", "Stage breakdown")
	if err != nil {
		t.Fatal(err)
	}
	goldenData(t, "bars", f.Data())
	checkOutputs(t, f)

	bad := []struct {
		name       string
		cats, stgs []string
		secs       [][]float64
		want       string
	}{
		{"no categories", nil, []string{"a"}, nil, "at least one"},
		{"row count", []string{"a", "b"}, []string{"s"}, [][]float64{{1}}, "1 rows of seconds for 2"},
		{"row length", []string{"a"}, []string{"s", "t"}, [][]float64{{1}}, `category "a" has 1 stage times, want 2`},
		{"negative", []string{"a"}, []string{"s"}, [][]float64{{-1}}, `stage "s": -1 seconds`},
	}
	for _, tt := range bad {
		if _, err := StackedBars(tt.cats, tt.stgs, tt.secs, "y", "t"); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestDistributions(t *testing.T) {
	t.Parallel()
	f, err := Distributions(distSamples(), 0, "CLIP score", "Score distributions")
	if err != nil {
		t.Fatal(err)
	}
	goldenData(t, "hist", f.Data())
	checkOutputs(t, f)
	// Every value is counted exactly once, the maximum included.
	for i, s := range f.Data().Series {
		var n float64
		for _, c := range s.Y {
			n += c
		}
		if n != float64(len(distSamples()[i].Values)) {
			t.Errorf("%s: %v counted, want %d", s.Name, n, len(distSamples()[i].Values))
		}
	}
}

func TestHistogramEdgeCases(t *testing.T) {
	t.Parallel()
	f, err := Histogram(Sample{Name: "one value", Values: []float64{3, 3, math.NaN(), 3}}, 4, "x", "flat")
	if err != nil {
		t.Fatal(err)
	}
	s := f.Data().Series[0]
	want := Series{Name: "one value", Kind: "histogram", X: []float64{2.5, 2.75, 3, 3.25}, X1: []float64{2.75, 3, 3.25, 3.5}, Y: []float64{0, 0, 3, 0}}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		name    string
		samples []Sample
		want    string
	}{
		{"none", nil, "no samples"},
		{"all NaN", []Sample{{Name: "s", Values: []float64{math.NaN()}}}, `"s" has no finite values`},
		{"inf", []Sample{{Name: "s", Values: []float64{math.Inf(-1)}}}, "infinite"},
	} {
		if _, err := Distributions(tt.samples, 0, "x", "t"); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func BenchmarkScatterSVG(b *testing.B) {
	points, front := trialCloud()
	b.ReportAllocs()
	for b.Loop() {
		f, err := Scatter(points, front, "x", "y", "t")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.SVG(); err != nil {
			b.Fatal(err)
		}
	}
}
