package jobs

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/results"
	"github.com/splatbench/splatbench/tuner"
)

// startCluster starts a three-node JetStream cluster on loopback and
// returns its nodes and the client URLs of all of them.
func startCluster(t *testing.T) ([]*Server, string) {
	t.Helper()
	ports := []int{freePort(t), freePort(t), freePort(t)}
	var routes []string
	for _, p := range ports {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
	}
	nodes := make([]*Server, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			nodes[i], errs[i] = StartServer(ServerOptions{
				Name: fmt.Sprintf("n%d", i+1), StoreDir: t.TempDir(), Listen: "127.0.0.1:0",
				ClusterName: "splat", ClusterListen: fmt.Sprintf("127.0.0.1:%d", ports[i]), Routes: routes,
				Log: testLog(),
			})
		})
	}
	wg.Wait()
	var urls []string
	for i, n := range nodes {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		t.Cleanup(n.Shutdown)
		urls = append(urls, n.ClientURL())
	}
	return nodes, strings.Join(urls, ",")
}

// A node of a three-node cluster stopped in the middle of a batch — the
// one leading the jobs stream — and the work goes on: every job answered,
// each once.
func TestClusterNodeStopped(t *testing.T) {
	if testing.Short() {
		t.Skip("three-node cluster: slow; make test runs it")
	}
	t.Parallel()
	nodes, urls := startCluster(t)
	cfg := fastConfig()
	cfg.Replicas = 3
	cfg.AckWait = 2 * time.Second
	qc := openQueue(t, urls, cfg)
	c := newClient(t, qc)
	cnt := newCounter()
	for i := range 2 {
		q := openQueue(t, urls, cfg)
		runWorker(t, q, fmt.Sprint("w", i), sleeper(cnt, 100*time.Millisecond))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const n = 16
	var done sync.WaitGroup
	errs := make(chan error, n)
	var finished sync.Map
	for i := range n {
		done.Go(func() {
			id := fmt.Sprint("cluster/", i)
			r, err := c.Do(ctx, Job{ID: id, Kind: KindTrial, Seed: int64(i)})
			if err == nil && r.Scores["score"] != float64(i) {
				err = fmt.Errorf("%s: score %v", id, r.Scores)
			}
			if err == nil {
				finished.Store(id, true)
			}
			errs <- err
		})
	}
	waitFor(t, 20*time.Second, "a few jobs to finish", func() bool {
		k := 0
		finished.Range(func(any, any) bool { k++; return true })
		return k >= 3
	})
	si, err := qc.jobs.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leader := si.Cluster.Leader
	for i, nd := range nodes {
		if nd.ns.Name() == leader {
			t.Logf("stopping %s, the jobs stream's leader", leader)
			nodes[i].Shutdown()
		}
	}
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for i := range n {
		id := fmt.Sprint("cluster/", i)
		if _, f := cnt.counts(id); f != 1 {
			t.Errorf("%s finished %d times, want once", id, f)
		}
	}
}

// memWriter is trials.jsonl in memory.
type memWriter struct {
	mu   sync.Mutex
	recs []results.Record
}

func (w *memWriter) Append(r results.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.recs = append(w.recs, r)
	return nil
}

func (w *memWriter) records() []results.Record {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]results.Record(nil), w.recs...)
}

// The tuner killed in the middle of a sweep — and with it, on one host,
// the embedded server and its workers — resumes from its records and the
// stream on disk: every trial recorded once, none run to the end twice.
func TestTunerKilledResumes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var points []tuner.Point
	for _, it := range []int{10, 20, 30} {
		points = append(points, tuner.NewPoint(map[string]any{"fit.iterations": it}))
	}
	prompts := []tuner.Prompt{{ID: "p1", Text: "a red cube"}, {ID: "p2", Text: "a blue sphere"}}
	const planned = 6
	cnt := newCounter()
	w := &memWriter{}
	base := configs.Profile{Name: "test"}

	sweep := func(stopAfter int) (tuner.RunStats, error) {
		s, err := StartServer(ServerOptions{StoreDir: dir, Log: testLog()})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Shutdown()
		nc, err := ConnectInProcess(s, "tuner")
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		q, err := Open(ctx, nc, fastConfig())
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewClient(ctx, q, testLog())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		wnc, err := ConnectInProcess(s, "worker")
		if err != nil {
			t.Fatal(err)
		}
		wq, err := Open(ctx, wnc, fastConfig())
		if err != nil {
			t.Fatal(err)
		}
		stopWorker := runWorker(t, wq, "local", sleeper(cnt, 150*time.Millisecond))
		defer func() { wnc.Close(); stopWorker() }() // killed, not drained
		prior := w.records()
		rctx, rcancel := context.WithCancel(ctx)
		defer rcancel()
		if stopAfter > 0 {
			go func() {
				for len(w.records()) < stopAfter && rctx.Err() == nil {
					time.Sleep(10 * time.Millisecond)
				}
				rcancel() // the kill
			}()
		}
		r := &tuner.Runner{Evaluator: NewEvaluator(c, base, "run-1"), Writer: w, Repeats: 1, Workers: 2, Seed: 1}
		return r.Run(rctx, points, prompts, prior)
	}

	if _, err := sweep(2); err == nil {
		t.Fatal("the first sweep finished: the kill came too late to test anything")
	}
	first := len(w.records())
	stats, err := sweep(0)
	if err != nil {
		t.Fatal(err)
	}
	recs := w.records()
	ids := map[string]int{}
	for _, r := range recs {
		ids[r.ID]++
		if !r.OK() {
			t.Errorf("trial %s: %s", r.ID, r.Error)
		}
	}
	if len(recs) != planned || len(ids) != planned {
		t.Errorf("%d records for %d trials (first run %d, resumed %d): want each once", len(recs), len(ids), first, stats.Evaluated)
	}
	for _, p := range points {
		for _, pr := range prompts {
			id := "trial/run-1/" + tuner.TrialID(p, pr.ID, 0, false)
			if _, f := cnt.counts(id); f != 1 {
				t.Errorf("%s ran to the end %d times, want once", id, f)
			}
		}
	}
}
