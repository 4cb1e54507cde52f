package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/splatbench/splatbench/pipeline/ort/orttest"
)

// TestTuneSweepsFluxStepsWithTinyModels sweeps text2img.steps and
// score.threshold over the tiny FLUX and CLIP models (random weights), end
// to end through the CLI: the Pareto table must show the validator-style
// score, and a rerun must resume without running a trial again.
func TestTuneSweepsFluxStepsWithTinyModels(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a small sweep")
	}
	orttest.Library(t)
	profile, dir := tinyFluxProfile(t)
	sweep := writeFile(t, "sweep.yaml", `name: flux-steps
profile: `+profile+`
knobs:
  - {name: flux.steps, values: [1, 2, 4]}
  - {name: score.threshold, values: [0.0, 0.6]}
prompts: {corpus: [default], count: 2, seed: 3}
repeats: 1
warmup: 0
`)
	out := filepath.Join(dir, "runs")
	args := []string{"tune", "--sweep", sweep, "--out", out, "--log-level", "warn"}

	// Interrupt the sweep once two trials are on disk (Ctrl-C): exit 130,
	// and what finished stays.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer cancel()
		for ctx.Err() == nil {
			files, _ := filepath.Glob(filepath.Join(out, "*-tune*", "trials.jsonl"))
			if len(files) == 1 {
				if b, _ := os.ReadFile(files[0]); strings.Count(string(b), "\n") >= 2 {
					return
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	var ob, eb bytes.Buffer
	if code := run(ctx, args, &ob, &eb); code != exitCanceled {
		t.Fatalf("interrupted tune exit %d, want %d:\n%s", code, exitCanceled, eb.String())
	}

	code, stdout, stderr := runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("tune exit %d:\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"text2img.steps", "validator", "report.html"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("tune output lacks %q:\n%s", want, stdout)
		}
	}
	runs, _ := filepath.Glob(filepath.Join(out, "*-tune*", "trials.jsonl"))
	if len(runs) != 1 {
		t.Fatalf("run directories: %v", runs)
	}
	before, _ := os.ReadFile(runs[0])
	ids := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(before)), "\n") {
		var rec struct{ ID string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if ids[rec.ID] {
			t.Errorf("trial %s ran twice", rec.ID)
		}
		ids[rec.ID] = true
	}
	if len(ids) != 6 {
		t.Errorf("%d trials, want 3 steps x 2 prompts (thresholds share trials)", len(ids))
	}
	// The tiny models are marked as having random weights: every output
	// says so and names them.
	dirRun := filepath.Dir(runs[0])
	for _, f := range []string{"report.html", "frontier.md", "summary.txt", "run.json"} {
		b, err := os.ReadFile(filepath.Join(dirRun, f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "Random weights") || !strings.Contains(string(b), filepath.Join("flux", "transformer.opt", "model.onnx")) {
			t.Errorf("%s does not say the FLUX models' weights are random", f)
		}
	}
	// The same command again resumes the same run: nothing reruns.
	if code, _, stderr := runCLI(t, "tune", "--sweep", sweep, "--out", out, "--log-level", "warn"); code != exitOK {
		t.Fatalf("rerun exit %d: %s", code, stderr)
	}
	if again, _ := filepath.Glob(filepath.Join(out, "*-tune*")); len(again) != 1 {
		t.Errorf("rerun made a new run directory: %v", again)
	}
	after, _ := os.ReadFile(filepath.Join(filepath.Dir(runs[0]), "trials.jsonl"))
	if len(after) != len(before) {
		t.Errorf("rerun appended %d bytes of trials", len(after)-len(before))
	}
}
