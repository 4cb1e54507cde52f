package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/pflag"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/miner"
	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/jobs"
	"github.com/splatbench/splatbench/pipeline/ort"
	"github.com/splatbench/splatbench/tuner"
)

// queueOptions are the job-queue flags of tune, mine, serve, worker and
// workers: an external NATS server or cluster (--nats) with its
// credentials, or an embedded one.
type queueOptions struct {
	url      string
	creds    string
	nkey     string
	user     string
	password string
	ca       string
	cert     string
	key      string
	insecure bool
	replicas int
	ackWait  time.Duration
	// embedded server and in-process workers (tune, mine)
	listen       string
	localWorkers int
}

const passwordEnv = "SPLATBENCH_NATS_PASSWORD"

// addFlags adds the connection flags; embedded adds those of a command
// that embeds a server when --nats is not given.
func (o *queueOptions) addFlags(fs *pflag.FlagSet, embedded bool) {
	fs.StringVar(&o.url, "nats", "", "NATS server URL(s) of the job queue, comma-separated (nats://, tls://)"+
		map[bool]string{true: `; "" embeds a JetStream server in this process`, false: ""}[embedded])
	fs.StringVar(&o.creds, "nats-creds", "", "NATS credentials file (JWT + nkey seed)")
	fs.StringVar(&o.nkey, "nats-nkey", "", "NATS nkey seed file (SU...)")
	fs.StringVar(&o.user, "nats-user", "", "NATS user (password from $"+passwordEnv+" or --nats-password)")
	fs.StringVar(&o.password, "nats-password", "", "NATS password (prefer $"+passwordEnv+")")
	fs.StringVar(&o.ca, "nats-ca", "", "CA certificate that verifies the NATS server (TLS)")
	fs.StringVar(&o.cert, "nats-cert", "", "client certificate for NATS TLS (or, with --nats-listen, the server's)")
	fs.StringVar(&o.key, "nats-key", "", "key of --nats-cert")
	fs.BoolVar(&o.insecure, "nats-insecure", false, "allow plaintext or unauthenticated NATS off loopback")
	fs.IntVar(&o.replicas, "nats-replicas", 1, "replicas of the queue's streams (3 on a three-node cluster)")
	fs.DurationVar(&o.ackWait, "job-ack-wait", 30*time.Second, "how long a worker may go silent before its job goes to another")
	if embedded {
		fs.StringVar(&o.listen, "nats-listen", "", `the embedded server also listens here for worker processes ("127.0.0.1:4222"; off loopback needs --nats-cert/--nats-key and --nats-user or --nats-nkey)`)
		fs.IntVar(&o.localWorkers, "local-workers", -1, "worker lanes in this process (-1: one per GPU, else the command's own count; 0: none, external workers only)")
	}
}

func (o *queueOptions) security() jobs.Security {
	pw := o.password
	if pw == "" {
		pw = os.Getenv(passwordEnv)
	}
	return jobs.Security{User: o.user, Password: pw, NKeySeedFile: o.nkey, CredsFile: o.creds,
		TLSCA: o.ca, TLSCert: o.cert, TLSKey: o.key, Insecure: o.insecure}
}

func (o *queueOptions) config() jobs.Config {
	return jobs.Config{Replicas: o.replicas, AckWait: o.ackWait}
}

// queueConn is an open queue: the connection, the embedded server if any.
type queueConn struct {
	q      *jobs.Queue
	nc     *nats.Conn
	server *jobs.Server
}

func (c *queueConn) embedded() bool { return c.server != nil }

func (c *queueConn) Close() {
	c.nc.Close()
	if c.server != nil {
		c.server.Shutdown()
	}
}

// open connects to --nats, or embeds a server whose store is
// <cache>/jobs/<store> (so a rerun of the same command finds its queue).
func (o *queueOptions) open(ctx context.Context, e *env, name, store string) (*queueConn, error) {
	sec := o.security()
	c := &queueConn{}
	if o.url == "" {
		if sec.User == "" && sec.NKeySeedFile != "" {
			return nil, usageErrorf("--nats-nkey is a client seed; an embedded server takes user/password auth (--nats-user)")
		}
		cache := ort.CacheDir()
		if cache == "" {
			cache = os.TempDir()
		}
		dir := filepath.Join(cache, "jobs", store)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("job queue store: %w", err)
		}
		srv, err := jobs.StartServer(jobs.ServerOptions{StoreDir: dir, Listen: o.listen, Security: sec, Log: e.log})
		if err != nil {
			if errors.Is(err, jobs.ErrInsecure) {
				return nil, usageErrorf("--nats-listen %s: %v", o.listen, err)
			}
			return nil, err
		}
		c.server = srv
		if c.nc, err = jobs.ConnectInProcess(srv, name); err != nil {
			srv.Shutdown()
			return nil, err
		}
		if u := srv.ClientURL(); u != "" {
			e.log.Info("job queue: embedded server", "url", u, "store", dir)
		}
	} else {
		nc, err := jobs.Connect(o.url, sec, name, e.log)
		if err != nil {
			if errors.Is(err, jobs.ErrInsecure) {
				return nil, usageErrorf("--nats %s: %v (--nats-insecure allows it)", o.url, err)
			}
			return nil, err
		}
		c.nc = nc
	}
	octx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	q, err := jobs.Open(octx, c.nc, o.config())
	if err != nil {
		c.Close()
		return nil, err
	}
	c.q = q
	return c, nil
}

// localWorkers are in-process worker lanes.
type localWorkers struct {
	n    int
	stop func()
}

// startLocalWorkers runs in-process worker lanes for profile p (n lanes on
// the CPU, or one per GPU; see Builder.JobSlots) until stop.
func startLocalWorkers(ctx context.Context, e *env, qc *queueConn, b *pipeline.Builder, p configs.Profile, n int, reg prometheus.Registerer) (localWorkers, error) {
	slots, closeSlots, err := b.JobSlots(p, n)
	if err != nil {
		return localWorkers{}, err
	}
	var wm *jobs.WorkerMetrics
	if reg != nil {
		wm = jobs.NewWorkerMetrics(reg)
	}
	host, _ := os.Hostname()
	w, err := jobs.NewWorker(qc.q, slots, jobs.WorkerOptions{ID: fmt.Sprintf("%s-%d-local", host, os.Getpid()),
		Version: version + " " + commit(), Profile: p.Name, Metrics: wm}, e.log)
	if err != nil {
		closeSlots()
		return localWorkers{}, err
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(wctx); err != nil && wctx.Err() == nil {
			e.log.Error("local worker", "err", err)
		}
	}()
	return localWorkers{n: len(slots), stop: func() { cancel(); <-done; closeSlots() }}, nil
}

// sweepQueue is the queue side of a sweep: the evaluator, how many
// trials to keep on the queue at once, and stop (in-process workers,
// client, metrics).
func (o *queueOptions) sweepQueue(ctx context.Context, e *env, qc *queueConn, b *pipeline.Builder, base configs.Profile,
	ns string, resuming bool, sweepWorkers, inflight int, metricsListen string) (tuner.Evaluator, int, func(), error) {
	if qc.embedded() && !resuming {
		// The embedded store is this sweep's alone: jobs in it belong to
		// an earlier run that was killed, and would only hold up this one.
		n, err := qc.q.PurgeJobs(ctx)
		if err != nil {
			return nil, 0, nil, err
		}
		if n > 0 {
			e.log.Info("job queue: dropped jobs of an earlier run", "jobs", n)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), jobs.NewCollector(qc.q))
	var stops []func()
	stop := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	local := 0
	if n := o.localWorkers; n != 0 {
		if n < 0 {
			n = sweepWorkers
		}
		slots, err := startLocalWorkers(ctx, e, qc, b, base, n, reg)
		if err != nil {
			return nil, 0, nil, err
		}
		stops = append(stops, slots.stop)
		local = slots.n
	}
	c, err := jobs.NewClient(ctx, qc.q, e.log)
	if err != nil {
		stop()
		return nil, 0, nil, err
	}
	stops = append(stops, c.Close)
	stopMetrics, err := serveMetrics(metricsListen, reg, e)
	if err != nil {
		stop()
		return nil, 0, nil, err
	}
	stops = append(stops, stopMetrics)
	if inflight <= 0 {
		// Only this process's lanes can run trials: keep them busy. With
		// workers elsewhere, keep enough queued for the ones that come;
		// queue time counts against the per-trial timeout.
		inflight = max(local, 1)
		if !qc.embedded() || o.listen != "" {
			inflight = max(local+liveSlots(ctx, qc.q), 16)
		}
	}
	return jobs.NewEvaluator(c, base, ns), inflight, stop, nil
}

// minerGenerator is the queue side of mine: the generator, and stop
// (in-process workers, client, embedded server). The embedded store is
// keyed by the state file, so a restarted miner finds its queue.
func (o *queueOptions) minerGenerator(ctx context.Context, e *env, b *pipeline.Builder, p configs.Profile, workers int,
	state string, reg *prometheus.Registry) (miner.Generator, func(), error) {
	abs, _ := filepath.Abs(state)
	h := sha256.Sum256([]byte(abs))
	qc, err := o.open(ctx, e, "splatbench mine", "mine-"+hex.EncodeToString(h[:6]))
	if err != nil {
		return nil, nil, err
	}
	stops := []func(){qc.Close}
	stop := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	reg.MustRegister(jobs.NewCollector(qc.q))
	if n := o.localWorkers; n != 0 {
		if n < 0 {
			n = workers
		}
		lw, err := startLocalWorkers(ctx, e, qc, b, p, n, reg)
		if err != nil {
			stop()
			return nil, nil, err
		}
		stops = append(stops, lw.stop)
	}
	c, err := jobs.NewClient(ctx, qc.q, e.log)
	if err != nil {
		stop()
		return nil, nil, err
	}
	stops = append(stops, c.Close)
	return miner.NewQueueGenerator(c, p), stop, nil
}

// queueRun is serve's side of the queue: Pipeline.Run over the queue
// (workers elsewhere run the generations), and stop.
func (o *queueOptions) queueRun(ctx context.Context, e *env, p configs.Profile, reg *prometheus.Registry) (
	func(context.Context, pipeline.Job) (*pipeline.State, []pipeline.Timing, error), func(), error) {
	qc, err := o.open(ctx, e, "splatbench serve", "")
	if err != nil {
		return nil, nil, err
	}
	reg.MustRegister(jobs.NewCollector(qc.q))
	c, err := jobs.NewClient(ctx, qc.q, e.log)
	if err != nil {
		qc.Close()
		return nil, nil, err
	}
	return pipeline.QueueRun(c, p), func() { c.Close(); qc.Close() }, nil
}

// liveSlots counts the lanes of the workers connected now.
func liveSlots(ctx context.Context, q *jobs.Queue) int {
	ws, err := q.Workers(ctx)
	if err != nil {
		return 0
	}
	n := 0
	for _, w := range ws {
		n += len(w.Devices)
	}
	return n
}

// storeKey makes a name usable as a directory.
func storeKey(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
