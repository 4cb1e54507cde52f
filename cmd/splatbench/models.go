package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/cuda"
	"github.com/splatbench/splatbench/pipeline/models"
	"github.com/splatbench/splatbench/pipeline/ort"
)

func modelsCommand() *command {
	var provider, card string
	return &command{
		name:    "models",
		summary: "check model files against what each pipeline stage expects",
		usage:   "splatbench models check [--provider cuda] [--card NAME] [DIR|FILE]",
		long: `Loads every .onnx file in DIR (recursively), or one FILE, with ONNX Runtime and
compares its inputs and outputs (names, dtypes, shapes) with what each stage
expects: ISNet and BiRefNet/RMBG-2.0 matting, the FLUX.1-schnell parts, the CLIP
encoders. One line per file: ok, warn or fail, the stage it fits, and what is
wrong. Without an argument it checks the set-up cache's models directory.

--provider cuda (or tensorrt) also runs each model that fits a stage once on
that provider with ONNX Runtime's profiler and reports where its nodes ran:
nodes and time per provider and the operator types that fell back to the
CPU (a warning when one of them moved a tensor of 64 KiB or more). ORT's
profile times each node on the host: a GPU node's time is mostly its launch,
so on a GPU those shares say where the host waited, not where the GPU
worked. It loads each
model a second time and needs the provider (make setup-gpu, docs/gpu.md).
Each model's line also gives that run's FLOP floor and graph roofline (each
node at the slower of its FLOPs and its bytes) at the datasheet peaks of this
machine's GPU, or of --card (say "NVIDIA H200"), counted on the graph the
provider ran with its tensors' own element types: with --provider cpu and an
fp32 export, what the graph would allow on that card, in fp32 bytes.

Exit status: 0 when nothing failed, 1 when a file failed, 2 on bad usage.

Examples:
  splatbench models check
  splatbench models check ~/models/flux-schnell-onnx
  splatbench models check ~/models/rmbg-2.0.onnx
  splatbench models check --provider cuda ~/models/flux-schnell-onnx
  splatbench models check --provider cpu --card "NVIDIA H200" ~/models/vae.opt/model.onnx`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&provider, "provider", "", "also run each model once on this execution provider (cuda, tensorrt) and report which nodes it left to the CPU")
			fs.StringVar(&card, "card", "", `with --provider: the card whose datasheet peaks the floors use ("NVIDIA H200"; default: this machine's GPU)`)
		},
		run: func(ctx context.Context, e *env, args []string) error { return runModels(ctx, e, provider, card, args) },
	}
}

func runModels(ctx context.Context, e *env, provider, card string, args []string) error {
	if len(args) < 1 || args[0] != "check" || len(args) > 2 {
		return usageErrorf("usage: splatbench models check [DIR|FILE]")
	}
	if card != "" {
		if provider == "" {
			return usageErrorf("--card needs --provider: the floors come from a profiled run")
		}
		if _, ok := cuda.RatesOf(card); !ok {
			return usageErrorf("--card %q: no datasheet peaks for it (known: H200, H200 NVL, H100 SXM/PCIe/NVL, A100, L40S, RTX 4090)", card)
		}
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
	if provider != "" {
		if card == "" {
			card = gpuName(e)
		}
		for i, f := range findings {
			if f.Status == models.Fail || !strings.EqualFold(filepath.Ext(f.Path), ".onnx") {
				continue
			}
			var pl *ort.Placement
			if findings[i], pl, err = models.Probe(ctx, rt, f.Path, provider); err != nil {
				return err
			}
			if pl != nil {
				findings[i].Message += floorNote(pl, card)
			}
		}
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
