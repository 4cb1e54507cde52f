package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testLog is quiet unless JOBS_TEST_LOG is set.
func testLog() *slog.Logger {
	if os.Getenv("JOBS_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// fastConfig has short waits so that redelivery happens within a test.
func fastConfig() Config {
	return Config{AckWait: 600 * time.Millisecond, MaxDeliver: 3, WorkerTTL: 3 * time.Second}
}

// startServer starts an embedded server on a loopback port with its store
// in dir (a fresh temp dir when "").
func startServer(t testing.TB, dir string) *Server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := StartServer(ServerOptions{StoreDir: dir, Listen: "127.0.0.1:0", Log: testLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// openQueue connects to urls (or in-process to s) and opens the queue.
func openQueue(t testing.TB, urls string, cfg Config) *Queue {
	t.Helper()
	nc, err := Connect(urls, Security{}, t.Name(), testLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q, err := Open(ctx, nc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func newClient(t testing.TB, q *Queue) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := NewClient(ctx, q, testLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// runWorker runs a worker with the given slots until the returned stop
// is called (or the test ends).
func runWorker(t testing.TB, q *Queue, id string, hs ...Handler) (stop func()) {
	t.Helper()
	slots := make([]Slot, len(hs))
	for i, h := range hs {
		slots[i] = Slot{Handler: h, Device: fmt.Sprintf("test:%d", i)}
	}
	w, err := NewWorker(q, slots, WorkerOptions{ID: id, Version: "test"}, testLog())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.Run(ctx)
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// counter counts handler runs per job: started, and finished (returned a
// result without being cancelled).
type counter struct {
	mu       sync.Mutex
	started  map[string]int
	finished map[string]int
}

func newCounter() *counter {
	return &counter{started: map[string]int{}, finished: map[string]int{}}
}

func (c *counter) start(id string) {
	c.mu.Lock()
	c.started[id]++
	c.mu.Unlock()
}

func (c *counter) finish(id string) {
	c.mu.Lock()
	c.finished[id]++
	c.mu.Unlock()
}

func (c *counter) counts(id string) (started, finished int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.started[id], c.finished[id]
}

// sleeper is a handler that takes d per job, honouring ctx.
func sleeper(c *counter, d time.Duration) Handler {
	return HandlerFunc(func(ctx context.Context, j Job) (Result, error) {
		c.start(j.ID)
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
		c.finish(j.ID)
		return Result{Scores: map[string]float64{"score": float64(j.Seed)}, TotalSeconds: d.Seconds()}, nil
	})
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	// Below the kernel's ephemeral range: a port from it, closed here
	// and bound again later by a cluster node, can meanwhile become the
	// local end of a parallel test's connection or listener; the node
	// then logs "address already in use" for its route port and
	// StartServer gives up after 30 s (TestClusterNodeStopped failed so
	// in 2 of about 20 runs of make test).
	lo := ephemeralLow()
	for range 100 {
		p := 10000 + rand.IntN(max(lo-10000, 1))
		if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p)); err == nil {
			ln.Close()
			return p
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// ephemeralLow is the lowest port of the kernel's ephemeral range (Linux;
// 32768 where it cannot be read).
func ephemeralLow() int {
	var lo, hi int
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	if _, err := fmt.Sscan(string(b), &lo, &hi); err != nil || lo <= 10000 {
		return 32768
	}
	return lo
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var _ = nats.ErrTimeout
