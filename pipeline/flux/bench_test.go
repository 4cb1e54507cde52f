package flux

import (
	"context"
	"testing"
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
