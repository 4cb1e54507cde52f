package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/splatbench/splatbench/results"
	"github.com/splatbench/splatbench/results/plot"
	"github.com/splatbench/splatbench/results/table"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
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

const tinySVG = `<svg width="20pt" height="10pt" viewBox="0 0 20 10" xmlns="http://www.w3.org/2000/svg">
<path d="M0,0L20,10" style="stroke:#000"/><text x="1" y="9">a &lt;b&gt; &amp; c</text>
</svg>`

func sampleMeta() results.Meta {
	start := time.Date(2026, 11, 25, 20, 30, 0, 0, time.UTC)
	return results.Meta{
		Schema:      results.SchemaVersion,
		Version:     "v0.1.0",
		Command:     "tune",
		CommandLine: []string{"splatbench", "tune", "--sweep", "<sweep>.yaml"},
		Host: results.Host{Hostname: "gpu-1", OS: "linux", Arch: "amd64", CPUModel: "AMD EPYC 9654", Cores: 16,
			MemoryBytes: 128 << 30, GPUs: []results.GPU{{Index: 0, Name: "NVIDIA H100 80GB HBM3", Driver: "580.65.06", MemoryBytes: 80 << 30}}},
		Device:     map[string]string{"providers": "CUDA,CPU", "dtype": "bf16"},
		ORTVersion: "1.30.0",
		GoVersion:  "go1.26.8",
		GitCommit:  "abc123+dirty",
		Start:      start,
		End:        start.Add(90*time.Minute + 4*time.Second),
	}
}

func sampleReport() Report {
	front := &table.Table{
		Title:   "Pareto front",
		Columns: []table.Column{{Name: "profile"}, {Name: "p90 latency", Unit: "s"}, {Name: "clip"}},
		Notes:   []string{"Highlighted rows are on the front & chosen."},
	}
	front.AddRow(table.Text("fast <1s>"), table.Number(0.91, 2).Marked(), table.Number(0.281, 3))
	front.AddRow(table.Text(`"quality" & co`), table.Number(4.2, 2), table.Number(0.3, 3).Marked())
	return Report{
		Title:   "splatbench tune — run 20261125-203000-tune",
		Caveats: []string{"Random weights (splatbench.weights=random): /m/<flux>. The times are real; the scores are noise."},
		Meta:    MetaRows("20261125-203000-tune", sampleMeta()),
		Summary: []string{"Chosen profile: fast <1s> (p90 0.91 s)."},
		Sections: []Section{
			{
				Title:   "Trade-off",
				Intro:   []string{"Prompt: <script>alert('x')</script>"},
				Tables:  []*table.Table{front},
				Figures: []Figure{{Caption: "Latency vs score; the front is orange.", SVG: []byte(tinySVG)}},
				Notes:   []string{"Warm-up runs excluded."},
			},
			{Title: "Stages", Intro: []string{"Nothing else."}},
		},
		Notes:     []string{"Percentiles are nearest-rank (MLPerf)."},
		Generated: time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC),
		Generator: "splatbench v0.1.0",
	}
}

func TestWriteGolden(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Write(&buf, sampleReport()); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.html", buf.Bytes())
	checkSelfContained(t, buf.String())
	if !strings.Contains(buf.String(), `<p class="caveat" role="note"><strong>Caveat:</strong> Random weights`) {
		t.Error("the caveat is not shown, marked, under the title")
	}
	for _, raw := range []string{"<script>", `"quality" & co`, "<1s>", "<sweep>", "<flux>"} {
		if strings.Contains(buf.String(), raw) {
			t.Errorf("unescaped text %q in the page", raw)
		}
	}
}

// checkSelfContained: no scripts, no external resources.
func checkSelfContained(t *testing.T, html string) {
	t.Helper()
	for _, re := range []string{`(?i)<script`, `(?i)<link`, `(?i)\ssrc=`, `(?i)@import`, `(?i)url\((?:'|")?http`} {
		if regexp.MustCompile(re).MatchString(html) {
			t.Errorf("page matches %s", re)
		}
	}
	for _, m := range regexp.MustCompile(`https?://[^"' )]+`).FindAllString(html, -1) {
		if m != "http://www.w3.org/2000/svg" && m != "http://www.w3.org/1999/xlink" {
			t.Errorf("page refers to %s", m)
		}
	}
}

func TestWriteRealPlot(t *testing.T) {
	t.Parallel()
	f, err := plot.Scatter([]plot.Point{{X: 1, Y: 0.2}, {X: 2, Y: 0.25}, {X: 3, Y: 0.22}},
		[]plot.Point{{X: 1, Y: 0.2, Label: "<fast>"}, {X: 2, Y: 0.25, Label: "q&a"}}, "latency (s)", "score", "front")
	if err != nil {
		t.Fatal(err)
	}
	svg, err := f.SVG()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	r := Report{Title: "plots", Sections: []Section{{Title: "s", Figures: []Figure{{Caption: "c", SVG: svg}, {SVG: svg}}}}}
	if err := Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	checkSelfContained(t, html)
	if n := strings.Count(html, "<svg"); n != 2 {
		t.Errorf("%d inline svg elements, want 2", n)
	}
	if strings.Contains(html, "<fast>") || !strings.Contains(html, "&lt;fast&gt;") {
		t.Error("plot label not escaped inside the SVG")
	}
}

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	bad := &table.Table{Title: "ragged", Columns: []table.Column{{Name: "a"}}, Rows: [][]table.Cell{{}}}
	tests := []struct {
		name string
		sec  Section
		want string
	}{
		{"ragged table", Section{Title: "x", Tables: []*table.Table{bad}}, `section "x": table 1: table "ragged": row 1 has 0 cells`},
		{"nil table", Section{Title: "x", Tables: []*table.Table{nil}}, "nil table"},
		{"script svg", Section{Title: "x", Figures: []Figure{{Caption: "evil", SVG: []byte(`<svg><script>alert(1)</script></svg>`)}}}, "figure 1 (evil): svg: offset"},
		{"not svg", Section{Title: "x", Figures: []Figure{{SVG: []byte(`<div></div>`)}}}, "does not start with <svg"},
		{"splat id", Section{Title: "x", Splats: []Splat{{Title: "a", ID: "a b", Script: "splats/a.js"}}}, `splat "a": id "a b"`},
		{"splat script outside", Section{Title: "x", Splats: []Splat{{Title: "a", ID: "a", Script: "../a.js"}}}, `script "../a.js"`},
		{"splat script url", Section{Title: "x", Splats: []Splat{{Title: "a", ID: "a", Script: "javascript:x.js"}}}, `script "javascript:x.js"`},
		{"splat not js", Section{Title: "x", Splats: []Splat{{Title: "a", ID: "a", Script: "splats/a.ply"}}}, `script "splats/a.ply"`},
		{"no viewer dir", Section{Title: "x", Splats: []Splat{{Title: "a", ID: "a", Script: "splats/a.js"}}}, `ViewerDir "" must be`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			err := Write(&buf, Report{Title: "r", Sections: []Section{tt.sec}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Error("partial page written on error")
			}
		})
	}
}

func TestCheckSVG(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, svg string
		ok        bool
	}{
		{"plain", tinySVG, true},
		{"local href", `<svg><use href="#a"/></svg>`, true},
		{"local url", `<svg><path style="fill:url(#g)"/></svg>`, true},
		{"script", `<svg><script>x</script></svg>`, false},
		{"SCRIPT", `<svg><SCRIPT>x</SCRIPT></svg>`, false},
		{"foreignObject", `<svg><foreignObject><div/></foreignObject></svg>`, false},
		{"onload", `<svg onload="x()"></svg>`, false},
		{"external href", `<svg><image href="http://evil/x.png"/></svg>`, false},
		{"xlink href", `<svg xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href="javascript:x()"/></svg>`, false},
		{"external url", `<svg><path style="fill:url( 'http://evil/x' )"/></svg>`, false},
		{"two roots", `<svg></svg><svg></svg>`, false},
		{"trailing element", `<svg></svg><img src=x>`, false},
		{"unclosed", `<svg><g>`, false},
		{"doctype inside", `<svg><!DOCTYPE x></svg>`, false},
	}
	for _, tt := range tests {
		if err := checkSVG([]byte(tt.svg)); (err == nil) != tt.ok {
			t.Errorf("%s: checkSVG = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func FuzzCheckSVG(f *testing.F) {
	f.Add([]byte(tinySVG))
	f.Add([]byte(`<svg><g><text>x</text></g></svg>`))
	f.Add([]byte(`<svg onclick="a"/>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if checkSVG(b) != nil {
			return
		}
		// Whatever passes must be inlinable without a script.
		var buf bytes.Buffer
		if err := Write(&buf, Report{Title: "f", Sections: []Section{{Title: "s", Figures: []Figure{{SVG: b}}}}}); err != nil {
			t.Fatal(err)
		}
		if regexp.MustCompile(`(?i)<script`).Match(b) {
			t.Fatalf("accepted a script: %q", b)
		}
	})
}

func TestMetaRows(t *testing.T) {
	t.Parallel()
	got := MetaRows("run-1", sampleMeta())
	want := []table.KeyValue{
		{Key: "run", Value: "run-1"},
		{Key: "command", Value: "splatbench tune --sweep <sweep>.yaml"},
		{Key: "started", Value: "2026-11-25 20:30:00 UTC"},
		{Key: "finished", Value: "2026-11-25 22:00:04 UTC (1h30m4s)"},
		{Key: "host", Value: "gpu-1 linux/amd64"},
		{Key: "cpu", Value: "AMD EPYC 9654, 16 logical cores"},
		{Key: "memory", Value: "128.0 GiB"},
		{Key: "gpu 0", Value: "NVIDIA H100 80GB HBM3, driver 580.65.06, 80.0 GiB"},
		{Key: "device dtype", Value: "bf16"},
		{Key: "device providers", Value: "CUDA,CPU"},
		{Key: "onnx runtime", Value: "1.30.0"},
		{Key: "splatbench", Value: "v0.1.0"},
		{Key: "go", Value: "go1.26.8"},
		{Key: "git commit", Value: "abc123+dirty"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if rows := MetaRows("", results.Meta{Host: results.Host{Cores: 2}}); len(rows) != 1 || rows[0].Value != "2 logical cores" {
		t.Errorf("sparse meta rows = %v", rows)
	}
}

// TestWriteSplats: a page with splats loads the viewer from ViewerDir and
// has one escaped button per splat; a page without has no script (see
// checkSelfContained in TestWriteGolden).
func TestWriteSplats(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	err := Write(&buf, Report{Title: "r", ViewerDir: "viewer", Sections: []Section{{Title: "3D",
		Splats: []Splat{{Title: "knee <a red cube>", Caption: "8000 Gaussians", ID: "knee-1", Script: "splats/knee-1.js"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{`<script src="viewer/splat-vendor.js"></script>`, `<script src="viewer/viewer.js"></script>`,
		`data-id="knee-1" data-src="splats/knee-1.js">knee &lt;a red cube&gt;</button>`, "SplatViewer.fetchScript"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}
