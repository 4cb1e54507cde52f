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
	"github.com/splatbench/splatbench/pipeline/threejs/generate"
	"github.com/splatbench/splatbench/pipeline/threejs/render"
	"github.com/splatbench/splatbench/pipeline/threejs/validate"
)

// podOptions are serve's flags for --api pod.
type podOptions struct {
	expectGPUs int
	colourFit  bool
}

func (o *podOptions) addFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.expectGPUs, "expect-gpus", 0, "with --api pod: GPUs the pod must have (the competition's 4); fewer, or one failing its start-up check, makes /status ask for a new pod while replacements remain")
	fs.BoolVar(&o.colourFit, "colour-fit", true, "with --api pod: fit each module's colours by rendering it in the judge's scene (a Chromium per worker)")
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
	if !o.allowRandom {
		if err := refuseRandomWeights(p, "a competition pod serving them answers noise"); err != nil {
			return err
		}
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
	gens, closeGens, err := podGenerators(ctx, b, p, workers, o.podOpts.colourFit)
	if err != nil {
		return err
	}
	defer closeGens()
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

// podGenerators makes one image-to-module generator per worker: the
// profile's matte (ISNet) for opaque prompt images and the local validator,
// shared; with colour fit, a canonical renderer (Chromium) per worker. The
// returned function closes what they opened.
func podGenerators(ctx context.Context, b *pipeline.Builder, p configs.Profile, n int, colourFit bool) ([]pod.Generator, func(), error) {
	assets, err := validate.FindAssets()
	if err != nil {
		return nil, nil, err
	}
	m, err := b.Matte(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	v, err := validate.New(assets, validate.Spec())
	if err != nil {
		return nil, nil, err
	}
	closers := []func() error{v.Close}
	closeAll := func() {
		for _, c := range closers {
			_ = c()
		}
	}
	gens := make([]pod.Generator, n)
	for i := range gens {
		opt := generate.DefaultOptions()
		opt.Matter, opt.Valid = m, v
		if colourFit {
			r, err := render.New(ctx, assets, render.Options{})
			if err != nil {
				closeAll()
				return nil, nil, err
			}
			closers = append(closers, r.Close)
			opt.Renderer = r
		} else {
			opt.FitIters = 0
		}
		gens[i] = pod.ThreeJS(opt)
	}
	return gens, closeAll, nil
}
