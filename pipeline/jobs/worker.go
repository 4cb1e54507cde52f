package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Handler runs one job. It fills the Result's measurements and output;
// the worker fills who ran it and when. It must honour ctx (the job's
// deadline, the worker's shutdown). An error is the job's failure: it is
// sent back as the result, and the job is not run again.
type Handler interface {
	Handle(ctx context.Context, j Job) (Result, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, j Job) (Result, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, j Job) (Result, error) { return f(ctx, j) }

// Slot is one lane of a worker: a handler (one pipeline, one GPU) and the
// device it runs on.
type Slot struct {
	Handler Handler
	Device  string
}

// unhealthyAfter is how many jobs in a row must fail before a worker
// reports itself failing (a bad model path, a broken GPU).
const unhealthyAfter = 3

// WorkerInfo is a worker's heartbeat entry in the workers bucket: who it
// is, what it runs on and how it is doing.
type WorkerInfo struct {
	ID      string    `json:"id"`
	Host    string    `json:"host"`
	Version string    `json:"version"`
	Profile string    `json:"profile,omitempty"`
	Devices []string  `json:"devices"`
	Started time.Time `json:"started"`
	Seen    time.Time `json:"seen"`
	Busy    int       `json:"busy"`
	Done    int64     `json:"done"`
	Failed  int64     `json:"failed"`
	// Redelivered counts jobs this worker got that another delivery had
	// had before; Skipped the ones it found already answered.
	Redelivered int64 `json:"redelivered"`
	Skipped     int64 `json:"skipped"`
	// JobSeconds is the summed run time of the jobs it finished.
	JobSeconds float64 `json:"job_seconds"`
	// Health is "ok", or "failing: ..." after several failed jobs in a
	// row, with the last error.
	Health string `json:"health"`
}

// Worker pulls jobs, one per slot at a time, runs them and publishes
// their results. It keeps no state between jobs: everything lives in the
// streams, so any number of workers on any number of hosts may share a
// queue, and one can die at any moment.
type Worker struct {
	q     *Queue
	slots []Slot
	log   *slog.Logger
	m     *workerMetrics

	info       WorkerInfo
	failStreak int        // jobs failed in a row; guarded by mu
	mu         sync.Mutex // guards info and failStreak
	busy       atomic.Int32
	health     atomic.Value // string
}

// WorkerOptions name a worker.
type WorkerOptions struct {
	// ID names the worker (default host-pid).
	ID      string
	Version string
	Profile string
	// Metrics, when not nil, counts jobs per outcome.
	Metrics *WorkerMetrics
}

// NewWorker returns a worker with one lane per slot.
func NewWorker(q *Queue, slots []Slot, o WorkerOptions, log *slog.Logger) (*Worker, error) {
	if len(slots) == 0 {
		return nil, errors.New("jobs: a worker needs at least one slot")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	host, _ := os.Hostname()
	if o.ID == "" {
		o.ID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	devs := make([]string, len(slots))
	for i, s := range slots {
		devs[i] = s.Device
	}
	w := &Worker{q: q, slots: slots, log: log.With("worker", o.ID),
		info: WorkerInfo{ID: o.ID, Host: host, Version: o.Version, Profile: o.Profile, Devices: devs, Started: time.Now().UTC()}}
	if o.Metrics != nil {
		w.m = o.Metrics.m
	}
	w.health.Store("ok")
	return w, nil
}

// ID is the worker's name.
func (w *Worker) ID() string { return w.info.ID }

// Info is the worker's current heartbeat entry.
func (w *Worker) Info() WorkerInfo {
	w.mu.Lock()
	defer w.mu.Unlock()
	in := w.info
	in.Busy = int(w.busy.Load())
	in.Health = w.health.Load().(string)
	in.Seen = time.Now().UTC()
	return in
}

// Run pulls and runs jobs until ctx ends or the connection closes. A job
// running when ctx ends is handed back at once (Nak) for another worker.
func (w *Worker) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { w.heartbeat(ctx) })
	errs := make([]error, len(w.slots))
	for i := range w.slots {
		wg.Go(func() {
			errs[i] = w.lane(ctx, i)
			cancel() // one lane losing the connection stops the worker
		})
	}
	wg.Wait()
	// A clean stop removes the entry at once; a crash leaves it to expire.
	if w.q.nc.IsConnected() {
		dctx, dcancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = w.q.workers.Delete(dctx, workerKey(w.info.ID))
		dcancel()
	}
	return errors.Join(errs...)
}

func workerKey(id string) string {
	// KV keys allow [-/_=.a-zA-Z0-9].
	return "w." + strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '=':
			return r
		}
		return '_'
	}, id)
}

// heartbeat renews the worker's entry every WorkerTTL/3.
func (w *Worker) heartbeat(ctx context.Context) {
	t := time.NewTicker(w.q.cfg.WorkerTTL / 3)
	defer t.Stop()
	for {
		info, _ := json.Marshal(w.Info())
		hctx, cancel := context.WithTimeout(ctx, w.q.cfg.WorkerTTL/3)
		if _, err := w.q.workers.Put(hctx, workerKey(w.info.ID), info); err != nil && ctx.Err() == nil {
			w.log.Debug("heartbeat", "err", err)
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// lane is one slot's loop: fetch one job, run it, answer, repeat. One at
// a time, so a busy lane never holds a job another worker could run.
func (w *Worker) lane(ctx context.Context, slot int) error {
	for ctx.Err() == nil {
		if w.q.nc.IsClosed() {
			return fmt.Errorf("jobs: worker %s: %w", w.info.ID, nats.ErrConnectionClosed)
		}
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		batch, err := w.q.cons.Fetch(1, jetstream.FetchContext(fctx))
		if err != nil {
			cancel()
			if ctx.Err() == nil {
				w.log.Debug("fetch", "err", err)
				pause(ctx, 200*time.Millisecond)
			}
			continue
		}
		for m := range batch.Messages() {
			w.handle(ctx, slot, m)
		}
		if err := batch.Error(); err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) &&
			!errors.Is(err, nats.ErrTimeout) {
			w.log.Debug("fetch", "err", err)
			pause(ctx, 200*time.Millisecond)
		}
		cancel()
	}
	return nil
}

func pause(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// handle runs one delivery of a job and answers it.
func (w *Worker) handle(ctx context.Context, slot int, m jetstream.Msg) {
	received := time.Now().UTC()
	delivered := uint64(1)
	if md, err := m.Metadata(); err == nil {
		delivered = md.NumDelivered
	}
	if delivered > 1 {
		w.count(func(in *WorkerInfo) { in.Redelivered++ })
		w.m.redelivered()
	}
	j, err := decodeJob(m.Subject(), m.Data())
	if err != nil {
		// Not a job this version understands: it would fail everywhere.
		w.log.Warn("dead-lettering a message", "err", err)
		w.deadLetter(ctx, m, err.Error())
		if id := m.Headers().Get(headerJobID); id != "" {
			w.answer(ctx, m, Result{JobID: id, Error: err.Error(), Received: received, Attempt: int(delivered)})
		}
		return
	}
	base := Result{JobID: j.ID, Kind: j.Kind, Worker: w.info.ID, Host: w.info.Host, Device: w.slots[slot].Device,
		Attempt: int(delivered), Submitted: j.Submitted, Received: received}

	// A job that has been answered already (its first worker finished
	// just as the ack wait ran out) is not run again.
	if _, ok, err := w.q.lastResult(ctx, j.ID); err == nil && ok {
		w.count(func(in *WorkerInfo) { in.Skipped++ })
		w.m.outcome(j.Kind, "duplicate")
		_ = m.Ack()
		return
	}
	if int(delivered) > w.q.cfg.MaxDeliver {
		reason := fmt.Sprintf("handed out %d times without an answer (a worker died or stalled each time)", delivered-1)
		w.log.Warn("dead-lettering a job", "job", j.ID, "reason", reason)
		w.deadLetter(ctx, m, reason)
		base.Error = "dead-lettered: " + reason
		w.answerAndCount(ctx, m, j, base, "dead")
		return
	}
	if !j.Deadline.IsZero() && !received.Before(j.Deadline) {
		base.Error = fmt.Sprintf("expired: its deadline %s passed before a worker took it", j.Deadline.Format(time.RFC3339))
		w.answerAndCount(ctx, m, j, base, "expired")
		return
	}
	if j.Prompt.ImageRef != "" {
		img, err := w.q.getBlob(ctx, j.Prompt.ImageRef)
		if err != nil {
			base.Error = "image prompt: " + err.Error()
			w.answerAndCount(ctx, m, j, base, "failed")
			return
		}
		j.Prompt.Image, j.Prompt.ImageRef = img, ""
	}

	jctx, cancel := context.WithCancel(ctx)
	if !j.Deadline.IsZero() {
		jctx, cancel = context.WithDeadline(ctx, j.Deadline)
	}
	defer cancel()
	w.busy.Add(1)
	defer w.busy.Add(-1)
	w.m.running(1)
	defer w.m.running(-1)
	hbDone := make(chan struct{})
	var hbWG sync.WaitGroup
	hbWG.Go(func() { w.progress(hbDone, m) })
	start := time.Now()
	res, err := w.run(jctx, slot, j)
	close(hbDone)
	hbWG.Wait()
	if ctx.Err() != nil {
		// The worker is stopping: hand the job to another one now
		// rather than after the ack wait.
		_ = m.Nak()
		w.m.outcome(j.Kind, "handed-back")
		return
	}
	res.JobID, res.Kind, res.Worker, res.Host, res.Attempt = base.JobID, base.Kind, base.Worker, base.Host, base.Attempt
	res.Submitted, res.Received, res.Finished = base.Submitted, base.Received, time.Now().UTC()
	if res.Device == "" {
		res.Device = base.Device
	}
	if res.TotalSeconds == 0 {
		res.TotalSeconds = time.Since(start).Seconds()
	}
	outcome := "done"
	if err != nil {
		res.Error, outcome = err.Error(), "failed"
		w.log.Warn("job failed", "job", j.ID, "err", err)
	}
	w.m.observe(j.Kind, res)
	w.answerAndCount(ctx, m, j, res, outcome)
}

// run calls the slot's handler, turning a panic into the job's error.
func (w *Worker) run(ctx context.Context, slot int, j Job) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("worker panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return w.slots[slot].Handler.Handle(ctx, j)
}

// progress tells the server the job is still being worked on, every
// AckWait/3, until done closes.
func (w *Worker) progress(done <-chan struct{}, m jetstream.Msg) {
	t := time.NewTicker(w.q.cfg.AckWait / 3)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if err := m.InProgress(); err != nil {
				w.log.Debug("progress heartbeat", "err", err)
			}
		}
	}
}

func (w *Worker) answerAndCount(ctx context.Context, m jetstream.Msg, j Job, r Result, outcome string) {
	if w.answer(ctx, m, r) {
		var streak int
		w.count(func(in *WorkerInfo) {
			if r.Error == "" {
				in.Done++
				in.JobSeconds += r.TotalSeconds
				w.failStreak = 0
			} else {
				in.Failed++
				w.failStreak++
			}
			streak = w.failStreak
		})
		if streak >= unhealthyAfter {
			msg := r.Error
			if len(msg) > 200 {
				msg = msg[:200] + "…"
			}
			w.health.Store(fmt.Sprintf("failing: %d jobs in a row; last: %s", streak, msg))
		} else {
			w.health.Store("ok")
		}
		w.m.outcome(j.Kind, outcome)
	}
}

// answer publishes r (its output through the object store when large)
// and acknowledges the job. The result's message ID is the job's, so a
// second answer to one job is dropped by the stream. When the result
// cannot be published the job is handed back (Nak) and answer reports
// false.
func (w *Worker) answer(ctx context.Context, m jetstream.Msg, r Result) bool {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if len(r.Output) > w.q.cfg.InlineLimit {
		ref := "out/" + token(r.JobID)
		if err := w.q.putBlob(actx, ref, r.Output); err != nil {
			w.log.Warn("output to the object store", "job", r.JobID, "err", err)
			_ = m.Nak()
			return false
		}
		r.Output, r.OutputRef = nil, ref
	}
	data, err := json.Marshal(r)
	if err != nil {
		w.log.Error("result", "job", r.JobID, "err", err)
		_ = m.Term()
		return false
	}
	err = retry(actx, func(actx context.Context) error {
		_, err := w.q.js.Publish(actx, resultSubject(r.JobID), data, jetstream.WithMsgID("result:"+r.JobID))
		return err
	})
	if err != nil {
		w.log.Warn("publishing a result", "job", r.JobID, "err", err)
		_ = m.Nak()
		return false
	}
	if err := m.DoubleAck(actx); err != nil {
		// The result is stored; a redelivery finds it and is skipped.
		w.log.Debug("ack", "job", r.JobID, "err", err)
	}
	return true
}

// deadLetter copies the delivery to the dead-letter stream with the
// reason and terminates it on the jobs stream.
func (w *Worker) deadLetter(ctx context.Context, m jetstream.Msg, reason string) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	kind := strings.TrimPrefix(m.Subject(), jobsPrefix)
	msg := &nats.Msg{Subject: deadSubject(Kind(kind)), Data: m.Data(), Header: nats.Header{}}
	msg.Header.Set(headerReason, reason)
	if id := m.Headers().Get(headerJobID); id != "" {
		msg.Header.Set(headerJobID, id)
	}
	if _, err := w.q.js.PublishMsg(actx, msg); err != nil {
		w.log.Error("dead-letter", "err", err)
	}
	_ = m.TermWithReason(reason)
}

func (w *Worker) count(f func(*WorkerInfo)) {
	w.mu.Lock()
	f(&w.info)
	w.mu.Unlock()
}
