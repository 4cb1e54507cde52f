package score

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/splatbench/splatbench/internal/benchtest"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// BenchmarkCLIPPreprocess: one 518² validator view to a 224² CLIP input,
// the preprocessing before session 16 (ref, the baseline) against Apply
// (new).
func BenchmarkCLIPPreprocess(b *testing.B) {
	rgb := ramp(splat.ValidatorSize, splat.ValidatorSize)
	for _, p := range []Preprocess{PreprocessCLIP, PreprocessValidator} {
		b.Run(p.String(), func(b *testing.B) {
			benchtest.Ratio(b, "ms/view",
				benchtest.Case{Name: "ref", Run: func() error {
					_, err := applyRef(p, rgb, splat.ValidatorSize, splat.ValidatorSize, CLIPInputSize)
					return err
				}},
				benchtest.Case{Name: "new", Run: func() error {
					_, err := p.Apply(rgb, splat.ValidatorSize, splat.ValidatorSize, CLIPInputSize)
					return err
				}},
			)
		})
	}
}

// BenchmarkResizeRGB: one 518² view to 224² with PIL's kernel: each
// plane on its own (the baseline, the resize before session 12), the
// interleaved image at once (before session 16) and the streamed resize
// on flat taps (into planes, as the others).
func BenchmarkResizeRGB(b *testing.B) {
	n := splat.ValidatorSize
	rgb := ramp(n, n)
	xs, ys := refPilWeights(n, CLIPInputSize), refPilWeights(n, CLIPInputSize)
	fx, fy := pilTaps(n, CLIPInputSize), pilTaps(n, CLIPInputSize)
	benchtest.Ratio(b, "ms/view",
		benchtest.Case{Name: "planes", Run: func() error { resizePlanes(rgb, n, n, xs, ys); return nil }},
		benchtest.Case{Name: "rgb", Run: func() error { refResizeRGB(rgb, n, n, xs, ys); return nil }},
		benchtest.Case{Name: "stream", Run: func() error { resizeRGB(rgb, n, n, fx, fy); return nil }},
	)
}

// benchViews times work(workers) on one core (the baseline, as before
// session 6) and on every core, reporting ms per 16 views and the
// baseline's time over this run's ("speedup").
func benchViews(b *testing.B, work func(workers int) error) {
	var cases []benchtest.Case
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		cases = append(cases, benchtest.Case{Name: fmt.Sprintf("workers=%d", workers), Run: func() error { return work(workers) }})
	}
	benchtest.Ratio(b, "ms/16-views", cases...)
}

// BenchmarkCLIPPreprocessViews: the 16 validator views to one batch
// tensor, on one core and on every core; at each, the preprocessing
// before session 16 (ref, the baseline: applyRef per view, copied into
// the batch) against applyViews (new).
func BenchmarkCLIPPreprocessViews(b *testing.B) {
	views := make([][]float32, splat.ValidatorViews)
	for i := range views {
		views[i] = ramp(splat.ValidatorSize, splat.ValidatorSize)
	}
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			benchtest.Ratio(b, "ms/16-views",
				benchtest.Case{Name: "ref", Run: func() error {
					_, err := applyViewsRef(PreprocessCLIP, views, splat.ValidatorSize, CLIPInputSize, workers)
					return err
				}},
				benchtest.Case{Name: "new", Run: func() error {
					_, err := PreprocessCLIP.applyViews(views, splat.ValidatorSize, CLIPInputSize, workers)
					return err
				}},
			)
		})
	}
}

// BenchmarkCompareViews: PSNR and SSIM of the 16 validator views at 518²
// (the fidelity score of an image job).
func BenchmarkCompareViews(b *testing.B) {
	n := splat.ValidatorSize
	pred, ref := make([][]float32, splat.ValidatorViews), make([][]float32, splat.ValidatorViews)
	for i := range pred {
		pred[i], ref[i] = ramp(n, n), ramp(n, n)
		ref[i][i] = 0.5
	}
	benchViews(b, func(workers int) error {
		_, err := compareViews(context.Background(), pred, ref, n, n, workers)
		return err
	})
}

// BenchmarkCLIPScoreTiny: the whole self-check (normalise, 16 renders of
// 7000 Gaussians, preprocessing, tiny towers) — the cost outside the
// CLIP model itself.
func BenchmarkCLIPScoreTiny(b *testing.B) {
	dir := filepath.Join("..", "..", "testdata", "models", "clip-tiny")
	c, err := NewCLIP(context.Background(), testRuntime(b), CLIPOptions{Dir: dir, Tokenizer: fakeTok{}}, nil)
	if err != nil {
		b.Skip(err)
	}
	defer c.Close()
	cloud := testCloud(splat.GateMinGaussians)
	var res CLIPResult
	for b.Loop() {
		if res, err = c.Score(context.Background(), cloud, "a red and blue ball", nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(res.Render.Milliseconds()), "render-ms")
	b.ReportMetric(float64(res.Encode.Milliseconds()), "encode-ms")
}
