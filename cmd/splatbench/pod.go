package main

import (
	"context"
	"errors"
	"fmt"
	"image/color"

	"github.com/spf13/pflag"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/miner/pod"
	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/imageeval"
	"github.com/splatbench/splatbench/pipeline/scenes"
)

// podOptions are serve's flags for --api pod.
type podOptions struct {
	expectGPUs int
}

func (o *podOptions) addFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.expectGPUs, "expect-gpus", 0, "with --api pod: GPUs the pod must have (the competition's 4); fewer, or one failing its start-up check, makes /status ask for a new pod while replacements remain")
}

// runPod is serve --api pod: the pod service on every GPU of the host (one
// generator per GPU; --workers generators on a CPU machine), the start-up
// GPU health check and a warm-up generation before /status says ready.
func runPod(ctx context.Context, e *env, o *serveOptions) error {
	if o.listen == "" {
		o.listen = pod.DefaultAddr
	}
	if o.workers < 1 {
		return usageErrorf("--workers must be >= 1")
	}
	p, err := o.load(e.global)
	if err != nil {
		return err
	}
	b := pipeline.NewBuilder(e.log, p.OrtLib)
	defer b.Close()
	devs, err := pod.CUDADevices(b, p, e.log)
	if err != nil {
		return err
	}
	workers := o.workers
	if len(devs) > 0 {
		workers = len(devs)
	}
	gens, err := podGenerators(ctx, b, p, workers)
	if err != nil {
		return err
	}
	opts := pod.DefaultOptions()
	opts.Image.MaxBytes = o.maxImage
	srv, err := pod.New(opts, gens, e.log)
	if err != nil {
		return usageErrorf("%v", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Run(ctx, o.listen) }()
	fmt.Fprintf(e.stderr, "pod API on http://%s (%d workers; warming up)\n", o.listen, workers)

	srv.SetStage("gpu health check")
	rule := pod.GPUHealthRule()
	rule.ExpectGPUs = o.podOpts.expectGPUs
	health := pod.CheckHealth(ctx, devs, rule)
	e.log.Info("gpu health", "all_passed", health.AllPassed, "gpus", len(health.GPUs), "reason", health.Reason, "seconds", health.Seconds)
	sc, err := scenes.Get(o.warmup)
	if err != nil {
		sc, _ = scenes.Get("a red cube")
	}
	img, _, err := imageeval.Prompt(ctx, sc, 1, 512, imageeval.Backdrop{Plain: color.NRGBA{255, 255, 255, 255}})
	if err == nil {
		err = srv.Warmup(ctx, img, health)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		e.log.Error("warm-up failed; /status stays warming_up", "err", err)
	}
	return <-errc
}

// podGenerators makes one image-to-module generator per worker.
func podGenerators(ctx context.Context, b *pipeline.Builder, p configs.Profile, n int) ([]pod.Generator, error) {
	_, _, _ = ctx, b, p
	return nil, fmt.Errorf("serve --api pod: this build has no image-to-Three.js generator (pipeline/threejs/generate) wired in yet")
}
