package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/ort"
	"github.com/splatbench/splatbench/pipeline/splat"
	"github.com/splatbench/splatbench/prompts"
	"github.com/splatbench/splatbench/results"
	"github.com/splatbench/splatbench/results/atomicfile"
	"github.com/splatbench/splatbench/results/report"
	"github.com/splatbench/splatbench/results/viewer"
	"github.com/splatbench/splatbench/tuner"
)

// Where the tune report's 3D outputs go in the run directory.
const (
	reportViewerDir = "viewer"
	reportSplatsDir = "splats"
	reportPrompts   = 2 // corpus prompts each picked profile generates for the report
)

// tuneSplats is the report's Splats hook: each picked profile generates
// the corpus's first reportPrompts prompts (seed 1); the outputs as SPZ
// (gzip, as the subnet sends them: a tenth of the PLY) and their data
// scripts go to <run>/splats/, the viewer's files to
// <run>/viewer/, so report.html shows them in 3D from disk. Picks of the
// same point share their outputs.
func tuneSplats(ctx context.Context, e *env, run *results.Run, corpus []tuner.Prompt) func([]tuner.Pick, []string) ([]report.Splat, error) {
	return func(picks []tuner.Pick, profiles []string) ([]report.Splat, error) {
		assets, err := viewer.Load(ort.CacheDir())
		if err != nil {
			return nil, err
		}
		if err := assets.WriteDir(run.Path(reportViewerDir)); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(run.Path(reportSplatsDir), 0o755); err != nil {
			return nil, err
		}
		start := time.Now()
		defer func() {
			e.log.Info("tune report: outputs in 3D", "seconds", time.Since(start).Seconds(), "dir", run.Path(reportSplatsDir))
		}()
		corpus = corpus[:min(len(corpus), reportPrompts)]
		done := map[int][]report.Splat{} // by point index
		var out []report.Splat
		var errs []error
		for i, pk := range picks {
			if i >= len(profiles) {
				break
			}
			made, ok := done[pk.Index]
			if !ok {
				made, err = profileSplats(ctx, e, run, pk.Name, profiles[i], corpus)
				if err != nil {
					errs = append(errs, fmt.Errorf("profile %s: %w", pk.Name, err))
				}
				done[pk.Index] = made
			}
			for _, sp := range made {
				sp.Title = pk.Name + ": " + sp.Title
				out = append(out, sp)
			}
		}
		return out, errors.Join(errs...)
	}
}

// profileSplats generates corpus with the profile file path and writes
// each output as <run>/splats/<name>-<k>.spz with its data script.
func profileSplats(ctx context.Context, e *env, run *results.Run, name, path string, corpus []tuner.Prompt) ([]report.Splat, error) {
	prof, err := configs.LoadProfile(path)
	if err != nil {
		return nil, err
	}
	if prof.Encoding.Format == pipeline.FormatThreejs {
		return nil, nil // a Three.js module has no Gaussians to view
	}
	b := pipeline.NewBuilder(e.log, prof.OrtLib)
	defer b.Close()
	pl, err := b.Build(ctx, prof)
	if err != nil {
		return nil, err
	}
	var out []report.Splat
	for k, p := range corpus {
		pr := prompts.Text(p.Text)
		if p.Image != "" {
			pr = prompts.Image(p.Image)
		}
		st, timings, err := pl.Run(ctx, pipeline.Job{ID: fmt.Sprintf("report-%s-%d", name, k+1), Prompt: pr, Seed: 1})
		if err != nil {
			return out, fmt.Errorf("prompt %q: %w", pr.String(), err)
		}
		data, err := splat.Encode(st.Cloud, splat.FormatSPZGzip)
		if err != nil {
			return out, err
		}
		id := fmt.Sprintf("%s-%d", name, k+1)
		script, err := viewer.DataScript(id, data, "spz")
		if err != nil {
			return out, err
		}
		rel := reportSplatsDir + "/" + id
		if err := atomicfile.WriteFile(run.Path(rel+".spz"), data, 0o644); err != nil {
			return out, err
		}
		if err := atomicfile.WriteFile(run.Path(rel+".js"), script, 0o644); err != nil {
			return out, err
		}
		var secs float64
		for _, t := range timings {
			secs += t.Seconds
		}
		caption := fmt.Sprintf("%d Gaussians, %.2f s, %s", st.Cloud.Len(), secs, filepath.Base(rel+".spz"))
		if s, ok := st.Scores["score"]; ok && st.ScoreKind != "" {
			caption = fmt.Sprintf("%d Gaussians, %.2f s, %s score %.3f, %s", st.Cloud.Len(), secs, st.ScoreKind, s, filepath.Base(rel+".spz"))
		}
		out = append(out, report.Splat{Title: pr.String(), Caption: caption, ID: id, Script: rel + ".js"})
	}
	return out, nil
}
