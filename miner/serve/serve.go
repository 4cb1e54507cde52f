// Package serve owns splatbench's generation service: the HTTP API a
// subnet-17 miner's generator exposes (POST /generate/ with a text prompt,
// the Era B text-to-3D API; POST /generate with an uploaded image and a
// seed, the Era C image-to-3D competition API; /health, /version,
// /metrics), the bounded job queue in front of one generator per worker,
// per-request deadlines, request ids and Prometheus metrics. It sees the
// pipeline only through the Generator interface.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/results/viewer"
)

// Generator produces a Gaussian cloud for a job. A *pipeline.Pipeline
// becomes one through GeneratorFunc(p.Run). The service calls Generate
// from up to Options.Workers goroutines at once; use Pool to give each
// worker (GPU) its own generator.
type Generator interface {
	Generate(ctx context.Context, job pipeline.Job) (*pipeline.State, []pipeline.Timing, error)
}

// GeneratorFunc adapts a function, such as (*pipeline.Pipeline).Run, to
// Generator.
type GeneratorFunc func(ctx context.Context, job pipeline.Job) (*pipeline.State, []pipeline.Timing, error)

// Generate calls f.
func (f GeneratorFunc) Generate(ctx context.Context, job pipeline.Job) (*pipeline.State, []pipeline.Timing, error) {
	return f(ctx, job)
}

// Options configure a Server. Start from DefaultOptions.
type Options struct {
	// Workers is how many generations run at once: one per GPU.
	Workers int
	// QueueSize is how many accepted requests may wait for a worker;
	// beyond Workers+QueueSize requests get 429 with Retry-After.
	QueueSize int
	// RequestTimeout bounds one generation request, queueing included.
	RequestTimeout time.Duration
	// MaxImageBytes caps an uploaded image prompt (413 above it).
	MaxImageBytes int64
	// MaxImagePixels caps an uploaded image's width×height, checked
	// before it is decoded.
	MaxImagePixels int
	// MaxPromptBytes caps a text prompt.
	MaxPromptBytes int
	// Version is what GET /version answers.
	Version string
	// TempDir holds uploaded image prompts while they are generated
	// from; empty means the system's temporary directory.
	TempDir string
	// ShutdownTimeout bounds the graceful shutdown in Run: requests still
	// running after it are cancelled.
	ShutdownTimeout time.Duration
	// KeptJobs is how many finished jobs of POST /jobs are kept for their
	// status and files (the oldest go first); 0 means 16.
	KeptJobs int
	// Viewer is the 3D viewer's files for the web page at /; nil serves
	// the page without the 3D view (it says to run the set-up).
	Viewer *viewer.Assets
	// Capabilities is what the generator's profile can generate
	// (pipeline.CapabilitiesOf); /health lists it, and New warns when free
	// text is out. Nil: not known, nothing said.
	Capabilities *pipeline.Capabilities
}

// DefaultOptions returns one worker, a queue of 8, the competition's 30 s
// generation limit doubled for the deadline, 16 MiB images, 4096² pixels.
func DefaultOptions() Options {
	return Options{
		Workers:         1,
		QueueSize:       8,
		RequestTimeout:  60 * time.Second,
		MaxImageBytes:   16 << 20,
		MaxImagePixels:  4096 * 4096,
		MaxPromptBytes:  4096,
		Version:         "0.0.0",
		ShutdownTimeout: 30 * time.Second,
		KeptJobs:        16,
	}
}

func (o Options) validate() error {
	var errs []error
	if o.Workers < 1 {
		errs = append(errs, fmt.Errorf("serve: Options.Workers = %d: need at least 1", o.Workers))
	}
	if o.QueueSize < 0 {
		errs = append(errs, fmt.Errorf("serve: Options.QueueSize = %d: must not be negative", o.QueueSize))
	}
	if o.RequestTimeout <= 0 {
		errs = append(errs, fmt.Errorf("serve: Options.RequestTimeout = %v: must be positive", o.RequestTimeout))
	}
	if o.MaxImageBytes <= 0 {
		errs = append(errs, fmt.Errorf("serve: Options.MaxImageBytes = %d: must be positive", o.MaxImageBytes))
	}
	if o.MaxImagePixels <= 0 {
		errs = append(errs, fmt.Errorf("serve: Options.MaxImagePixels = %d: must be positive", o.MaxImagePixels))
	}
	if o.MaxPromptBytes <= 0 {
		errs = append(errs, fmt.Errorf("serve: Options.MaxPromptBytes = %d: must be positive", o.MaxPromptBytes))
	}
	if o.KeptJobs < 0 {
		errs = append(errs, fmt.Errorf("serve: Options.KeptJobs = %d: must not be negative", o.KeptJobs))
	}
	if o.ShutdownTimeout < 0 {
		errs = append(errs, fmt.Errorf("serve: Options.ShutdownTimeout = %v: must not be negative", o.ShutdownTimeout))
	}
	return errors.Join(errs...)
}

// Server is the generation service. New starts its workers; Run (or
// Close, when only Handler is used) stops them.
type Server struct {
	opts    Options
	gen     Generator
	log     *slog.Logger
	metrics *metrics
	handler http.Handler

	queue   chan *task
	admit   sync.RWMutex   // submissions hold it shared; Close takes it to wait them out
	wg      sync.WaitGroup // workers
	quit    chan struct{}
	closing sync.Once

	ready    atomic.Bool // the warm-up job has run
	stopping atomic.Bool // Run is shutting down
	avgGen   ewma        // seconds per generation, for Retry-After

	// Queue positions: tasks are numbered as they are queued (enqueued,
	// under seqMu) and counted as workers take them (dequeued).
	seqMu    sync.Mutex
	enqueued uint64
	dequeued atomic.Uint64
	jobs     jobTable // POST /jobs
}

// New validates opts, registers the service's metrics on reg and starts
// opts.Workers workers that call gen.
func New(opts Options, gen Generator, log *slog.Logger, reg prometheus.Registerer) (*Server, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if gen == nil {
		return nil, errors.New("serve: nil Generator")
	}
	if log == nil {
		return nil, errors.New("serve: nil logger")
	}
	if reg == nil {
		return nil, errors.New("serve: nil prometheus.Registerer")
	}
	if opts.KeptJobs == 0 {
		opts.KeptJobs = DefaultOptions().KeptJobs
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:    opts,
		gen:     gen,
		log:     log,
		metrics: m,
		queue:   make(chan *task, opts.QueueSize),
		quit:    make(chan struct{}),
		jobs:    jobTable{keep: opts.KeptJobs, byID: map[string]*job{}},
	}
	if c := opts.Capabilities; c != nil && !c.FreeText {
		log.Warn("this service cannot generate free-text prompts; they are answered 422", "generates", c.Kinds(), "why", c.Note)
	}
	s.handler = s.routes()
	s.wg.Add(opts.Workers)
	for i := range opts.Workers {
		go s.worker(i)
	}
	return s, nil
}

// Handler returns the service's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Ready reports whether the warm-up job has run.
func (s *Server) Ready() bool { return s.ready.Load() }

// Close stops the workers after the requests they hold; requests still
// queued are answered 503. It is idempotent. Run calls it.
func (s *Server) Close() {
	s.closing.Do(func() {
		s.stopping.Store(true) // refuse new submissions
		s.metrics.ready.Set(0)
		close(s.quit) // stop the workers and any submitWait
		// Wait out submissions that passed the check before it: what they
		// queued is answered below.
		s.admit.Lock()
		s.admit.Unlock()
		s.wg.Wait()
		for {
			select {
			case t := <-s.queue:
				t.finish(result{err: errShuttingDown})
			default:
				return
			}
		}
	})
}

// Warmup generates job once through the whole output path (queue,
// generation, PLY encoding, gates) and marks the service ready: /health
// answers 200 from then on. It waits for a free queue slot rather than
// being refused, so it can run while the service already serves. A
// failed warm-up leaves /health at 503.
func (s *Server) Warmup(ctx context.Context, job pipeline.Job) error {
	log := s.log.With("request_id", job.ID)
	start := time.Now()
	t := newTask(ctx, job, log, nil)
	var res result
	if err := s.submitWait(ctx, t); err != nil {
		res.err = err
	} else {
		select {
		case res = <-t.done:
		case <-ctx.Done():
			res.err = ctx.Err()
		}
	}
	out, err := res.out, res.err
	if err != nil {
		log.Error("warm-up failed", "prompt", job.Prompt.String(), "err", err)
		return fmt.Errorf("serve: warm-up job %s: %w", job.ID, err)
	}
	out.release()
	s.ready.Store(true)
	s.metrics.ready.Set(1)
	log.Info("warm-up done", "prompt", job.Prompt.String(), "seconds", time.Since(start).Seconds())
	return nil
}
