package ort

import (
	"runtime"
	"sync/atomic"
	"syscall"
)

// osThread runs functions one at a time on one OS thread that nothing else
// runs on, from newOSThread until close.
//
// ONNX Runtime's CUDA provider keeps a context per calling thread
// (PerThreadContext: the cuBLAS, cuBLASLt and cuDNN handles and, under
// enable_cuda_graph, the captured CUDA graph). Go makes a goroutine's cgo
// call on whichever OS thread carries the goroutine at that moment, so a
// session's runs wandered over threads, and a run on a thread new to the
// session built that context again and, with a graph, captured the graph
// again: in 6-7 of 10 text2img runs at 1024² one FLUX step took 3.4-4.1× a
// step under a graph, 1.3-1.65× without. Every run of a Session goes
// through its osThread instead, and on the same H100 no step of 80 was slow
// (docs/perf/ort-gpu.md, session 18).
type osThread struct {
	calls chan func()
	done  chan struct{}
	tid   int          // the thread's id (gettid), for logs
	runs  atomic.Int64 // calls made
}

func newOSThread() *osThread {
	t := &osThread{calls: make(chan func()), done: make(chan struct{})}
	started := make(chan struct{})
	go func() {
		// Never unlocked: the thread ends with the goroutine, and no other
		// goroutine is ever scheduled on it.
		runtime.LockOSThread()
		defer close(t.done)
		t.tid = syscall.Gettid()
		close(started)
		for f := range t.calls {
			f()
		}
	}()
	<-started
	return t
}

// do runs f on the thread and returns its error; a panic in f is raised
// again in the caller.
func (t *osThread) do(f func() error) error {
	var (
		err   error
		fault any
		done  = make(chan struct{})
	)
	t.calls <- func() {
		defer close(done)
		defer func() { fault = recover() }()
		t.runs.Add(1)
		err = f()
	}
	<-done
	if fault != nil {
		panic(fault)
	}
	return err
}

// close ends the thread once the call in progress, if any, returns. do must
// not be called after it.
func (t *osThread) close() {
	close(t.calls)
	<-t.done
}
