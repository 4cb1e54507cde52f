package main

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/splatbench/splatbench/miner/pod"
	"github.com/splatbench/splatbench/miner/serve"
	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/ort"
	"github.com/splatbench/splatbench/prompts"
	"github.com/splatbench/splatbench/results/viewer"
)

type serveOptions struct {
	profileOptions
	listen   string
	workers  int
	queue    int
	timeout  time.Duration
	maxImage int64
	warmup   string
	api      string
	podOpts  podOptions
	// allowRandom serves models marked as having random weights.
	allowRandom bool
	jobQueue    queueOptions // --nats: generations go on the job queue
}

func serveCommand() *command {
	o := &serveOptions{}
	d := serve.DefaultOptions()
	return &command{
		name:    "serve",
		summary: "run the generation service (HTTP) with a chosen profile",
		usage:   "splatbench serve [--profile PROFILE] [--listen ADDR] [flags]",
		long: `Serves text- and image-to-3D generation over HTTP with the profile's stages:

  GET  /            a web page: prompt or image in, progress, the result in 3D,
                    the validator's 16 views, stage timings, PLY/SPZ downloads
  POST /jobs, GET /jobs/{id}[/model.ply|model.spz|sheet.png]   the page's job API
  POST /generate/   form field prompt -> PLY (the subnet's text-to-3D service API)
  POST /generate    multipart prompt_image_file, form seed -> PLY (image-to-3D)
  GET  /health      503 until the warm-up job has run, then 200
  GET  /version, GET /metrics (Prometheus)

Models load once at start; a warm-up job runs before /health says ready. One
pipeline per worker with a bounded queue: 429 with Retry-After when full. Bad
input is a 4xx with a JSON error body; a failed generation is a 5xx and the
service stays up. On the embedded default profile text prompts name reference
scenes ("a red cube").

With --api pod it serves the live competition's batch pod API instead
(GET /health, GET /status, POST /generate, GET /results: one Three.js
module per prompt image), one worker per GPU (or --workers CPU workers), on
0.0.0.0:10006 unless --listen says otherwise; docs/pod.md.

Examples:
  splatbench serve --listen 127.0.0.1:8093
  curl -s -F prompt="a red cube" http://127.0.0.1:8093/generate/ -o cube.ply
  splatbench serve --profile my-gpu.yaml --workers 2 --queue 16
  splatbench serve --api pod --expect-gpus 4`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&o.listen, "listen", "", "address to serve on (default 127.0.0.1:8093; "+pod.DefaultAddr+" with --api pod)")
			fs.StringVar(&o.api, "api", "generate", "generate: the generation service; pod: the competition's batch pod API (see docs/pod.md)")
			o.podOpts.addFlags(fs)
			fs.BoolVar(&o.allowRandom, "allow-random-weights", false, "serve models marked as having random weights (tools/make_gpu_models.py's: every answer is noise), to exercise the service")
			fs.IntVar(&o.workers, "workers", d.Workers, "generations at once (one per GPU)")
			fs.IntVar(&o.queue, "queue", d.QueueSize, "requests that may wait for a worker before 429")
			fs.DurationVar(&o.timeout, "request-timeout", d.RequestTimeout, "deadline of one generation request, queueing included")
			fs.Int64Var(&o.maxImage, "max-image-bytes", d.MaxImageBytes, "largest accepted image upload")
			fs.StringVar(&o.warmup, "warmup-prompt", "a red cube", "the warm-up job's prompt")
			o.profileOptions.addFlags(fs)
			o.jobQueue.addFlags(fs, false)
		},
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) > 0 {
				return usageErrorf("serve takes no arguments")
			}
			return runServe(ctx, e, o)
		},
	}
}

func runServe(ctx context.Context, e *env, o *serveOptions) error {
	switch o.api {
	case "pod":
		return runPod(ctx, e, o)
	case "generate":
	default:
		return usageErrorf("--api %q: want generate or pod", o.api)
	}
	if o.listen == "" {
		o.listen = "127.0.0.1:8093"
	}
	p, err := o.load(e.global)
	if err != nil {
		return err
	}
	if p.Encoding.Format == pipeline.FormatThreejs {
		return usageErrorf("serve answers with Gaussians; encode.format threejs is for bench and tune (the pod API serves Three.js modules)")
	}
	if !o.allowRandom {
		if err := refuseRandomWeights(p, "a generation service serving them answers noise"); err != nil {
			return err
		}
	}
	if o.workers < 1 {
		return usageErrorf("--workers must be >= 1")
	}
	b := pipeline.NewBuilder(e.log, p.OrtLib)
	defer b.Close()
	if err := checkWorkers(ctx, e, b, p, o.workers, o.jobQueue.url != ""); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	gens := make([]serve.Generator, o.workers)
	if o.jobQueue.url != "" {
		// Generations go on the job queue, to workers on any host.
		run, stopQueue, err := o.jobQueue.queueRun(ctx, e, p, reg)
		if err != nil {
			return err
		}
		defer stopQueue()
		for i := range gens {
			gens[i] = serve.GeneratorFunc(run)
		}
	}
	for i := range gens {
		if gens[i] != nil {
			continue
		}
		pl, err := b.Build(ctx, p)
		if err != nil {
			return err
		}
		gens[i] = serve.GeneratorFunc(pl.Run)
	}
	opts := serve.DefaultOptions()
	opts.Workers, opts.QueueSize, opts.RequestTimeout, opts.MaxImageBytes = o.workers, o.queue, o.timeout, o.maxImage
	opts.Version = version + " " + commit()
	caps := pipeline.CapabilitiesOf(p)
	opts.Capabilities = &caps
	if v, err := viewer.Load(ort.CacheDir()); err != nil {
		e.log.Warn("the web page shows no 3D view", "err", err)
	} else {
		opts.Viewer = v
	}
	srv, err := serve.New(opts, serve.NewPool(gens...), e.log, reg)
	if err != nil {
		return usageErrorf("%v", err)
	}
	fmt.Fprintf(e.stderr, "serving on http://%s (warming up)\n", o.listen)
	// The address is bound before the warm-up: a busy port fails at once.
	return srv.RunWarm(ctx, o.listen, pipeline.Job{ID: "warmup", Prompt: prompts.Text(o.warmup), Seed: 1})
}
