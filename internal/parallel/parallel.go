// Package parallel runs the iterations of a loop over [0, n) on several
// goroutines, in chunks of consecutive indices, and returns when all are
// done.
package parallel

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// For splits [0, n) into at most workers (0: GOMAXPROCS) contiguous
// chunks of nearly equal size and runs fn on each, one goroutine a chunk.
// It suits iterations that cost the same.
func For(n, workers int, fn func(lo, hi int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n)
	if workers <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		wg.Go(func() { fn(lo, min(lo+chunk, n)) })
	}
	wg.Wait()
}

// Chunks runs fn over [0, n) in chunks of at most chunk indices on up to
// workers goroutines (0: GOMAXPROCS), each taking the next chunk when it
// finishes one, so iterations of unequal cost spread evenly. It checks
// ctx between chunks and returns its error once the running chunks end.
func Chunks(ctx context.Context, n, workers, chunk int, fn func(lo, hi int)) error {
	chunk = max(chunk, 1)
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, (n+chunk-1)/chunk)
	if workers <= 1 {
		for lo := 0; lo < n; lo += chunk {
			if err := ctx.Err(); err != nil {
				return err
			}
			fn(lo, min(lo+chunk, n))
		}
		return ctx.Err()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= n {
					return
				}
				fn(lo, min(lo+chunk, n))
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}
