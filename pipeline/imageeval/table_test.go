package imageeval_test

import (
	"context"
	"flag"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/imageeval"
	"github.com/splatbench/splatbench/pipeline/scenes"
	"github.com/splatbench/splatbench/pipeline/splat"
	"github.com/splatbench/splatbench/prompts"
)

var (
	tableFlag  = flag.Bool("table", false, "run every reference scene's front view through the image-prompt path and print the 16-view table")
	tableOut   = flag.String("table-out", "", "also write the table (markdown) to this file")
	tableSets  = flag.String("table-set", "", "comma-separated knob=value overrides of the default profile for -table")
	tableSize  = flag.Int("table-size", 518, "validator view size for -table")
	tableSheet = flag.String("table-sheets", "", "write each scene's 16-view contact sheet (prediction over truth) into this folder")
	tableOnly  = flag.String("table-scenes", "", "comma-separated scene names for -table (default all)")
	plyFile    = flag.String("ply", "", "compare this PLY/SPZ (e.g. from POST /generate) with the first -table-scenes scene on the validator's views")
)

// TestCompareFile compares a generated file with a scene's ground truth
// (-ply FILE -table-scenes NAME): the check of an output of the real
// HTTP service.
func TestCompareFile(t *testing.T) {
	if *plyFile == "" {
		t.Skip("compares a file given with -ply")
	}
	c, _, err := splat.ReadFile(*plyFile)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenes.Get(strings.Split(*tableOnly, ",")[0])
	if err != nil {
		t.Fatal(err)
	}
	pv, err := imageeval.Views(t.Context(), c, *tableSize, nil)
	if err != nil {
		t.Fatal(err)
	}
	tv, err := imageeval.Views(t.Context(), sc.Build(imageeval.PromptSeed, 0), *tableSize, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := imageeval.Compare(t.Context(), pv, tv)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s vs %s: %d Gaussians, IoU %.3f PSNR %.2f SSIM %.3f", *plyFile, sc.Name, c.Len(), r.IoU, r.PSNR, r.SSIM)
	if *tableSheet != "" {
		writePNG(t, filepath.Join(*tableSheet, sc.Name+"-file.png"), imageeval.Sheet(append(pv, tv...)))
	}
}

// runTable runs each scene's image prompt through a pipeline built from
// profile and compares the result with the ground truth.
func runTable(ctx context.Context, t testing.TB, p configs.Profile, names []string, size int, sheets string) []row {
	t.Helper()
	b := pipeline.NewBuilder(slog.New(slog.DiscardHandler), "")
	defer b.Close()
	pl, err := b.Build(ctx, p)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	dir := t.TempDir()
	var rows []row
	for _, name := range names {
		sc, err := scenes.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		bd := imageeval.Backdrops[slices.Index(scenes.Names(), sc.Name)%len(imageeval.Backdrops)]
		img, gt, err := imageeval.Prompt(ctx, sc, 1, p.Text2Img.Resolution, bd)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, sc.Name+".png")
		writePNG(t, path, img)
		start := time.Now()
		st, _, err := pl.Run(ctx, pipeline.Job{ID: sc.Name, Prompt: prompts.Image(path), Seed: 1})
		if err != nil {
			t.Fatalf("%s: %v", sc.Name, err)
		}
		secs := time.Since(start).Seconds()
		r, pv, tv, err := imageeval.CompareClouds(ctx, st.Cloud, gt, size)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row{scene: sc.Name, backdrop: bd.String(), res: r, seconds: secs, gaussians: st.Cloud.Len()})
		t.Logf("%-18s %-14s IoU %.3f PSNR %.2f SSIM %.3f  %d Gaussians  %.1f s", sc.Name, bd, r.IoU, r.PSNR, r.SSIM, st.Cloud.Len(), secs)
		if sheets != "" {
			writePNG(t, filepath.Join(sheets, sc.Name+".png"), imageeval.Sheet(append(pv, tv...)))
		}
	}
	return rows
}

type row struct {
	scene, backdrop string
	res             imageeval.Result
	seconds         float64
	gaussians       int
}

func mean(rows []row) imageeval.Result {
	var m imageeval.Result
	for _, r := range rows {
		m.IoU += r.res.IoU
		m.PSNR += r.res.PSNR
		m.SSIM += r.res.SSIM
	}
	n := float64(len(rows))
	return imageeval.Result{IoU: m.IoU / n, PSNR: m.PSNR / n, SSIM: m.SSIM / n}
}

func markdown(rows []row) string {
	var sb strings.Builder
	sb.WriteString("| scene | background | IoU | PSNR dB | SSIM | Gaussians | s |\n|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&sb, "| %s | %s | %.3f | %.2f | %.3f | %d | %.1f |\n", r.scene, r.backdrop, r.res.IoU, r.res.PSNR, r.res.SSIM, r.gaussians, r.seconds)
	}
	m := mean(rows)
	fmt.Fprintf(&sb, "| **mean** | | **%.3f** | **%.2f** | **%.3f** | | |\n", m.IoU, m.PSNR, m.SSIM)
	return sb.String()
}

func writePNG(t testing.TB, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestTable is the full 19-scene table behind -table (minutes on 2 cores).
func TestTable(t *testing.T) {
	if !*tableFlag {
		t.Skip("the full table runs with -table")
	}
	p := configs.DefaultProfile()
	if *tableSets != "" {
		for _, s := range strings.Split(*tableSets, ",") {
			if err := p.Set(s); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	names := scenes.Names()
	if *tableOnly != "" {
		names = strings.Split(*tableOnly, ",")
	}
	if *tableSheet != "" {
		if err := os.MkdirAll(*tableSheet, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	rows := runTable(t.Context(), t, p, names, *tableSize, *tableSheet)
	md := markdown(rows)
	t.Log("\n" + md)
	if *tableOut != "" {
		if err := os.WriteFile(*tableOut, []byte(md), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
