package pod

import (
	"context"
	"crypto/sha256"
	"image"
	"net/http"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline"
)

// spinGen is a CPU-bound generator: it hashes for d, then writes a module.
func spinGen(d time.Duration) Generator {
	return GeneratorFunc(func(ctx context.Context, img image.Image, stem string, seed int64) ([]byte, error) {
		sum := sha256.Sum256([]byte(stem))
		for end := time.Now().Add(d); time.Now().Before(end) && ctx.Err() == nil; {
			for range 1000 {
				sum = sha256.Sum256(sum[:])
			}
		}
		return []byte("export default function generate(THREE) { return new THREE.Group(); }\n"), nil
	})
}

// BenchmarkStatusUnderLoad: /status round trips while a batch of 32 keeps
// one CPU-bound worker per core busy; p50 and p99 in ms.
func BenchmarkStatusUnderLoad(b *testing.B) {
	imgs := newImageServer(b)
	workers := runtime.GOMAXPROCS(0)
	gens := make([]Generator, workers)
	for i := range gens {
		gens[i] = spinGen(200 * time.Millisecond)
	}
	s, err := New(testOptions(), gens, discard())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.SetReady(nil)
	srv := httptestServer(s)
	defer srv.Close()
	var lat []float64
	batch := 0
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if s.snapshot(-1).Status != Generating {
			stems := make([]string, 32)
			for j := range stems {
				stems[j] = "s" + string(rune('a'+batch%26)) + string(rune('a'+j%26)) + string(rune('a'+j/26))
			}
			batch++
			req := batchOf(imgs, stems...)
			if code, body := postGenerateB(srv.URL, req); code != 200 {
				b.Fatalf("%d %s", code, body)
			}
		}
		start := time.Now()
		resp, err := http.Get(srv.URL + "/status")
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		lat = append(lat, float64(time.Since(start).Microseconds())/1e3)
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(lat[len(lat)/2], "p50-ms")
	b.ReportMetric(lat[len(lat)*99/100], "p99-ms")
}

// TestCUDADevicesOnCPU: a machine without a CUDA driver has no GPUs and no
// error (a CPU pod).
func TestCUDADevicesOnCPU(t *testing.T) {
	b := pipeline.NewBuilder(discard(), "")
	defer b.Close()
	devs, err := CUDADevices(b, configs.Profile{}, discard())
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) > 0 {
		t.Skipf("this machine has %d GPU(s)", len(devs))
	}
	if rep := CheckHealth(context.Background(), devs, GPUHealthRule()); !rep.AllPassed || len(rep.GPUs) != 0 {
		t.Fatalf("CPU pod health %+v", rep)
	}
}
