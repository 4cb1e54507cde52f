package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline/cuda"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// Renderer renders many views of one cloud.
type Renderer interface {
	Render(ctx context.Context, c *splat.Cloud, cams []splat.Camera, opt splat.RenderOptions) ([]*splat.Image, error)
	// Device names what renders: "cpu" or "cuda:N (card)".
	Device() string
}

type cpuRenderer struct{}

func (cpuRenderer) Render(ctx context.Context, c *splat.Cloud, cams []splat.Camera, opt splat.RenderOptions) ([]*splat.Image, error) {
	return splat.RenderBatch(ctx, c, cams, opt)
}

func (cpuRenderer) Device() string { return "cpu" }

type gpuRenderer struct {
	d     *cuda.Device
	index int
}

func (g gpuRenderer) Render(ctx context.Context, c *splat.Cloud, cams []splat.Camera, opt splat.RenderOptions) ([]*splat.Image, error) {
	return g.d.Render(ctx, c, cams, opt)
}

func (g gpuRenderer) Device() string { return fmt.Sprintf("cuda:%d (%s)", g.index, g.d.Info().Name) }

// Renderer returns the renderer the profile's device selects: "cpu", a
// CUDA device ("cuda", "cuda:N"; an error when it cannot be opened), or
// "auto": CUDA device 0 when one opens, else the CPU with the reason
// logged. The device stays open until Close.
func (b *Builder) Renderer(p configs.Profile) (Renderer, error) {
	dev := strings.ToLower(p.Device)
	if dev == "cpu" {
		return cpuRenderer{}, nil
	}
	index := 0
	if i, ok := strings.CutPrefix(dev, "cuda:"); ok {
		n, err := strconv.Atoi(i)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("device %q: want cpu, auto, cuda or cuda:N", p.Device)
		}
		index = n
	}
	m, err := b.model(context.Background(), "cuda|"+strconv.Itoa(index), func(context.Context) (closer, error) {
		return cuda.Open(index, b.log)
	})
	if err != nil {
		if dev == "auto" && (errors.Is(err, cuda.ErrNoDriver) || errors.Is(err, cuda.ErrNoDevice) || errors.Is(err, cuda.ErrNoPTX)) {
			b.log.Debug("no usable CUDA device; rendering on the CPU", "reason", err)
			return cpuRenderer{}, nil
		}
		if dev == "auto" {
			b.log.Warn("CUDA device failed to open; rendering on the CPU", "err", err)
			return cpuRenderer{}, nil
		}
		return nil, fmt.Errorf("device %s: %w", p.Device, err)
	}
	return gpuRenderer{d: m.(*cuda.Device), index: index}, nil
}
