package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Client submits jobs and waits for their results. Any number of clients
// (a tuner, a miner, a serve front end) may share one queue.
type Client struct {
	q    *Queue
	log  *slog.Logger
	cc   jetstream.ConsumeContext
	stop context.CancelFunc

	mu      sync.Mutex
	waiters map[string][]chan Result // job ID -> Do calls waiting for it
}

// NewClient starts following the results stream (from now on; results
// that arrived before are looked up per job). Close stops it.
func NewClient(ctx context.Context, q *Queue, log *slog.Logger) (*Client, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{q: q, log: log, waiters: map[string][]chan Result{}}
	var cons jetstream.Consumer
	err := retry(ctx, func(ctx context.Context) error {
		var err error
		cons, err = q.js.OrderedConsumer(ctx, ResultsStream, jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{resultsPrefix + ">"},
			DeliverPolicy:  jetstream.DeliverNewPolicy,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: results consumer: %w", err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		r, err := decodeResult(m.Subject(), m.Data())
		if err != nil {
			c.log.Warn("skipping a result", "err", err)
			return
		}
		c.deliver(r)
	}, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		c.log.Debug("results consumer", "err", err)
	}))
	if err != nil {
		return nil, fmt.Errorf("jobs: results consumer: %w", err)
	}
	c.cc = cc
	return c, nil
}

// Close stops following results; Do calls in flight return an error.
func (c *Client) Close() {
	c.cc.Drain()
	<-c.cc.Closed()
}

func (c *Client) deliver(r Result) {
	c.mu.Lock()
	ws := c.waiters[r.JobID]
	delete(c.waiters, r.JobID)
	c.mu.Unlock()
	for _, w := range ws {
		w <- r // buffered, one send each
	}
}

func (c *Client) wait(id string) (chan Result, func()) {
	ch := make(chan Result, 1)
	c.mu.Lock()
	c.waiters[id] = append(c.waiters[id], ch)
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		ws := c.waiters[id]
		for i, w := range ws {
			if w == ch {
				c.waiters[id] = append(ws[:i:i], ws[i+1:]...)
				break
			}
		}
		if len(c.waiters[id]) == 0 {
			delete(c.waiters, id)
		}
	}
}

// Do puts j on the queue and waits for its result. If a result for j.ID
// already exists (a job finished while its client was away), Do returns
// it without queueing anything; if j.ID is queued already, the stream
// drops the copy and Do waits for the one result. When ctx has a deadline
// and j none, the job takes ctx's. A job that ran and failed is a
// *JobError; the Result still carries what was measured.
//
// When ctx ends first, Do returns ctx's error and the job stays queued: a
// later Do with the same ID (a resumed sweep) picks up its result.
func (c *Client) Do(ctx context.Context, j Job) (r Result, err error) {
	if j.ID == "" {
		return Result{}, errors.New("jobs: job has no id")
	}
	if j.Deadline.IsZero() {
		if d, ok := ctx.Deadline(); ok {
			j.Deadline = d
		}
	}
	ch, unwait := c.wait(j.ID)
	defer unwait()
	start := time.Now()
	defer func() {
		// Wall time here against run time on the worker: the queue's
		// overhead when nothing waits ahead of the job.
		if r.JobID != "" {
			c.log.Debug("job answered", "job", j.ID, "worker", r.Worker, "attempt", r.Attempt,
				"wall_s", time.Since(start).Seconds(), "run_s", r.Finished.Sub(r.Received).Seconds())
		}
	}()
	if prior, ok, err := c.q.lastResult(ctx, j.ID); err != nil {
		return Result{}, fmt.Errorf("jobs: %w", err)
	} else if ok {
		return c.finish(ctx, j, prior)
	}
	if err := c.publish(ctx, j); err != nil {
		return Result{}, err
	}
	// The ordered consumer sees every result published from its start
	// on; the poll covers a result that landed while it was re-creating
	// itself after a lost connection or a cluster node going away.
	poll := time.NewTicker(5 * time.Second)
	defer poll.Stop()
	for {
		select {
		case got := <-ch:
			return c.finish(ctx, j, got)
		case <-poll.C:
			if got, ok, err := c.q.lastResult(ctx, j.ID); err == nil && ok {
				return c.finish(ctx, j, got)
			}
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}
}

// publish sends j to the jobs stream, its image through the object store
// when it is larger than the inline limit.
func (c *Client) publish(ctx context.Context, j Job) error {
	if len(j.Prompt.Image) > c.q.cfg.InlineLimit {
		ref := "in/" + token(j.ID)
		if err := c.q.putBlob(ctx, ref, j.Prompt.Image); err != nil {
			return fmt.Errorf("jobs: job %s: image prompt: %w", j.ID, err)
		}
		j.Prompt.Image, j.Prompt.ImageRef = nil, ref
	}
	if j.Submitted.IsZero() {
		j.Submitted = time.Now().UTC()
	}
	data, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("jobs: job %s: %w", j.ID, err)
	}
	msg := &nats.Msg{Subject: jobSubject(j.Kind), Data: data, Header: nats.Header{}}
	msg.Header.Set(headerJobID, j.ID)
	err = retry(ctx, func(ctx context.Context) error {
		_, err := c.q.js.PublishMsg(ctx, msg, jetstream.WithMsgID(j.ID))
		return err
	})
	if err != nil {
		return fmt.Errorf("jobs: publish job %s: %w", j.ID, err)
	}
	return nil
}

// finish fetches an output that went through the object store and cleans
// up the job's objects.
func (c *Client) finish(ctx context.Context, j Job, r Result) (Result, error) {
	if r.OutputRef != "" {
		data, err := c.q.getBlob(ctx, r.OutputRef)
		if err != nil {
			return r, fmt.Errorf("jobs: job %s: output: %w", j.ID, err)
		}
		r.Output = data
		c.q.deleteBlob(ctx, r.OutputRef)
	}
	if j.Prompt.ImageRef != "" || len(j.Prompt.Image) > c.q.cfg.InlineLimit {
		c.q.deleteBlob(ctx, "in/"+token(j.ID))
	}
	return r, r.Err()
}
