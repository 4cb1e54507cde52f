package pod

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/cuda"
	"github.com/splatbench/splatbench/pipeline/scenes"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// The GPU benchmark: the project's own CUDA rasteriser renders a fixed
// reference scene from 16 views at 512², timed by CUDA events; the best of
// a few runs counts. Its unit is gigapixels per second.
const (
	benchName   = "gpu_render"
	benchUnit   = "Gpx/s"
	benchViews  = 16
	benchSize   = 512
	benchRuns   = 3
	benchPoints = 200_000
)

// GPUHealthRule is DefaultHealthRule for the render benchmark.
func GPUHealthRule() HealthRule {
	r := DefaultHealthRule()
	r.Benchmark, r.Unit = benchName, benchUnit
	return r
}

// timedRenderer is what the benchmark needs of one device's renderer (the
// pipeline's GPU pool for "cuda:N").
type timedRenderer interface {
	RenderTimed(ctx context.Context, c *splat.Cloud, cams []splat.Camera, opt splat.RenderOptions) ([]*splat.Image, float64, error)
	Memory(ctx context.Context) (used, total uint64, err error)
}

// cudaDevice is one GPU opened through the pipeline's Builder, or the
// reason it did not open.
type cudaDevice struct {
	info cuda.Info
	r    timedRenderer
	err  error
}

// CUDADevices lists every GPU the driver sees, each opened through b as
// "cuda:N" (the same devices the pipelines use). A machine without a CUDA
// driver or device has none: a CPU pod. A GPU that does not open is still
// listed, and fails its check.
func CUDADevices(b *pipeline.Builder, p configs.Profile, log *slog.Logger) ([]Device, error) {
	infos, err := cuda.Discover(log)
	if errors.Is(err, cuda.ErrNoDriver) || errors.Is(err, cuda.ErrNoDevice) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pod: listing GPUs: %w", err)
	}
	devs := make([]Device, len(infos))
	for i, inf := range infos {
		d := &cudaDevice{info: inf}
		p.Device = fmt.Sprintf("cuda:%d", inf.Index)
		r, err := b.Renderer(p)
		if err == nil {
			tr, ok := r.(timedRenderer)
			if !ok {
				err = fmt.Errorf("renderer %s has no device timing", r.Device())
			}
			d.r = tr
		}
		d.err = err
		devs[i] = d
	}
	return devs, nil
}

func (d *cudaDevice) Index() int   { return d.info.Index }
func (d *cudaDevice) Name() string { return d.info.Name }

func (d *cudaDevice) MemInfo() (free, total uint64, err error) {
	if d.err != nil {
		return 0, 0, d.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	used, total, err := d.r.Memory(ctx)
	return total - used, total, err
}

func (d *cudaDevice) Bench(ctx context.Context) (float64, error) {
	if d.err != nil {
		return 0, d.err
	}
	sc, err := scenes.Get("sphere-on-box")
	if err != nil {
		return 0, err
	}
	cloud := sc.Build(1, benchPoints)
	cams := scenes.HeldOutViews(benchViews, benchSize)
	opt := splat.RenderOptions{Background: [3]float32{1, 1, 1}}
	if _, _, err := d.r.RenderTimed(ctx, cloud, cams, opt); err != nil { // warm-up
		return 0, err
	}
	best := 0.0
	for range benchRuns {
		_, sec, err := d.r.RenderTimed(ctx, cloud, cams, opt)
		if err != nil {
			return 0, err
		}
		if sec > 0 && (best == 0 || sec < best) {
			best = sec
		}
	}
	if best == 0 {
		return 0, errors.New("benchmark measured no device time")
	}
	return benchViews * benchSize * benchSize / best / 1e9, nil
}
