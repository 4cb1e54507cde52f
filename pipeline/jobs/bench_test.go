package jobs

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkQueue times the queue alone: trivial jobs (the handler returns
// at once) through an embedded server with its store on disk, as tune and
// mine run it. "latency" sends one job at a time and reports the time a
// job spends in the queue machinery (submit, delivery, result, ack) at p50
// and p99; "throughput" keeps 64 jobs in flight over 4 worker lanes and
// reports jobs per second.
func BenchmarkQueue(b *testing.B) {
	trivial := HandlerFunc(func(ctx context.Context, j Job) (Result, error) { return Result{}, nil })
	setup := func(b *testing.B, lanes int) *Client {
		s := startServer(b, "")
		q := openQueue(b, s.ClientURL(), Config{})
		hs := make([]Handler, lanes)
		for i := range hs {
			hs[i] = trivial
		}
		runWorker(b, q, "bench", hs...)
		return newClient(b, openQueue(b, s.ClientURL(), Config{}))
	}
	ctx := context.Background()

	b.Run("latency", func(b *testing.B) {
		c := setup(b, 1)
		lat := make([]time.Duration, 0, b.N)
		for i := 0; b.Loop(); i++ {
			start := time.Now()
			if _, err := c.Do(ctx, Job{ID: fmt.Sprintf("lat/%d", i), Kind: KindTrial}); err != nil {
				b.Fatal(err)
			}
			// The handler returns at once: the whole round trip is what
			// the queue adds to a job.
			lat = append(lat, time.Since(start))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	})

	b.Run("throughput", func(b *testing.B) {
		c := setup(b, 4)
		ids := make(chan int)
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		start := time.Now()
		for range 64 {
			wg.Go(func() {
				for i := range ids {
					if _, err := c.Do(ctx, Job{ID: fmt.Sprintf("tp/%d", i), Kind: KindTrial}); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		n := 0
		for b.Loop() {
			ids <- n
			n++
		}
		close(ids)
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "jobs/s")
	})
}
