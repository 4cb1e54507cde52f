package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestRoundTripThroughObjectStore(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	cfg := fastConfig()
	cfg.InlineLimit = 1 << 10
	q := openQueue(t, s.ClientURL(), cfg)
	c := newClient(t, q)

	small, large := bytes.Repeat([]byte{7}, 100), bytes.Repeat([]byte("splat"), 300<<10) // 1.5 MB
	var mu sync.Mutex
	seen := map[string][]byte{}
	runWorker(t, q, "w1", HandlerFunc(func(ctx context.Context, j Job) (Result, error) {
		mu.Lock()
		seen[j.ID] = j.Prompt.Image
		mu.Unlock()
		// Echo the image as the output, so both directions are checked.
		return Result{Output: append([]byte(nil), j.Prompt.Image...), Format: "spz"}, nil
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name string
		img  []byte
	}{{"inline", small}, {"object store", large}} {
		id := "rt/" + tc.name
		r, err := c.Do(ctx, Job{ID: id, Kind: KindGenerate, Prompt: Prompt{Image: tc.img, ImageName: "x.png"}})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		mu.Lock()
		got := seen[id]
		mu.Unlock()
		if !bytes.Equal(got, tc.img) {
			t.Errorf("%s: worker saw a %d-byte image, want %d bytes", tc.name, len(got), len(tc.img))
		}
		if !bytes.Equal(r.Output, tc.img) || r.Format != "spz" || r.OutputRef != "" && r.Output == nil {
			t.Errorf("%s: output %d bytes (ref %q), want the %d-byte echo", tc.name, len(r.Output), r.OutputRef, len(tc.img))
		}
		if r.Worker != "w1" || r.Attempt != 1 || r.Device != "test:0" {
			t.Errorf("%s: worker %q attempt %d device %q", tc.name, r.Worker, r.Attempt, r.Device)
		}
	}
	// The objects of finished jobs are cleaned up.
	lister, err := q.blobs.List(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
		t.Fatal(err)
	}
	if len(lister) != 0 {
		t.Errorf("%d objects left in the store after the jobs finished", len(lister))
	}
}

// A worker killed in the middle of a job: the job goes to another worker
// after the ack wait and is finished exactly once.
func TestWorkerKilledMidJob(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	cfg := fastConfig()
	qa := openQueue(t, s.ClientURL(), cfg)
	qb := openQueue(t, s.ClientURL(), cfg)
	qc := openQueue(t, s.ClientURL(), cfg)
	c := newClient(t, qc)

	cnt := newCounter()
	took := make(chan struct{})
	var once sync.Once
	stopA := runWorker(t, qa, "victim", HandlerFunc(func(ctx context.Context, j Job) (Result, error) {
		cnt.start(j.ID)
		once.Do(func() { close(took) })
		<-ctx.Done() // runs until killed
		return Result{}, ctx.Err()
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type answer struct {
		r   Result
		err error
	}
	done := make(chan answer, 1)
	go func() {
		r, err := c.Do(ctx, Job{ID: "killed/1", Kind: KindTrial, Seed: 42})
		done <- answer{r, err}
	}()
	<-took
	// Kill: the connection drops with the job unacknowledged.
	qa.nc.Close()
	stopA()
	runWorker(t, qb, "survivor", sleeper(cnt, 10*time.Millisecond))
	a := <-done
	if a.err != nil {
		t.Fatal(a.err)
	}
	if a.r.Worker != "survivor" || a.r.Attempt != 2 || a.r.Scores["score"] != 42 {
		t.Errorf("result from %q, attempt %d, score %v: want survivor's second delivery, score 42", a.r.Worker, a.r.Attempt, a.r.Scores)
	}
	started, finished := cnt.counts("killed/1")
	if started != 2 || finished != 1 {
		t.Errorf("job started %d times, finished %d: want 2 and 1", started, finished)
	}
	waitFor(t, 5*time.Second, "the queue to drain", func() bool {
		st, err := qc.Stats(ctx)
		return err == nil && st.Pending == 0 && st.InFlight == 0
	})
	if st, _ := qc.Stats(ctx); st.Results != 1 {
		t.Errorf("%d results stored, want 1", st.Results)
	}
}

// One job ID is one job: concurrent submissions, a later one, and a job
// whose result already exists are all answered by one run.
func TestDuplicateJobsRunOnce(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	q := openQueue(t, s.ClientURL(), fastConfig())
	c := newClient(t, q)
	cnt := newCounter()
	runWorker(t, q, "w", sleeper(cnt, 50*time.Millisecond), sleeper(cnt, 50*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for range 5 {
		wg.Go(func() {
			r, err := c.Do(ctx, Job{ID: "dup/1", Kind: KindGenerate, Seed: 3})
			if err == nil && r.Scores["score"] != 3 {
				err = fmt.Errorf("score %v", r.Scores)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Do(ctx, Job{ID: "dup/1", Kind: KindGenerate, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	if started, finished := cnt.counts("dup/1"); started != 1 || finished != 1 {
		t.Errorf("dup/1 started %d, finished %d times: want once", started, finished)
	}

	// A redelivered job whose first worker did answer (the result exists)
	// is skipped by the worker: publish the job behind the client's back.
	if _, err := c.Do(ctx, Job{ID: "dup/2", Kind: KindGenerate}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.js.Publish(ctx, jobSubject(KindGenerate), []byte(`{"id":"dup/2","kind":"generate"}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the copy to be consumed", func() bool {
		st, err := q.Stats(ctx)
		return err == nil && st.Pending == 0 && st.InFlight == 0
	})
	if started, _ := cnt.counts("dup/2"); started != 1 {
		t.Errorf("dup/2 ran %d times: want once", started)
	}
}

// A job that kills every worker that takes it is dead-lettered after
// MaxDeliver deliveries, and its client gets an error, not a hang.
func TestDeadLetter(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	cfg := fastConfig()
	cfg.MaxDeliver = 2
	q := openQueue(t, s.ClientURL(), cfg)
	c := newClient(t, q)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, Job{ID: "poison/1", Kind: KindGenerate})
		errc <- err
	}()
	// Two deliveries taken and never answered: two dead workers.
	for i := range 2 {
		var m jetstream.Msg
		waitFor(t, 10*time.Second, fmt.Sprintf("delivery %d", i+1), func() bool {
			b, err := q.cons.Fetch(1, jetstream.FetchMaxWait(200*time.Millisecond))
			if err != nil {
				return false
			}
			for mm := range b.Messages() {
				m = mm
			}
			return m != nil
		})
	}
	cnt := newCounter()
	runWorker(t, q, "w", sleeper(cnt, 0))
	err := <-errc
	var je *JobError
	if !errors.As(err, &je) || !strings.Contains(je.Msg, "dead-lettered") {
		t.Fatalf("got %v, want a dead-lettered job error", err)
	}
	if started, _ := cnt.counts("poison/1"); started != 0 {
		t.Errorf("the poison job ran %d times on the last worker: want 0", started)
	}
	st, err := q.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Dead != 1 || st.Pending != 0 {
		t.Errorf("dead letters %d, pending %d: want 1 and 0", st.Dead, st.Pending)
	}
}

func TestExpiredJob(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	q := openQueue(t, s.ClientURL(), fastConfig())
	c := newClient(t, q)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cnt := newCounter()
	// The job is queued with a deadline that passes before any worker
	// exists.
	errc := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, Job{ID: "late/1", Kind: KindGenerate, Deadline: time.Now().Add(100 * time.Millisecond)})
		errc <- err
	}()
	time.Sleep(300 * time.Millisecond)
	runWorker(t, q, "w", sleeper(cnt, 0))
	err := <-errc
	var je *JobError
	if !errors.As(err, &je) || !strings.Contains(je.Msg, "expired") {
		t.Fatalf("got %v, want an expired job error", err)
	}
	if started, _ := cnt.counts("late/1"); started != 0 {
		t.Errorf("expired job ran %d times", started)
	}
}

// Workers report themselves in the bucket, and the listing forgets a
// worker that stopped.
func TestWorkersListing(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	q := openQueue(t, s.ClientURL(), fastConfig())
	c := newClient(t, q)
	cnt := newCounter()
	stop := runWorker(t, q, "gpu-host-1", sleeper(cnt, 0), sleeper(cnt, 0))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range 3 {
		if _, err := c.Do(ctx, Job{ID: fmt.Sprint("list/", i), Kind: KindTrial}); err != nil {
			t.Fatal(err)
		}
	}
	var ws []WorkerInfo
	waitFor(t, 5*time.Second, "the worker's heartbeat with 3 jobs done", func() bool {
		var err error
		ws, err = q.Workers(ctx)
		return err == nil && len(ws) == 1 && ws[0].Done == 3
	})
	if w := ws[0]; w.ID != "gpu-host-1" || len(w.Devices) != 2 || w.Version != "test" || w.Health != "ok" {
		t.Errorf("worker entry %+v", w)
	}
	stop()
	if ws, err := q.Workers(ctx); err != nil || len(ws) != 0 {
		t.Errorf("after stop: %d workers (%v), want none", len(ws), err)
	}
}

// A job that runs for several ack waits keeps its worker: the progress
// heartbeats stop the server from handing it to the idle second worker.
func TestLongJobKeepsItsWorker(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	cfg := fastConfig() // ack wait 600 ms
	q := openQueue(t, s.ClientURL(), cfg)
	c := newClient(t, q)
	cnt := newCounter()
	runWorker(t, q, "busy", sleeper(cnt, 2*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	var r Result
	go func() {
		var err error
		r, err = c.Do(ctx, Job{ID: "long/1", Kind: KindTrial})
		done <- err
	}()
	waitFor(t, 5*time.Second, "the job to start", func() bool { s, _ := cnt.counts("long/1"); return s == 1 })
	runWorker(t, openQueue(t, s.ClientURL(), cfg), "idle", sleeper(cnt, 0))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if started, _ := cnt.counts("long/1"); started != 1 || r.Attempt != 1 || r.Worker != "busy" {
		t.Errorf("started %d times, answered by %s on attempt %d: want once, by busy, attempt 1", started, r.Worker, r.Attempt)
	}
}

// A worker stopped (SIGTERM, a scale-down) in the middle of a job hands it
// back at once: another worker finishes it long before the ack wait.
func TestStoppedWorkerHandsBack(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	cfg := fastConfig()
	cfg.AckWait = time.Minute
	q := openQueue(t, s.ClientURL(), cfg)
	c := newClient(t, q)
	cnt := newCounter()
	stopA := runWorker(t, q, "stopping", sleeper(cnt, time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	var r Result
	go func() {
		var err error
		r, err = c.Do(ctx, Job{ID: "handback/1", Kind: KindTrial})
		done <- err
	}()
	waitFor(t, 5*time.Second, "the job to start", func() bool { s, _ := cnt.counts("handback/1"); return s == 1 })
	stopA()
	runWorker(t, openQueue(t, s.ClientURL(), cfg), "other", sleeper(cnt, 0))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the job was not handed back: still waiting after 10 s (ack wait 1 min)")
	}
	if r.Worker != "other" || r.Attempt != 2 {
		t.Errorf("answered by %s on attempt %d, want other on attempt 2", r.Worker, r.Attempt)
	}
}

// A worker whose jobs keep failing says so in its heartbeat, and a job
// that succeeds makes it healthy again.
func TestWorkerHealth(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	q := openQueue(t, s.ClientURL(), fastConfig())
	c := newClient(t, q)
	runWorker(t, q, "sick", HandlerFunc(func(ctx context.Context, j Job) (Result, error) {
		if j.Seed == 0 {
			return Result{}, errors.New("model /models/flux: no such file")
		}
		return Result{}, nil
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	health := func() string {
		ws, err := q.Workers(ctx)
		if err != nil || len(ws) != 1 {
			return fmt.Sprint(len(ws), " workers, ", err)
		}
		return ws[0].Health
	}
	for i := range unhealthyAfter {
		var je *JobError
		if _, err := c.Do(ctx, Job{ID: fmt.Sprint("sick/", i), Kind: KindGenerate}); !errors.As(err, &je) {
			t.Fatalf("job %d: %v, want the job's error", i, err)
		}
	}
	waitFor(t, 5*time.Second, "the heartbeat to say failing", func() bool {
		return strings.HasPrefix(health(), "failing: 3 jobs in a row; last: model /models/flux")
	})
	if _, err := c.Do(ctx, Job{ID: "sick/ok", Kind: KindGenerate, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the heartbeat to say ok", func() bool { return health() == "ok" })
}

func TestPurgeJobs(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	q := openQueue(t, s.ClientURL(), fastConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 3 {
		if _, err := q.js.Publish(ctx, jobSubject(KindTrial), fmt.Appendf(nil, `{"id":"old/%d","kind":"trial"}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := q.PurgeJobs(ctx); err != nil || n != 3 {
		t.Fatalf("purged %d (%v), want 3", n, err)
	}
	if st, err := q.Stats(ctx); err != nil || st.Pending != 0 {
		t.Errorf("after the purge: %d pending (%v)", st.Pending, err)
	}
}
