package serve

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/splatbench/splatbench/pipeline"
)

// TestQueueFull fills one worker and a queue of one, then checks the next
// request gets 429 with Retry-After, and that the held ones complete.
func TestQueueFull(t *testing.T) {
	t.Parallel()
	gen := &fakeGen{release: make(chan struct{}), started: make(chan string, 4)}
	opts := testOptions()
	opts.Workers, opts.QueueSize = 1, 1
	ts := newTestServer(t, opts, gen)

	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := postText(t, ts, url.Values{"prompt": {"a red cube"}})
			codes[i] = resp.StatusCode
		}()
		if i == 0 {
			<-gen.started // the worker holds the first; the second waits in the queue
		}
	}
	waitFor(t, "one queued request", func() bool {
		return metricValue(t, ts.reg, "splatbench_serve_queue_depth", nil) == 1
	})
	if got := metricValue(t, ts.reg, "splatbench_serve_in_flight_generations", nil); got != 1 {
		t.Errorf("in-flight gauge = %v, want 1", got)
	}

	resp, body := postText(t, ts, url.Values{"prompt": {"a red cube"}})
	checkError(t, resp, body, http.StatusTooManyRequests, "queue is full")
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After = %q, want whole seconds ≥ 1", resp.Header.Get("Retry-After"))
	}

	gen.release <- struct{}{}
	gen.release <- struct{}{}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("held request %d: status %d, want 200", i, c)
		}
	}
	if got := metricValue(t, ts.reg, "splatbench_serve_requests_total", map[string]string{"route": "/generate/", "code": "429"}); got != 1 {
		t.Errorf("requests{code=429} = %v, want 1", got)
	}
	if got := metricValue(t, ts.reg, "splatbench_serve_queue_depth", nil); got != 0 {
		t.Errorf("queue depth after = %v, want 0", got)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestRequestTimeout: a generation past the deadline is a 504 and counted
// as a timeout, even when the generator ignores its context; a request that timed out in the queue never reaches the
// generator and its uploaded image is removed.
func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	gen := &fakeGen{release: make(chan struct{}), started: make(chan string, 4), deaf: true}
	opts := testOptions()
	opts.Workers, opts.QueueSize = 1, 2
	opts.RequestTimeout = 150 * time.Millisecond
	opts.TempDir = t.TempDir()
	ts := newTestServer(t, opts, gen)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		resp, body := postText(t, ts, url.Values{"prompt": {"a red cube"}})
		checkError(t, resp, body, http.StatusGatewayTimeout, "did not finish within 150ms")
	}()
	<-gen.started
	// The generator ignores its context and holds the worker: the first
	// request still gets its 504 on time, and this one times out queued.
	resp, body := postImage(t, ts, formPart{name: FieldImage, filename: "a.png", data: pngBytes(t, 8, 8)})
	checkError(t, resp, body, http.StatusGatewayTimeout, "did not finish")
	wg.Wait()
	gen.release <- struct{}{}
	waitFor(t, "the queued task to be dropped", func() bool {
		left, _ := os.ReadDir(opts.TempDir)
		return len(left) == 0 && metricValue(t, ts.reg, "splatbench_serve_queue_depth", nil) == 0
	})
	if n := gen.calls.Load(); n != 1 {
		t.Errorf("generator called %d times, want 1 (the queued request expired first)", n)
	}
	if got := metricValue(t, ts.reg, "splatbench_serve_generation_failures_total", map[string]string{"reason": "timeout"}); got != 1 {
		t.Errorf("failures{reason=timeout} = %v, want 1", got)
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		avg     float64
		workers int
		want    time.Duration
	}{
		{0, 1, time.Second},
		{0.2, 1, time.Second},
		{12.5, 1, 13 * time.Second},
		{12.5, 4, 4 * time.Second},
		{30, 0, 30 * time.Second},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.avg, tt.workers); got != tt.want {
			t.Errorf("retryAfter(%v, %d) = %v, want %v", tt.avg, tt.workers, got, tt.want)
		}
	}
}

func TestEWMA(t *testing.T) {
	t.Parallel()
	var e ewma
	e.add(10)
	e.add(20)
	if got, want := e.value(), 12.0; got != want {
		t.Errorf("ewma after 10, 20 = %v, want %v", got, want)
	}
}

// TestPool: with two members and four concurrent calls, no member is used
// by two calls at once and every call is served.
func TestPool(t *testing.T) {
	t.Parallel()
	type member struct {
		mu   sync.Mutex
		busy bool
		n    int
	}
	members := []*member{{}, {}}
	var gens []Generator
	for _, m := range members {
		gens = append(gens, GeneratorFunc(func(ctx context.Context, job pipeline.Job) (*pipeline.State, []pipeline.Timing, error) {
			m.mu.Lock()
			if m.busy {
				m.mu.Unlock()
				t.Error("a pool member ran two jobs at once")
				return nil, nil, nil
			}
			m.busy = true
			m.n++
			m.mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			m.mu.Lock()
			m.busy = false
			m.mu.Unlock()
			return &pipeline.State{Job: job}, nil, nil
		}))
	}
	p := NewPool(gens...)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			st, _, err := p.Generate(t.Context(), pipeline.Job{ID: strconv.Itoa(i)})
			if err != nil || st == nil || st.Job.ID != strconv.Itoa(i) {
				t.Errorf("call %d: state %v, err %v", i, st, err)
			}
		})
	}
	wg.Wait()
	if total := members[0].n + members[1].n; total != 8 {
		t.Errorf("members ran %d jobs, want 8", total)
	}
	t.Run("cancelled while waiting", func(t *testing.T) {
		empty := NewPool()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, _, err := empty.Generate(ctx, pipeline.Job{}); err != context.Canceled {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
}

// TestCloseAnswersQueued: Close stops the workers and answers requests
// still queued with 503; later requests get 503 too.
func TestCloseAnswersQueued(t *testing.T) {
	t.Parallel()
	gen := &fakeGen{release: make(chan struct{}), started: make(chan string, 4)}
	opts := testOptions()
	opts.Workers, opts.QueueSize = 1, 1
	ts := newTestServer(t, opts, gen)
	results := make(chan int, 2)
	go func() {
		resp, _ := postText(t, ts, url.Values{"prompt": {"first"}})
		results <- resp.StatusCode
	}()
	<-gen.started
	go func() {
		resp, body := postText(t, ts, url.Values{"prompt": {"second"}})
		if resp.StatusCode == http.StatusServiceUnavailable && !strings.Contains(string(body), "shutting down") {
			t.Errorf("503 body %s: want it to say the service is shutting down", body)
		}
		results <- resp.StatusCode
	}()
	waitFor(t, "one queued request", func() bool {
		return metricValue(t, ts.reg, "splatbench_serve_queue_depth", nil) == 1
	})
	closed := make(chan struct{})
	go func() { ts.Close(); close(closed) }()
	waitFor(t, "Close to stop the workers", func() bool {
		select {
		case <-ts.quit:
			return true
		default:
			return false
		}
	})
	gen.release <- struct{}{} // the running generation finishes; Close waits for it
	<-closed
	got := map[int]int{}
	for range 2 {
		got[<-results]++
	}
	if got[http.StatusOK] != 1 || got[http.StatusServiceUnavailable] != 1 {
		t.Errorf("status counts %v, want one 200 and one 503", got)
	}
	resp, body := postText(t, ts, url.Values{"prompt": {"third"}})
	checkError(t, resp, body, http.StatusServiceUnavailable, "shutting down")
}
