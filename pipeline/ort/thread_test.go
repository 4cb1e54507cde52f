package ort

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"syscall"
	"testing"

	"go.uber.org/goleak"
)

func TestOSThread(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	th := newOSThread()
	if th.tid == 0 {
		t.Fatal("tid not recorded")
	}
	// Calls from many goroutines, which Go moves between threads, all run on
	// the one thread, one at a time.
	var (
		wg            sync.WaitGroup
		mu            sync.Mutex
		seen          = map[int]int{}
		inside, worst int
	)
	for range 8 {
		wg.Go(func() {
			for range 50 {
				runtime.Gosched()
				if err := th.do(func() error {
					mu.Lock()
					seen[syscall.Gettid()]++
					inside++
					worst = max(worst, inside)
					mu.Unlock()
					runtime.Gosched()
					mu.Lock()
					inside--
					mu.Unlock()
					return nil
				}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if len(seen) != 1 || seen[th.tid] != 400 {
		t.Errorf("400 calls ran on threads %v, want all on %d", seen, th.tid)
	}
	if worst != 1 {
		t.Errorf("%d calls ran at once, want 1", worst)
	}
	if got := th.runs.Load(); got != 400 {
		t.Errorf("runs = %d, want 400", got)
	}

	// An error comes back; a panic is raised in the caller, and the thread
	// goes on.
	boom := errors.New("boom")
	if err := th.do(func() error { return boom }); err != boom {
		t.Errorf("do returned %v, want %v", err, boom)
	}
	func() {
		defer func() {
			if r := recover(); r != "fault" {
				t.Errorf("recovered %v, want the panic's value", r)
			}
		}()
		_ = th.do(func() error { panic("fault") })
		t.Error("do did not panic")
	}()
	if err := th.do(func() error { return nil }); err != nil {
		t.Errorf("after the panic: %v", err)
	}
	th.close() // the goroutine ends: goleak checks
}

// TestSessionRunsOnItsThread: every run of a session, from any goroutine,
// goes through the session's one OS thread (ONNX Runtime's CUDA provider
// keeps its handles and CUDA graph per calling thread).
func TestSessionRunsOnItsThread(t *testing.T) {
	s := staticSession(t)
	th := s.thread
	a := make([]float32, 48)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 5 {
				if _, err := s.Run(context.Background(), a, a); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if got, want := th.runs.Load(), s.runs.Load(); got != want || want != 20 {
		t.Errorf("%d runs on the session's thread, %d runs in all; want 20 and 20", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-th.done:
	default:
		t.Error("Close left the session's thread running")
	}
}
