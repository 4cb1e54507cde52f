package serve

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"log/slog"

	"github.com/splatbench/splatbench/pipeline"
)

var (
	errQueueFull    = errors.New("every worker is busy and the queue is full")
	errShuttingDown = errors.New("the service is shutting down")
)

// task is one accepted generation request on its way through the queue.
type task struct {
	ctx     context.Context
	job     pipeline.Job
	log     *slog.Logger
	done    chan result // buffered: the worker never waits for the handler
	cleanup func()      // removes the uploaded image, if any
	once    sync.Once
	seq     uint64 // its number in the order of submission (from 1)
	onStart func() // called when a worker starts it, when set
}

type result struct {
	out *output
	err error
}

func newTask(ctx context.Context, job pipeline.Job, log *slog.Logger, cleanup func()) *task {
	return &task{ctx: ctx, job: job, log: log, done: make(chan result, 1), cleanup: cleanup}
}

// finish ends the task exactly once: cleans up and hands r to the handler
// (which may have stopped waiting).
func (t *task) finish(r result) {
	t.once.Do(func() {
		if t.cleanup != nil {
			t.cleanup()
		}
		t.done <- r
	})
}

// submit puts t on the queue without waiting: errQueueFull when every
// worker is busy and QueueSize requests already wait.
func (s *Server) submit(t *task) error {
	s.admit.RLock()
	defer s.admit.RUnlock()
	if s.stopping.Load() {
		return errShuttingDown
	}
	s.seqMu.Lock()
	defer s.seqMu.Unlock()
	s.metrics.queueDepth.Inc()
	t.seq = s.enqueued + 1
	select {
	case s.queue <- t:
		s.enqueued++
		return nil
	default:
		s.metrics.queueDepth.Dec()
		return errQueueFull
	}
}

// submitSeq is submit that also returns t's number in the order of
// submission, for its queue position.
func (s *Server) submitSeq(t *task) (uint64, error) {
	err := s.submit(t)
	return t.seq, err
}

// submitWait puts t on the queue, waiting for room.
func (s *Server) submitWait(ctx context.Context, t *task) error {
	s.admit.RLock()
	defer s.admit.RUnlock()
	if s.stopping.Load() {
		return errShuttingDown
	}
	s.metrics.queueDepth.Inc()
	select {
	case s.queue <- t:
		// Counted after the wait: a submission racing it may see its
		// queue position off by one.
		s.seqMu.Lock()
		s.enqueued++
		t.seq = s.enqueued
		s.seqMu.Unlock()
		return nil
	case <-ctx.Done():
		s.metrics.queueDepth.Dec()
		return ctx.Err()
	case <-s.quit:
		s.metrics.queueDepth.Dec()
		return errShuttingDown
	}
}

// worker runs queued tasks until Close. A task whose request has given
// up (deadline, client gone) is dropped without generating.
func (s *Server) worker(id int) {
	defer s.wg.Done()
	for {
		select {
		case <-s.quit:
			return
		case t := <-s.queue:
			s.metrics.queueDepth.Dec()
			s.dequeued.Add(1)
			select {
			case <-s.quit: // Close answers what is still queued
				t.finish(result{err: errShuttingDown})
				continue
			default:
			}
			if err := t.ctx.Err(); err != nil {
				t.log.Info("dropped before generation", "worker", id, "err", err)
				t.finish(result{err: err})
				continue
			}
			t.log.Debug("generation starts", "worker", id)
			if t.onStart != nil {
				t.onStart()
			}
			out, err := s.generate(t.ctx, t.job, t.log)
			t.finish(result{out: out, err: err})
		}
	}
}

// Pool is a Generator that lends each call one of several generators
// (one per GPU), waiting for a free one. Give the service as many
// generators as Options.Workers and no call ever waits.
type Pool struct{ free chan Generator }

// NewPool returns a pool of gens.
func NewPool(gens ...Generator) *Pool {
	p := &Pool{free: make(chan Generator, len(gens))}
	for _, g := range gens {
		p.free <- g
	}
	return p
}

// Generate runs job on a free member of the pool.
func (p *Pool) Generate(ctx context.Context, job pipeline.Job) (*pipeline.State, []pipeline.Timing, error) {
	select {
	case g := <-p.free:
		defer func() { p.free <- g }()
		return g.Generate(ctx, job)
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
}

// ewma is a moving average of generation seconds (weight 0.2 on the
// newest) used to advise Retry-After.
type ewma struct {
	mu sync.Mutex
	v  float64
	n  int
}

func (e *ewma) add(x float64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == 0 {
		e.v = x
	} else {
		e.v = 0.8*e.v + 0.2*x
	}
	e.n++
}

func (e *ewma) value() float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.v
}

// retryAfter is the advice sent with 429: a slot frees when the next
// running generation ends, on average every avg/workers seconds; at least
// one second.
func retryAfter(avgSeconds float64, workers int) time.Duration {
	secs := math.Ceil(avgSeconds / float64(max(workers, 1)))
	if math.IsNaN(secs) || secs < 1 {
		secs = 1
	}
	return time.Duration(secs) * time.Second
}
