package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline/cuda"
	"github.com/splatbench/splatbench/pipeline/fit"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// Renderer renders many views of one cloud.
type Renderer interface {
	Render(ctx context.Context, c *splat.Cloud, cams []splat.Camera, opt splat.RenderOptions) ([]*splat.Image, error)
	// Device names what renders: "cpu", "cuda:N (card)" or
	// "cuda:all (n × card)".
	Device() string
}

type cpuRenderer struct{}

func (cpuRenderer) Render(ctx context.Context, c *splat.Cloud, cams []splat.Camera, opt splat.RenderOptions) ([]*splat.Image, error) {
	return splat.RenderBatch(ctx, c, cams, opt)
}

func (cpuRenderer) Device() string { return "cpu" }

// gpu is what the pipeline uses of one CUDA device (*cuda.Device).
type gpu interface {
	Render(ctx context.Context, c *splat.Cloud, cams []splat.Camera, opt splat.RenderOptions) ([]*splat.Image, error)
	RenderTimed(ctx context.Context, c *splat.Cloud, cams []splat.Camera, opt splat.RenderOptions) ([]*splat.Image, cuda.Timing, error)
	Fit(ctx context.Context, views []fit.View, opt fit.Options, log *slog.Logger, progress func(iter int, loss float64)) (*fit.Result, error)
	MemInfo() (free, total uint64, err error)
	Info() cuda.Info
}

// gpuRenderer hands each call a whole device of its pool: one device for
// "cuda"/"cuda:N", every device for "cuda:all", so concurrent jobs (the
// miner's and serve's workers) spread over the GPUs, one job per GPU at a
// time, the rest waiting for the next free one.
type gpuRenderer struct {
	free chan gpu
	name string
	log  *slog.Logger
}

func newGPURenderer(log *slog.Logger, name string, devs ...gpu) *gpuRenderer {
	r := &gpuRenderer{free: make(chan gpu, len(devs)), name: name, log: log}
	for _, d := range devs {
		r.free <- d
	}
	return r
}

// take waits for a free device; put it back with r.free <- g.
func (r *gpuRenderer) take(ctx context.Context) (gpu, error) {
	select {
	case g := <-r.free:
		r.log.Debug("gpu job", "device", g.Info().Index, "pool", r.name)
		return g, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a free GPU of %s: %w", r.name, context.Cause(ctx))
	}
}

// Render renders on a free device of the pool.
func (r *gpuRenderer) Render(ctx context.Context, c *splat.Cloud, cams []splat.Camera, opt splat.RenderOptions) ([]*splat.Image, error) {
	g, err := r.take(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { r.free <- g }()
	return g.Render(ctx, c, cams, opt)
}

// RenderTimed is Render that also returns the batch's device time in
// seconds (CUDA events).
func (r *gpuRenderer) RenderTimed(ctx context.Context, c *splat.Cloud, cams []splat.Camera, opt splat.RenderOptions) ([]*splat.Image, float64, error) {
	g, err := r.take(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer func() { r.free <- g }()
	ims, tm, err := g.RenderTimed(ctx, c, cams, opt)
	return ims, tm.DeviceMs / 1e3, err
}

// Memory returns the device memory in use and in total, summed over the
// pool's devices (waiting for each to be free).
func (r *gpuRenderer) Memory(ctx context.Context) (used, total uint64, err error) {
	for range cap(r.free) {
		g, err := r.take(ctx)
		if err != nil {
			return 0, 0, err
		}
		defer func() { r.free <- g }()
		f, t, err := g.MemInfo()
		if err != nil {
			return 0, 0, err
		}
		used, total = used+t-f, total+t
	}
	return used, total, nil
}

// Fit runs one fit on a free device (pipeline/fit's semantics).
func (r *gpuRenderer) Fit(ctx context.Context, views []fit.View, opt fit.Options, log *slog.Logger, progress func(iter int, loss float64)) (*fit.Result, error) {
	g, err := r.take(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { r.free <- g }()
	return g.Fit(ctx, views, opt, log, progress)
}

// Device names the pool: "cuda:N (card)" or "cuda:all (n × card)".
func (r *gpuRenderer) Device() string { return r.name }

// Renderer returns the renderer the profile's device selects: "cpu", a
// CUDA device ("cuda", "cuda:N"; an error when it cannot be opened), every
// CUDA device ("cuda:all", one job per device at a time), or "auto": CUDA
// device 0 when one opens, else the CPU with the reason logged. Every
// pipeline the Builder builds shares one pool per setting, so workers with
// a pipeline each still spread over the GPUs. Devices stay open until
// Close.
func (b *Builder) Renderer(p configs.Profile) (Renderer, error) {
	dev := strings.ToLower(p.Device)
	if dev == "cpu" {
		return cpuRenderer{}, nil
	}
	b.gpuMu.Lock()
	defer b.gpuMu.Unlock()
	if r, ok := b.gpus[dev]; ok {
		return r, nil
	}
	r, err := b.newRenderer(dev, p.Device)
	if g, ok := r.(*gpuRenderer); ok && err == nil {
		if b.gpus == nil {
			b.gpus = map[string]*gpuRenderer{}
		}
		b.gpus[dev] = g
	}
	return r, err
}

func (b *Builder) newRenderer(dev, setting string) (Renderer, error) {
	if dev == "cuda:all" {
		return b.allGPUs(setting)
	}
	index := 0
	if i, ok := strings.CutPrefix(dev, "cuda:"); ok {
		n, err := strconv.Atoi(i)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("device %q: want cpu, auto, cuda, cuda:N or cuda:all", setting)
		}
		index = n
	}
	d, err := b.openGPU(index)
	if err != nil {
		if dev == "auto" && (errors.Is(err, cuda.ErrNoDriver) || errors.Is(err, cuda.ErrNoDevice) || errors.Is(err, cuda.ErrNoPTX)) {
			b.log.Debug("no usable CUDA device; rendering on the CPU", "reason", err)
			return cpuRenderer{}, nil
		}
		if dev == "auto" {
			b.log.Warn("CUDA device failed to open; rendering on the CPU", "err", err)
			return cpuRenderer{}, nil
		}
		return nil, fmt.Errorf("device %s: %w", setting, err)
	}
	return newGPURenderer(b.log, fmt.Sprintf("cuda:%d (%s)", index, d.Info().Name), d), nil
}

func (b *Builder) openGPU(index int) (*cuda.Device, error) {
	m, err := b.model(context.Background(), "cuda|"+strconv.Itoa(index), func(context.Context) (closer, error) {
		return cuda.Open(index, b.log)
	})
	if err != nil {
		return nil, err
	}
	return m.(*cuda.Device), nil
}

// allGPUs opens every device the driver lists.
func (b *Builder) allGPUs(name string) (Renderer, error) {
	infos, err := cuda.Discover(b.log)
	if err != nil {
		return nil, fmt.Errorf("device %s: %w", name, err)
	}
	if len(infos) == 0 {
		return nil, fmt.Errorf("device %s: %w: the driver lists no device", name, cuda.ErrNoDevice)
	}
	devs := make([]gpu, len(infos))
	for i := range infos {
		d, err := b.openGPU(i)
		if err != nil {
			return nil, fmt.Errorf("device %s: GPU %d: %w", name, i, err)
		}
		devs[i] = d
	}
	return newGPURenderer(b.log, fmt.Sprintf("cuda:all (%d × %s)", len(infos), infos[0].Name), devs...), nil
}
