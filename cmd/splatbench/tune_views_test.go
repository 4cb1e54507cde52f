package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline/browser"
	"github.com/splatbench/splatbench/pipeline/ort"
	"github.com/splatbench/splatbench/results"
	"github.com/splatbench/splatbench/results/report"
	"github.com/splatbench/splatbench/results/viewer/viewertest"
	"github.com/splatbench/splatbench/tuner"
)

// TestTuneReport3DFromDisk: the tune report's outputs in 3D work from
// file:// in Chromium. Two picks of one tiny reference-scene profile (one
// point: their outputs are shared) generate two prompts; the report opens
// from disk, Tab reaches the first output's button, Enter shows it, and the
// splat is drawn.
func TestTuneReport3DFromDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the pipeline and Chromium")
	}
	viewertest.Assets(t, ort.CacheDir())
	if _, err := browser.Find(); err != nil {
		if os.Getenv(viewertest.EnvRequire) != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	run, err := results.Create(t.TempDir(), "tune", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	prof := writeFile(t, "tiny.yaml", `name: tiny
matte: {enabled: false}
text2img: {resolution: 64}
fit: {iterations: 5, init_count: 8000, resolution: 32}
`)
	if _, err := configs.LoadProfile(prof); err != nil {
		t.Fatal(err)
	}
	e := &env{log: slog.New(slog.DiscardHandler), stdout: io.Discard, stderr: io.Discard}
	hook := tuneSplats(t.Context(), e, run, []tuner.Prompt{{ID: "a", Text: "a red cube"}, {ID: "b", Text: "a green torus"}, {ID: "c", Text: "a snowman"}})
	splats, err := hook([]tuner.Pick{{Name: "fastest", Index: 0}, {Name: "knee", Index: 0}}, []string{prof, prof})
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, sp := range splats {
		titles = append(titles, sp.Title)
	}
	if want := "fastest: a red cube|fastest: a green torus|knee: a red cube|knee: a green torus"; strings.Join(titles, "|") != want {
		t.Errorf("splats %q, want %q", titles, want)
	}
	var page bytes.Buffer
	err = report.Write(&page, report.Report{Title: "tune", ViewerDir: reportViewerDir,
		Sections: []report.Section{{Title: "Outputs in 3D", Splats: splats}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(run.Path("report.html"), page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	b, err := browser.Start(ctx, browser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	p, err := b.Open(ctx, "file://"+filepath.ToSlash(run.Path("report.html")), 1000, 900)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
		t.Fatal(err)
	}
	if id, err := browser.Eval[string](ctx, p, `document.activeElement.dataset.id || document.activeElement.tagName`); err != nil || id != "fastest-1" {
		t.Fatalf("Tab focuses %q (%v), want the first output's button", id, err)
	}
	if err := p.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(ctx, `["ready", "error"].includes(document.querySelector(".splat-view").dataset.state)`); err != nil {
		t.Fatal(err)
	}
	if st, _ := browser.Eval[string](ctx, p, `document.querySelector(".splat-view").dataset.state + ": " + document.querySelector(".splat-title").textContent`); !strings.HasPrefix(st, "ready") {
		t.Fatalf("3D view from file:// is %s; console: %q", st, p.Console())
	}
	if err := p.WaitFor(ctx, `document.querySelector(".splat-view canvas") === document.activeElement`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // the frames after load (the sort runs in a worker)
	shot, err := p.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	img := viewertest.Shot(t, "tune-report-3d", shot)
	r, err := browser.Eval[[4]float64](ctx, p, `(() => { const r = document.querySelector(".splat-view canvas").getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })()`)
	if err != nil {
		t.Fatal(err)
	}
	rect := image.Rect(int(r[0])+1, int(r[1])+1, int(r[2])-1, int(r[3])-1)
	px, colours := viewertest.ObjectPixels(img, rect)
	area := rect.Dx() * rect.Dy()
	t.Logf("report 3D view %v: %d object pixels (%.1f%%), %d colours", rect, px, 100*float64(px)/float64(area), colours)
	if px < area/100 || colours < 8 {
		t.Errorf("the report's 3D view looks blank: %d object pixels of %d, %d colours", px, area, colours)
	}
	for _, f := range []string{"viewer/splat-vendor.js", "viewer/viewer.js", "splats/fastest-1.spz", "splats/fastest-2.js"} {
		if _, err := os.Stat(run.Path(f)); err != nil {
			t.Error(fmt.Errorf("report folder: %w", err))
		}
	}
}
