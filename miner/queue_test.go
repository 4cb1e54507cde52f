package miner

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline/jobs"
)

// The miner generating through the job queue (a real embedded JetStream
// server, two workers, one killed in the middle of a job): every task is
// submitted once, none twice, and the killed worker's job is finished by
// the other. Real time, short cooldowns.
func TestQueueGeneratorNoDuplicateSubmissions(t *testing.T) {
	if testing.Short() {
		t.Skip("real time: several seconds")
	}
	t.Parallel()
	s, err := jobs.StartServer(jobs.ServerOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	cfg := jobs.Config{Memory: true, AckWait: 600 * time.Millisecond}
	open := func(name string) (*jobs.Queue, func()) {
		nc, err := jobs.ConnectInProcess(s, name)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		q, err := jobs.Open(ctx, nc, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return q, nc.Close
	}
	qc, closeC := open("miner")
	defer closeC()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := jobs.NewClient(ctx, qc, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	var mu sync.Mutex
	finished := map[string]int{}
	var victimTook atomic.Bool
	var victimJob string
	killed := make(chan struct{})
	gen := func(victim bool) jobs.Handler {
		return jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) (jobs.Result, error) {
			if victim && victimTook.CompareAndSwap(false, true) {
				victimJob = j.ID
				close(killed)
				<-ctx.Done()
				return jobs.Result{}, ctx.Err()
			}
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
				return jobs.Result{}, ctx.Err()
			}
			mu.Lock()
			finished[j.ID]++
			mu.Unlock()
			acc := true
			return jobs.Result{Output: []byte("score=0.900"), Format: "spz", Scores: map[string]float64{"score": 0.9}, Accepted: &acc}, nil
		})
	}
	startWorker := func(name string, victim bool) (*jobs.Queue, func()) {
		q, closeQ := open(name)
		w, err := jobs.NewWorker(q, []jobs.Slot{{Handler: gen(victim), Device: "cpu"}}, jobs.WorkerOptions{ID: name}, nil)
		if err != nil {
			t.Fatal(err)
		}
		wctx, wcancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = w.Run(wctx) }()
		var once sync.Once
		return q, func() { once.Do(func() { closeQ(); wcancel(); <-done }) }
	}
	_, stopVictim := startWorker("victim", true)
	defer stopVictim()
	_, stopOther := startWorker("other", false)
	defer stopOther()

	w := newWorld(3)
	for _, f := range w.net.vals {
		f.cooldown, f.throttle, f.penalty = 1, 0, 1
	}
	m, _ := newMiner(t, w, Options{Workers: 2, Threshold: 0.6, StateFile: filepath.Join(t.TempDir(), "state.json")},
		NewQueueGenerator(c, configs.Profile{Name: "test"}))
	mctx, mcancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- m.Run(mctx) }()
	<-killed
	stopVictim() // the victim's connection drops with its job unanswered
	time.Sleep(4 * time.Second)
	mcancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}

	got := w.totals()
	if got.submitted < len(w.vals) || got.accepted != got.submitted {
		t.Errorf("submitted %d, accepted %d: want at least one per validator, all accepted", got.submitted, got.accepted)
	}
	for _, f := range w.net.vals {
		if f.wrongIDs != 0 {
			t.Errorf("validator %s got %d submissions for tasks it no longer held (duplicates)", f.hotkey, f.wrongIDs)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for id, n := range finished {
		if n != 1 {
			t.Errorf("job %s generated %d times", id, n)
		}
	}
	if finished[victimJob] != 1 {
		t.Errorf("the killed worker's job %s was finished %d times by the other, want once", victimJob, finished[victimJob])
	}
	if len(finished) < got.submitted {
		t.Errorf("%d jobs finished for %d submissions", len(finished), got.submitted)
	}
}
