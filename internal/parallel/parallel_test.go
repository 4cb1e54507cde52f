package parallel

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"
)

// TestVisitsEachOnce: every index in [0, n) is handed to fn exactly once,
// in chunks no larger than asked, whatever the split.
func TestVisitsEachOnce(t *testing.T) {
	defer goleak.VerifyNone(t)
	tests := []struct{ n, workers, chunk int }{
		{0, 4, 3}, {1, 4, 3}, {7, 1, 3}, {7, 0, 1}, {1000, 3, 7}, {1000, 64, 1000}, {1001, 8, 0}, {5, 100, 2},
	}
	for _, tc := range tests {
		for _, run := range []struct {
			name string
			f    func(fn func(lo, hi int)) error
		}{
			{"For", func(fn func(lo, hi int)) error { For(tc.n, tc.workers, fn); return nil }},
			{"Chunks", func(fn func(lo, hi int)) error { return Chunks(t.Context(), tc.n, tc.workers, tc.chunk, fn) }},
		} {
			seen := make([]atomic.Int32, tc.n)
			var bad atomic.Bool
			err := run.f(func(lo, hi int) {
				if lo >= hi || (run.name == "Chunks" && hi-lo > max(tc.chunk, 1)) {
					bad.Store(true)
				}
				for i := lo; i < hi; i++ {
					seen[i].Add(1)
				}
			})
			if err != nil {
				t.Errorf("%s %+v: %v", run.name, tc, err)
			}
			if bad.Load() {
				t.Errorf("%s %+v: an empty or oversized chunk", run.name, tc)
			}
			for i := range seen {
				if c := seen[i].Load(); c != 1 {
					t.Errorf("%s %+v: index %d visited %d times", run.name, tc, i, c)
					break
				}
			}
		}
	}
}

// TestChunksCancel: a cancelled context stops Chunks before the next
// chunk and is returned.
func TestChunksCancel(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, workers := range []int{1, 4} {
		ctx, cancel := context.WithCancel(t.Context())
		var ran atomic.Int32
		err := Chunks(ctx, 1000, workers, 1, func(lo, hi int) {
			if ran.Add(1) == 10 {
				cancel()
			}
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("workers %d: err %v, want context.Canceled", workers, err)
		}
		if n := ran.Load(); n > 10+int32(workers) {
			t.Errorf("workers %d: %d chunks ran after the cancel at the 10th", workers, n)
		}
		cancel()
	}
}
