package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/models"
	"github.com/splatbench/splatbench/pipeline/ort"
)

func modelsCommand() *command {
	return &command{
		name:    "models",
		summary: "check model files against what each pipeline stage expects",
		usage:   "splatbench models check [DIR|FILE]",
		long: `Loads every .onnx file in DIR (recursively), or one FILE, with ONNX Runtime and
compares its inputs and outputs (names, dtypes, shapes) with what each stage
expects: ISNet and BiRefNet/RMBG-2.0 matting, the FLUX.1-schnell parts, the CLIP
encoders. One line per file: ok, warn or fail, the stage it fits, and what is
wrong. Without an argument it checks the set-up cache's models directory.

Exit status: 0 when nothing failed, 1 when a file failed, 2 on bad usage.

Examples:
  splatbench models check
  splatbench models check ~/models/flux-schnell-onnx
  splatbench models check ~/models/rmbg-2.0.onnx`,
		flags: func(*pflag.FlagSet) {},
		run:   runModels,
	}
}

func runModels(ctx context.Context, e *env, args []string) error {
	if len(args) < 1 || args[0] != "check" || len(args) > 2 {
		return usageErrorf("usage: splatbench models check [DIR|FILE]")
	}
	target := ort.CacheDir() + "/models"
	if len(args) == 2 {
		target = args[1]
	}
	fi, err := os.Stat(target)
	if err != nil {
		return err
	}
	rt, err := pipeline.NewBuilder(e.log, e.global.ortLib).Runtime()
	if err != nil {
		return err
	}
	var findings []models.Finding
	if fi.IsDir() {
		findings, err = models.CheckDir(ctx, rt, target)
	} else {
		var f models.Finding
		f, err = models.CheckFile(ctx, rt, target)
		findings = []models.Finding{f}
	}
	if err != nil {
		return err
	}
	failed := 0
	for _, f := range findings {
		stage := f.Stage
		if stage == "" {
			stage = "-"
		}
		fmt.Fprintf(e.stdout, "%-4s  %-22s %s: %s\n", f.Status, stage, f.Path, f.Message)
		if f.Status == models.Fail {
			failed++
		}
	}
	if len(findings) == 0 {
		fmt.Fprintf(e.stdout, "no .onnx files in %s\n", target)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d model files failed", failed, len(findings))
	}
	return nil
}
