package flux

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/splatbench/splatbench/pipeline/cuda"
	"github.com/splatbench/splatbench/pipeline/ort"
)

// BenchmarkGenerateTiny: the sampler's own cost (noise, packing, Euler
// updates, conversions, session overhead) on the tiny models, 4 steps.
func BenchmarkGenerateTiny(b *testing.B) {
	ct, tt := realTokenizers(b)
	for _, res := range []int{64, 256} {
		b.Run(map[int]string{64: "64px", 256: "256px"}[res], func(b *testing.B) {
			f, err := New(context.Background(), testRuntime(b), Options{Dir: tinyDir, Steps: 4, Resolution: res}, ct, tt, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			var tm Timings
			for b.Loop() {
				if _, tm, err = f.Generate(context.Background(), "a red cube", 1); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(tm.Denoise().Microseconds())/4, "µs/step")
			b.ReportMetric(float64(tm.Decode.Microseconds()), "decode-µs")
		})
	}
}

// BenchmarkGenerateDir times a real-size FLUX export, 4 steps, on the
// providers of $SPLATBENCH_FLUX_PROVIDERS (default cuda,cpu): the model
// directory is $SPLATBENCH_FLUX_DIR (skipped when unset), the sizes
// $SPLATBENCH_FLUX_RES (default 512,1024); $SPLATBENCH_FLUX_CUDA_GRAPH=1
// runs the transformer as a CUDA graph (Options.Graph) on GPU 0. Per
// iteration a new prompt, so the text encoders run every time, as in a
// job. tools/make_gpu_models.py
// writes random-weight models of the real size for it (docs/perf/ort-gpu.md).
func BenchmarkGenerateDir(b *testing.B) {
	dir := os.Getenv("SPLATBENCH_FLUX_DIR")
	if dir == "" {
		b.Skip("SPLATBENCH_FLUX_DIR is not set")
	}
	ct, tt := realTokenizers(b)
	providers := strings.Split(cmp.Or(os.Getenv("SPLATBENCH_FLUX_PROVIDERS"), "cuda,cpu"), ",")
	var graph ort.DeviceMemory
	if os.Getenv("SPLATBENCH_FLUX_CUDA_GRAPH") == "1" {
		c, err := cuda.Retain(0)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Release()
		graph = c
	}
	for _, r := range strings.Split(cmp.Or(os.Getenv("SPLATBENCH_FLUX_RES"), "512,1024"), ",") {
		res, err := strconv.Atoi(r)
		if err != nil {
			b.Fatalf("SPLATBENCH_FLUX_RES: %v", err)
		}
		b.Run(fmt.Sprintf("%dpx", res), func(b *testing.B) {
			f, err := New(context.Background(), testRuntime(b), Options{Dir: dir, Steps: 4, Resolution: res, Providers: providers, Graph: graph}, ct, tt, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.Logf("providers %v", f.Providers())
			var text, step, decode []time.Duration
			i := 0
			for b.Loop() {
				_, tm, err := f.Generate(context.Background(), fmt.Sprintf("a red cube number %d", i), 1)
				if err != nil {
					b.Fatal(err)
				}
				i++
				text, decode = append(text, tm.Text), append(decode, tm.Decode)
				step = append(step, tm.Steps...)
			}
			b.ReportMetric(ms(median(text)), "text-ms")
			b.ReportMetric(ms(median(step)), "step-ms")
			b.ReportMetric(ms(median(decode)), "decode-ms")
		})
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
