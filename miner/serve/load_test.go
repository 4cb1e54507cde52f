package serve

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadResult is what a load run measured on the client side.
type loadResult struct {
	ok, failed int
	bytes      int64
	elapsed    time.Duration
	latencies  []time.Duration // sorted
}

func (r loadResult) throughput() float64 { return float64(r.ok) / r.elapsed.Seconds() }

// percentile is the nearest-rank percentile of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	ms := func(v ...int) []time.Duration {
		d := make([]time.Duration, len(v))
		for i, x := range v {
			d[i] = time.Duration(x) * time.Millisecond
		}
		return d
	}
	tests := []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(15, 20, 35, 40, 50), 30, 20 * time.Millisecond}, // rank ceil(1.5) = 2
		{ms(15, 20, 35, 40, 50), 40, 20 * time.Millisecond},
		{ms(15, 20, 35, 40, 50), 50, 35 * time.Millisecond},
		{ms(15, 20, 35, 40, 50), 100, 50 * time.Millisecond},
		{ms(15, 20, 35, 40, 50), 0, 15 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
		}
	}
}

// runLoad sends total text-to-3D requests from conc clients over client
// and reads every body whole.
func runLoad(ctx context.Context, client *http.Client, base string, total, conc int) loadResult {
	var next atomic.Int64
	lat := make([]time.Duration, total)
	okFlags := make([]bool, total)
	var bytesRead atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				body := "prompt=a+red+cube&seed=" + strconv.Itoa(i)
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/generate/", strings.NewReader(body))
				if err != nil {
					continue
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				n, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				bytesRead.Add(n)
				okFlags[i] = err == nil && resp.StatusCode == http.StatusOK && n == resp.ContentLength
			}
		})
	}
	wg.Wait()
	r := loadResult{elapsed: time.Since(start), bytes: bytesRead.Load()}
	for i, ok := range okFlags {
		if ok {
			r.ok++
			r.latencies = append(r.latencies, lat[i])
		} else {
			r.failed++
		}
	}
	slices.Sort(r.latencies)
	return r
}

// heapInuse is HeapInuse after two collections (the second empties
// sync.Pool's victim cache).
func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func loadClient(conc int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}}
}

// TestLoad drives 1000 requests with 8 concurrent clients over loopback
// against the fake generator (8000 Gaussians, a 448 KB PLY each): every
// one must succeed, and the heap after the run must be back within a few
// MiB of where it was before it.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: 1000 requests over loopback")
	}
	const total, conc = 1000, 8
	opts := testOptions()
	opts.Workers, opts.QueueSize = 2, 16
	ts := newTestServer(t, opts, &fakeGen{})
	client := loadClient(conc)
	defer client.CloseIdleConnections()

	if w := runLoad(t.Context(), client, ts.http.URL, 50, conc); w.failed != 0 {
		t.Fatalf("warm-up: %d of 50 failed", w.failed)
	}
	goroutines := runtime.NumGoroutine()
	before := heapInuse()
	r := runLoad(t.Context(), client, ts.http.URL, total, conc)
	after := heapInuse()

	if r.failed != 0 {
		t.Fatalf("%d of %d requests failed", r.failed, total)
	}
	t.Logf("%d requests, concurrency %d, %d workers, GOMAXPROCS %d: %.0f req/s, %.1f MB/s; latency p50 %v p90 %v p99 %v max %v",
		total, conc, opts.Workers, runtime.GOMAXPROCS(0), r.throughput(), float64(r.bytes)/1e6/r.elapsed.Seconds(),
		percentile(r.latencies, 50), percentile(r.latencies, 90), percentile(r.latencies, 99), r.latencies[len(r.latencies)-1])
	growth := int64(after) - int64(before)
	t.Logf("HeapInuse after GC: before %.1f MiB, after %.1f MiB (%+.1f MiB); goroutines %d -> %d",
		float64(before)/(1<<20), float64(after)/(1<<20), float64(growth)/(1<<20), goroutines, runtime.NumGoroutine())
	const bound = 8 << 20 // a few response buffers and connection state
	if growth > bound {
		t.Errorf("HeapInuse grew by %.1f MiB over %d requests; bound %d MiB", float64(growth)/(1<<20), total, bound>>20)
	}
	if got := metricValue(t, ts.reg, "splatbench_serve_requests_total", map[string]string{"route": "/generate/", "code": "200"}); got != total+50 {
		t.Errorf("requests{code=200} = %v, want %d", got, total+50)
	}
}

// BenchmarkServeGenerate measures end-to-end requests per second of the
// service over loopback with 8 concurrent clients and the fake generator,
// so it prices the service itself: parsing, queueing, PLY encoding and
// gates, and the HTTP transfer of a 448 KB PLY.
func BenchmarkServeGenerate(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			const conc = 8
			opts := testOptions()
			opts.Workers, opts.QueueSize = workers, 16
			ts := newTestServer(b, opts, &fakeGen{})
			client := loadClient(conc)
			defer client.CloseIdleConnections()
			runLoad(b.Context(), client, ts.http.URL, 16, conc)
			b.ReportAllocs()
			b.ResetTimer()
			r := runLoad(b.Context(), client, ts.http.URL, b.N, conc)
			b.StopTimer()
			if r.failed != 0 {
				b.Fatalf("%d of %d requests failed", r.failed, b.N)
			}
			b.ReportMetric(r.throughput(), "req/s")
			b.ReportMetric(float64(percentile(r.latencies, 50).Microseconds())/1e3, "p50-ms")
			b.ReportMetric(float64(percentile(r.latencies, 99).Microseconds())/1e3, "p99-ms")
		})
	}
}
