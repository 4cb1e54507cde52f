// Package pod owns the live competition's batch pod service: the four
// endpoints the subnet's orchestrator drives a miner's Docker image through
// (GET /health, GET /status, POST /generate, GET /results), the state
// machine behind them (warming_up → ready → generating ⇄ complete, and
// replace), the batch that runs in the background on one generator per
// GPU, the prompt-image downloads, and the results ZIP. It sees the
// generation only through the Generator interface.
//
// Reliability comes first, as the subnet scores it: a prompt whose image
// does not download or whose generation fails or panics becomes an entry of
// _failed.json, never a failed batch; /status never waits for generation
// work; the same set of stems posted again is a retry, not a new batch.
package pod

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/splatbench/splatbench/pipeline/imagefile"
)

// Generator makes one Three.js ES module (the source bytes) from a decoded
// prompt image. stem names the prompt in logs and errors; seed is the
// round's seed. The pod calls each Generator from one goroutine at a time.
type Generator interface {
	Generate(ctx context.Context, img image.Image, stem string, seed int64) ([]byte, error)
}

// GeneratorFunc adapts a function to Generator.
type GeneratorFunc func(ctx context.Context, img image.Image, stem string, seed int64) ([]byte, error)

// Generate calls f.
func (f GeneratorFunc) Generate(ctx context.Context, img image.Image, stem string, seed int64) ([]byte, error) {
	return f(ctx, img, stem, seed)
}

// Options configure a Server. Start from DefaultOptions.
type Options struct {
	// Image bounds every downloaded prompt image (bytes and pixels),
	// checked before any pixel buffer exists.
	Image imagefile.Limits
	// DownloadTimeout bounds one download attempt.
	DownloadTimeout time.Duration
	// DownloadAttempts is how many times a download is tried when the
	// failure may be transient (network errors, 5xx, 429).
	DownloadAttempts int
	// RetryBackoff is the wait before the second attempt; it doubles.
	RetryBackoff time.Duration
	// Downloads is how many images download at once.
	Downloads int
	// PromptTimeout bounds one prompt's generation.
	PromptTimeout time.Duration
	// MaxModuleBytes refuses a module larger than the output spec's 1 MB.
	MaxModuleBytes int
	// MaxPrompts caps one batch (the subnet sends 32).
	MaxPrompts int
	// MaxBodyBytes caps a POST /generate body.
	MaxBodyBytes int64
	// Client downloads the images; nil means a client of its own.
	Client *http.Client
	// ShutdownTimeout bounds the graceful shutdown in Serve.
	ShutdownTimeout time.Duration
}

// DefaultOptions: 4096² px and 64 MiB per image, 30 s per download attempt,
// 4 attempts from 1 s backoff, 8 downloads at once, 10 min per prompt
// (a batch of 32 on 4 GPUs has about 30 min), modules up to 1 MB.
func DefaultOptions() Options {
	return Options{
		Image:            imagefile.Limits{MaxPixels: imagefile.DefaultMaxPixels, MaxBytes: imagefile.DefaultMaxBytes},
		DownloadTimeout:  30 * time.Second,
		DownloadAttempts: 4,
		RetryBackoff:     time.Second,
		Downloads:        8,
		PromptTimeout:    10 * time.Minute,
		MaxModuleBytes:   1 << 20,
		MaxPrompts:       256,
		MaxBodyBytes:     1 << 20,
		ShutdownTimeout:  10 * time.Second,
	}
}

func (o Options) validate() error {
	var errs []error
	pos := func(name string, v int64) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("pod: Options.%s = %d: must be positive", name, v))
		}
	}
	pos("DownloadTimeout", int64(o.DownloadTimeout))
	pos("DownloadAttempts", int64(o.DownloadAttempts))
	pos("Downloads", int64(o.Downloads))
	pos("PromptTimeout", int64(o.PromptTimeout))
	pos("MaxModuleBytes", int64(o.MaxModuleBytes))
	pos("MaxPrompts", int64(o.MaxPrompts))
	pos("MaxBodyBytes", o.MaxBodyBytes)
	if o.RetryBackoff < 0 {
		errs = append(errs, fmt.Errorf("pod: Options.RetryBackoff = %v: must not be negative", o.RetryBackoff))
	}
	return errors.Join(errs...)
}

// Status values of GET /status.
const (
	WarmingUp  = "warming_up"
	Ready      = "ready"
	Generating = "generating"
	Complete   = "complete"
	Replace    = "replace"
)

// Server is the pod service. New makes it; Serve (or Close, when only
// Handler is used) stops it.
type Server struct {
	opts   Options
	gens   []Generator
	busy   []sync.Mutex // held while a worker's generator runs
	log    *slog.Logger
	client *http.Client

	ctx    context.Context // cancelled by Close: stops the batch in flight
	cancel context.CancelFunc
	wg     sync.WaitGroup // the batch in flight and the warm-up

	mu        sync.Mutex
	phase     string // WarmingUp, Ready, Generating or Complete
	stage     string // warm-up stage, for the payload
	health    *HealthReport
	remaining int  // replacements_remaining last seen on /status
	known     bool // whether /status has told it
	started   bool // a batch has been accepted on this pod
	cur       *batch
	closed    bool
}

// New validates opts and makes a pod with one worker per generator (one per
// GPU). It starts in warming_up; Warmup (or SetReady) makes it ready.
func New(opts Options, gens []Generator, log *slog.Logger) (*Server, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if len(gens) == 0 {
		return nil, errors.New("pod: no generators: need one per GPU (or CPU worker)")
	}
	for i, g := range gens {
		if g == nil {
			return nil, fmt.Errorf("pod: generator %d is nil", i)
		}
	}
	if log == nil {
		return nil, errors.New("pod: nil logger")
	}
	client := opts.Client
	if client == nil {
		client = &http.Client{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		opts: opts, gens: gens, busy: make([]sync.Mutex, len(gens)), log: log, client: client,
		ctx: ctx, cancel: cancel,
		phase: WarmingUp, stage: "starting",
	}, nil
}

// Close cancels the batch in flight and waits for its workers. Prompts it
// had not finished become failures, so the pod ends complete. Idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// SetStage names what the warm-up is doing; /status shows it in payload.
func (s *Server) SetStage(stage string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stage = stage
}

// SetReady ends the warm-up: the pod answers ready (or replace, when h
// says a GPU failed and the orchestrator can spare a pod). A nil h means
// no health check ran.
func (s *Server) SetReady(h *HealthReport) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.health = h
	if s.phase == WarmingUp {
		s.phase = Ready
	}
	s.log.Info("pod ready", "workers", len(s.gens), "gpu_health_passed", h == nil || h.AllPassed)
}

// Warmup runs every generator once on img, all at once (each on its own
// GPU), then calls SetReady(h). A generator that fails its warm-up is an
// error and the pod stays warming_up: it cannot serve a batch.
func (s *Server) Warmup(ctx context.Context, img image.Image, h *HealthReport) error {
	s.SetStage("warm-up generation")
	errs := make([]error, len(s.gens))
	var wg sync.WaitGroup
	for i, g := range s.gens {
		wg.Go(func() {
			start := time.Now()
			_, err := safeGenerate(ctx, g, img, "warmup", 1)
			if err != nil {
				errs[i] = fmt.Errorf("pod: warm-up of worker %d: %w", i, err)
				return
			}
			s.log.Info("warm-up generation", "worker", i, "seconds", time.Since(start).Seconds())
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		s.SetStage("warm-up failed")
		return err
	}
	s.SetReady(h)
	return nil
}

// safeGenerate calls g and turns a panic into an error, so one bad prompt
// cannot take the pod down.
func safeGenerate(ctx context.Context, g Generator, img image.Image, stem string, seed int64) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("generator panicked: %v", r)
		}
	}()
	return g.Generate(ctx, img, stem, seed)
}

// statusReply is GET /status's body.
type statusReply struct {
	Status   string `json:"status"`
	Progress *int   `json:"progress"`
	Total    *int   `json:"total"`
	Payload  any    `json:"payload"`
}

// snapshot answers /status. remaining < 0 means the poll did not say how
// many replacements are left. It holds s.mu only to copy a few fields.
func (s *Server) snapshot(remaining int) statusReply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if remaining >= 0 {
		s.remaining, s.known = remaining, true
	}
	if s.wantReplaceLocked() {
		return statusReply{Status: Replace, Payload: s.health}
	}
	r := statusReply{Status: s.phase}
	switch s.phase {
	case WarmingUp:
		r.Payload = map[string]string{"stage": s.stage}
	case Ready:
		if s.health != nil {
			r.Payload = s.health
		}
	case Generating, Complete:
		done, total := s.cur.done, s.cur.total
		r.Progress, r.Total = &done, &total
		r.Payload = map[string]int{"failed": s.cur.failed}
	}
	return r
}

// wantReplaceLocked is the rule for asking for a new pod: the start-up
// health check failed, the orchestrator last said it has replacements
// left (never when it said 0 or did not say), and no batch has started on
// this pod (a replacement discards the batch in flight; a pod that has
// run batches pushes through).
func (s *Server) wantReplaceLocked() bool {
	return s.health != nil && !s.health.AllPassed && s.known && s.remaining > 0 && !s.started &&
		(s.phase == Ready || s.phase == WarmingUp)
}
