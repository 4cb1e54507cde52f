package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/splatbench/splatbench/miner/orchestrator"
	"github.com/splatbench/splatbench/pipeline/threejs/render"
	"github.com/splatbench/splatbench/pipeline/threejs/validate"
)

type orchestrateOptions struct {
	pod          string
	token        string
	prompts      int
	size         int
	transparent  bool
	batch        int
	poll         time.Duration
	replacements int
	verify       bool
	check        bool
	render       bool
	checkWorkers int
	faults       orchestrator.Faults
	missing      int
	bombs        int
}

func orchestrateCommand() *command {
	o := &orchestrateOptions{}
	d := orchestrator.DefaultConfig()
	return &command{
		name:    "orchestrate",
		summary: "drive a running pod (serve --api pod) through a local competition round",
		usage:   "splatbench orchestrate [--pod URL] [flags]",
		long: `Plays the subnet's orchestrator against a running pod service: GET /health
until 200, GET /status until ready, then the prompts in batches of --batch
(POST /generate, /status every --poll until complete, GET /results). It serves
the prompt images itself over loopback (the built-in reference scenes rendered
from the front, --size pixels), checks that every stem comes back exactly once
(a module or a _failed.json entry), validates every module with the local
Three.js validator (--check) and, with --render, renders it as the judge does
and scores it against the prompt (a proxy, not the judge's score).

Faults: --drop-generate N drops the answers of the first N POST /generate (the
orchestrator retries; the pod must treat it as the same batch), --cut-results N
breaks off the first N downloads mid-stream, --slow-poll delays every /status
answer, --missing N and --bombs N give N prompts an image URL that 404s or a
PNG that declares 100000x100000 pixels. --verify re-posts every finished batch
and downloads its results twice: the pod must stay complete and send the same
bytes.

It writes report.json and report.md (failures by rule code, pod failures,
proxy scores, time per batch, /status latency) under --out/orchestrate-<time>/.
Exit status 1 when the round did not finish.

Examples:
  splatbench serve --api pod --listen 127.0.0.1:10006 &
  splatbench orchestrate --pod http://127.0.0.1:10006
  splatbench orchestrate --poll 1s --drop-generate 1 --cut-results 1 --missing 1 --bombs 1 --verify`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&o.pod, "pod", "http://127.0.0.1:10006", "the pod's base URL")
			fs.StringVar(&o.token, "token", "", "bearer token to send (a pod must accept it, never require it)")
			fs.IntVar(&o.prompts, "prompts", 128, "prompts in the round (the subnet's 128)")
			fs.IntVar(&o.size, "size", 512, "prompt image size in pixels")
			fs.BoolVar(&o.transparent, "transparent", false, "prompt images with alpha instead of a plain backdrop (the generator needs no matte)")
			fs.IntVar(&o.batch, "batch", d.BatchSize, "prompts per batch")
			fs.DurationVar(&o.poll, "poll", d.PollInterval, "/status poll interval")
			fs.IntVar(&o.replacements, "replacements", d.Replacements, "replacements_remaining sent on every /status")
			fs.BoolVar(&o.verify, "verify", false, "re-post every finished batch and download its results again")
			fs.BoolVar(&o.check, "check", true, "validate every module with the local Three.js validator")
			fs.BoolVar(&o.render, "render", false, "render every valid module and score it against its prompt (slow on a CPU)")
			fs.IntVar(&o.checkWorkers, "check-workers", 2, "modules validated at once")
			fs.IntVar(&o.faults.DropGenerate, "drop-generate", 0, "drop the answers of the first N POST /generate")
			fs.IntVar(&o.faults.CutResults, "cut-results", 0, "cut the first N GET /results mid-stream")
			fs.DurationVar(&o.faults.SlowPoll, "slow-poll", 0, "delay every /status answer by this much")
			fs.IntVar(&o.missing, "missing", 0, "prompts whose image URL answers 404")
			fs.IntVar(&o.bombs, "bombs", 0, "prompts whose image declares 100000x100000 pixels")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) > 0 {
				return usageErrorf("orchestrate takes no arguments")
			}
			return runOrchestrate(ctx, e, o)
		},
	}
}

func runOrchestrate(ctx context.Context, e *env, o *orchestrateOptions) error {
	if o.prompts < 1 || o.size < 16 || o.batch < 1 || o.poll <= 0 {
		return usageErrorf("--prompts, --batch and --poll must be positive and --size at least 16")
	}
	if o.missing+o.bombs > o.prompts {
		return usageErrorf("--missing + --bombs (%d) is more than --prompts (%d)", o.missing+o.bombs, o.prompts)
	}
	cfg := orchestrator.DefaultConfig()
	cfg.Pod, cfg.Token, cfg.BatchSize, cfg.PollInterval, cfg.Replacements, cfg.Verify =
		o.pod, o.token, o.batch, o.poll, o.replacements, o.verify
	cfg.Log = e.log
	start := time.Now()
	prompts, err := orchestrator.ReferencePrompts(ctx, o.prompts, o.size, o.transparent)
	if err != nil {
		return err
	}
	e.log.Info("prompt images rendered", "prompts", len(prompts), "size", o.size, "seconds", time.Since(start).Seconds())
	cfg.Prompts = prompts
	cfg.Faults = o.faults
	// Spread the faulty prompts over the round: the first of each kind in
	// batch 0, the rest every few prompts.
	step := max(1, o.prompts/max(1, o.missing+o.bombs))
	for i := range o.missing + o.bombs {
		st := prompts[(5+i*step)%len(prompts)].Stem
		if i < o.missing {
			cfg.Faults.Missing = append(cfg.Faults.Missing, st)
		} else {
			cfg.Faults.Bombs = append(cfg.Faults.Bombs, st)
		}
	}
	if o.check {
		a, err := validate.FindAssets()
		if err != nil {
			return fmt.Errorf("orchestrate: %w (or --check=false)", err)
		}
		v, err := validate.New(a, validate.Spec())
		if err != nil {
			return err
		}
		defer v.Close()
		cfg.Check = &orchestrator.Checker{Validator: v, Workers: o.checkWorkers}
		if o.render {
			r, err := render.New(ctx, a, render.Options{Size: o.size, Log: e.log})
			if err != nil {
				return err
			}
			defer r.Close()
			cfg.Check.Renderer = r
		}
	}
	dir := filepath.Join(e.global.out, "orchestrate-"+time.Now().UTC().Format("20060102-150405"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rep, runErr := orchestrator.Run(ctx, cfg)
	if rep != nil {
		if err := rep.Write(dir); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s\nreport: %s\n", rep.Markdown(), filepath.Join(dir, "report.md"))
	}
	return runErr
}
