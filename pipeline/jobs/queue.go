package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config sets up the queue's streams, consumer and buckets. Every process
// that shares a server should use the same values (Open updates the
// streams to its own).
type Config struct {
	// Replicas is the streams' replication: 1 on one server, 3 on a
	// three-node cluster (default 1).
	Replicas int
	// Memory keeps the streams in memory instead of on disk (tests).
	Memory bool
	// AckWait is how long a worker may go without a progress heartbeat
	// before its job is handed to another worker (default 30 s). Workers
	// send one every AckWait/3 while a job runs, so a long job keeps its
	// worker and a dead worker's job comes back after at most AckWait.
	AckWait time.Duration
	// MaxDeliver is how many times a job is handed out before it is moved
	// to the dead-letter stream (default 3). Failures of the job itself do
	// not count: they are results. Only deliveries that ended without an
	// answer (the worker died, hung or shut down) do.
	MaxDeliver int
	// Dedup is the jobs stream's duplicate window: a job published again
	// with the same ID within it is dropped (default 1 h).
	Dedup time.Duration
	// ResultTTL is how long results stay (default 24 h); a client that
	// comes back within it finds the results of jobs it had submitted.
	ResultTTL time.Duration
	// BlobTTL is how long object-store entries stay (default 24 h).
	BlobTTL time.Duration
	// InlineLimit is the largest image prompt or output carried inside a
	// message (default 256 KiB); larger ones go through the object store.
	InlineLimit int
	// MaxBlob bounds an object a client or worker will read (default
	// 512 MiB): nothing on the queue makes a process allocate without bound.
	MaxBlob int64
	// WorkerTTL is how long a worker's heartbeat entry lives without being
	// renewed (default 15 s); workers renew it every WorkerTTL/3.
	WorkerTTL time.Duration
}

func (c Config) withDefaults() Config {
	if c.Replicas < 1 {
		c.Replicas = 1
	}
	if c.AckWait <= 0 {
		c.AckWait = 30 * time.Second
	}
	if c.MaxDeliver < 1 {
		c.MaxDeliver = 3
	}
	if c.Dedup <= 0 {
		c.Dedup = time.Hour
	}
	if c.ResultTTL <= 0 {
		c.ResultTTL = 24 * time.Hour
	}
	if c.BlobTTL <= 0 {
		c.BlobTTL = 24 * time.Hour
	}
	if c.InlineLimit <= 0 {
		c.InlineLimit = 256 << 10
	}
	if c.MaxBlob <= 0 {
		c.MaxBlob = 512 << 20
	}
	if c.WorkerTTL <= 0 {
		c.WorkerTTL = 15 * time.Second
	}
	return c
}

// Queue is one connection's view of the job queue: the streams, the
// workers' consumer, the heartbeat bucket and the object store.
type Queue struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	cfg     Config
	jobs    jetstream.Stream
	results jetstream.Stream
	dead    jetstream.Stream
	cons    jetstream.Consumer
	workers jetstream.KeyValue
	blobs   jetstream.ObjectStore
}

// Open creates (or updates) the queue's streams, consumer and buckets on
// the server nc is connected to. The caller keeps owning nc.
func Open(ctx context.Context, nc *nats.Conn, cfg Config) (*Queue, error) {
	cfg = cfg.withDefaults()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jobs: jetstream: %w", err)
	}
	q := &Queue{nc: nc, js: js, cfg: cfg}
	storage := jetstream.FileStorage
	if cfg.Memory {
		storage = jetstream.MemoryStorage
	}
	// A cluster that is still electing its leaders answers "unavailable"
	// for a moment: retry within ctx.
	err = retry(ctx, func(ctx context.Context) error {
		var err error
		q.jobs, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name: JobsStream, Subjects: []string{jobsPrefix + ">"},
			Retention: jetstream.WorkQueuePolicy, Storage: storage, Replicas: cfg.Replicas,
			Duplicates: cfg.Dedup,
		})
		if err != nil {
			return fmt.Errorf("stream %s: %w", JobsStream, err)
		}
		q.results, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name: ResultsStream, Subjects: []string{resultsPrefix + ">"},
			Storage: storage, Replicas: cfg.Replicas, MaxAge: cfg.ResultTTL,
			MaxMsgsPerSubject: 1, Duplicates: cfg.Dedup,
		})
		if err != nil {
			return fmt.Errorf("stream %s: %w", ResultsStream, err)
		}
		q.dead, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name: DeadStream, Subjects: []string{deadPrefix + ">"},
			Storage: storage, Replicas: cfg.Replicas, MaxAge: 7 * 24 * time.Hour,
		})
		if err != nil {
			return fmt.Errorf("stream %s: %w", DeadStream, err)
		}
		// One more delivery than MaxDeliver: the last one is how a worker
		// learns that the job has used up its attempts and dead-letters it.
		q.cons, err = q.jobs.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
			Durable: ConsumerName, AckPolicy: jetstream.AckExplicitPolicy,
			AckWait: cfg.AckWait, MaxDeliver: cfg.MaxDeliver + 1, MaxAckPending: -1,
			Replicas: cfg.Replicas, MemoryStorage: cfg.Memory,
		})
		if err != nil {
			return fmt.Errorf("consumer %s: %w", ConsumerName, err)
		}
		q.workers, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: WorkersBucket, TTL: cfg.WorkerTTL, Storage: storage, Replicas: cfg.Replicas,
		})
		if err != nil {
			return fmt.Errorf("bucket %s: %w", WorkersBucket, err)
		}
		q.blobs, err = js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket: BlobBucket, TTL: cfg.BlobTTL, Storage: storage, Replicas: cfg.Replicas,
		})
		if err != nil {
			return fmt.Errorf("bucket %s: %w", BlobBucket, err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return q, nil
}

// Conn is the queue's connection.
func (q *Queue) Conn() *nats.Conn { return q.nc }

// retry runs f until it succeeds, fails with an error that waiting will
// not fix, or ctx ends. Each attempt gets at most attemptTimeout: a
// cluster without a leader leaves requests unanswered.
func retry(ctx context.Context, f func(ctx context.Context) error) error {
	delay := 50 * time.Millisecond
	for {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		err := f(actx)
		cancel()
		if err == nil || ctx.Err() != nil || !transient(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

const attemptTimeout = 5 * time.Second

// transient reports errors that a cluster electing a leader, or a client
// reconnecting to another node, gives for a while.
func transient(err error) bool {
	if errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrDisconnected) {
		return true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		// 503: no leader yet / JetStream temporarily unavailable.
		return apiErr.Code == 503 || apiErr.ErrorCode == jetstream.JSErrCodeJetStreamNotEnabled
	}
	return false
}

// putBlob stores data in the object store under name.
func (q *Queue) putBlob(ctx context.Context, name string, data []byte) error {
	return retry(ctx, func(ctx context.Context) error {
		_, err := q.blobs.PutBytes(ctx, name, data)
		return err
	})
}

// getBlob reads the object name, refusing one larger than MaxBlob.
func (q *Queue) getBlob(ctx context.Context, name string) ([]byte, error) {
	res, err := q.blobs.Get(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", name, err)
	}
	defer res.Close()
	info, err := res.Info()
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", name, err)
	}
	if int64(info.Size) > q.cfg.MaxBlob {
		return nil, fmt.Errorf("object %s: %d bytes, over the %d-byte limit", name, info.Size, q.cfg.MaxBlob)
	}
	data, err := io.ReadAll(io.LimitReader(res, q.cfg.MaxBlob+1))
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", name, err)
	}
	return data, nil
}

func (q *Queue) deleteBlob(ctx context.Context, name string) {
	if name != "" {
		_ = q.blobs.Delete(ctx, name)
	}
}

// lastResult returns the stored result of job id, if there is one.
func (q *Queue) lastResult(ctx context.Context, id string) (Result, bool, error) {
	subj := resultSubject(id)
	var m *jetstream.RawStreamMsg
	err := retry(ctx, func(ctx context.Context) error {
		var err error
		m, err = q.results.GetLastMsgForSubject(ctx, subj)
		return err
	})
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return Result{}, false, nil
	}
	if err != nil {
		return Result{}, false, fmt.Errorf("result of %s: %w", id, err)
	}
	r, err := decodeResult(subj, m.Data)
	if err != nil {
		return r, false, err
	}
	return r, true, nil
}

// PurgeJobs drops every job waiting or running on the queue and reports
// how many there were. Only for a queue that one process owns (an
// embedded server starting a new sweep): jobs left by a killed earlier
// run would otherwise take the workers first.
func (q *Queue) PurgeJobs(ctx context.Context) (uint64, error) {
	si, err := q.jobs.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("jobs: stream %s: %w", JobsStream, err)
	}
	if si.State.Msgs == 0 {
		return 0, nil
	}
	if err := q.jobs.Purge(ctx); err != nil {
		return 0, fmt.Errorf("jobs: purge %s: %w", JobsStream, err)
	}
	return si.State.Msgs, nil
}
