package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/pflag"

	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/jobs"
)

type workerOptions struct {
	profileOptions
	queue         queueOptions
	slots         int
	reuse         int
	id            string
	metricsListen string
}

func workerCommand() *command {
	o := &workerOptions{}
	return &command{
		name:    "worker",
		summary: "a GPU host that takes generation jobs and tuning trials from the job queue",
		usage:   "splatbench worker --nats URL [--profile PROFILE] [flags]",
		long: `Connects to the job queue's NATS server or cluster, pulls jobs one per lane and
runs them: one lane (one pipeline) per GPU when the profile's device is auto,
cuda or cuda:all and the driver lists GPUs, else --slots lanes on the CPU. A
job brings its own profile (the miner's, or a sweep's point); this host's
device and ONNX Runtime library replace the ones in it, and model paths in it
must exist here. Results go back on the queue; the worker keeps nothing
between jobs, so any number of workers on any number of hosts may run, and
one may be stopped or die at any time (its job goes to another).

Every few seconds the worker reports its id, host, version, devices, jobs done
and health in the queue's workers bucket ('splatbench workers' lists them).
Off loopback the connection needs TLS and credentials (see docs/scale-out.md).

Examples:
  splatbench worker --nats nats://127.0.0.1:4222
  SPLATBENCH_NATS_PASSWORD=... splatbench worker --nats tls://queue.example:4222 \
      --nats-ca ca.pem --nats-user gpu --profile best-reward-rate.yaml --nats-replicas 3`,
		flags: func(fs *pflag.FlagSet) {
			o.queue.addFlags(fs, false)
			fs.IntVar(&o.slots, "slots", 1, "lanes on a host without GPUs (or with device cpu)")
			fs.IntVar(&o.reuse, "reuse-outputs", 16, "matte outputs kept for reuse by later jobs with the same input image (a sweep's trials share their prompts; 0: off)")
			fs.StringVar(&o.id, "id", "", "worker name (default host-pid)")
			fs.StringVar(&o.metricsListen, "metrics-listen", "", `address of /metrics ("": off)`)
			o.profileOptions.addFlags(fs)
		},
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) > 0 {
				return usageErrorf("worker takes no arguments")
			}
			if o.queue.url == "" {
				return usageErrorf("worker needs --nats URL (the server that tune, mine or serve embeds with --nats-listen, or a NATS cluster)")
			}
			return runWorker(ctx, e, o)
		},
	}
}

func runWorker(ctx context.Context, e *env, o *workerOptions) error {
	p, err := o.load(e.global)
	if err != nil {
		return err
	}
	qc, err := o.queue.open(ctx, e, "splatbench worker", "")
	if err != nil {
		return err
	}
	defer qc.Close()
	b := pipeline.NewBuilder(e.log, p.OrtLib)
	defer b.Close()
	if o.reuse > 0 {
		// Timings of a reused output still carry its measured cost.
		b.ReuseOutputs(o.reuse)
	}
	slots, closeSlots, err := b.JobSlots(p, o.slots)
	if err != nil {
		return err
	}
	defer closeSlots()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		jobs.NewCollector(qc.q))
	w, err := jobs.NewWorker(qc.q, slots, jobs.WorkerOptions{ID: o.id, Version: version + " " + commit(),
		Profile: p.Name, Metrics: jobs.NewWorkerMetrics(reg)}, e.log)
	if err != nil {
		return err
	}
	stopMetrics, err := serveMetrics(o.metricsListen, reg, e)
	if err != nil {
		return err
	}
	defer stopMetrics()
	devs := make([]string, len(slots))
	for i, s := range slots {
		devs[i] = s.Device
	}
	e.log.Info("worker", "id", w.ID(), "devices", devs, "profile", p.Name, "nats", qc.nc.ConnectedUrlRedacted())
	if err := w.Run(ctx); err != nil {
		return err
	}
	return ctx.Err()
}

type workersOptions struct {
	queue queueOptions
}

func workersCommand() *command {
	o := &workersOptions{}
	return &command{
		name:    "workers",
		summary: "the workers connected to the job queue, and the queue's depth",
		usage:   "splatbench workers --nats URL",
		long: `Lists the workers whose heartbeat is live (id, host, version, devices, busy
lanes, jobs done and failed, mean job time, last seen, health) and the queue's
pending, in-flight, redelivering and dead-lettered jobs.

Examples:
  splatbench workers --nats nats://127.0.0.1:4222`,
		flags: func(fs *pflag.FlagSet) { o.queue.addFlags(fs, false) },
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) > 0 {
				return usageErrorf("workers takes no arguments")
			}
			if o.queue.url == "" {
				return usageErrorf("workers needs --nats URL")
			}
			qc, err := o.queue.open(ctx, e, "splatbench workers", "")
			if err != nil {
				return err
			}
			defer qc.Close()
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			ws, err := qc.q.Workers(ctx)
			if err != nil {
				return err
			}
			st, err := qc.q.Stats(ctx)
			if err != nil {
				return err
			}
			return writeWorkers(e, ws, st)
		},
	}
}

func writeWorkers(e *env, ws []jobs.WorkerInfo, st jobs.Stats) error {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "worker\thost\tversion\tdevices\tbusy\tdone\tfailed\tredelivered\tmean job\tseen\thealth")
	for _, w := range ws {
		mean := "-"
		if w.Done > 0 {
			mean = (time.Duration(w.JobSeconds / float64(w.Done) * float64(time.Second))).Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%d/%d\t%d\t%d\t%d\t%s\t%s ago\t%s\n", w.ID, w.Host, w.Version, w.Devices,
			w.Busy, len(w.Devices), w.Done, w.Failed, w.Redelivered, mean, time.Since(w.Seen).Round(time.Second), w.Health)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(e.stdout, "\n%d workers; queue: %d pending, %d in flight (%d redelivering), %d dead-lettered, %d results kept\n",
		len(ws), st.Pending, st.InFlight, st.Redelivering, st.Dead, st.Results)
	return err
}
