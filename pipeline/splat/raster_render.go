package splat

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// Trace is what Backward needs from a Forward call: the projected Gaussians,
// the per-tile depth-ordered lists, and per pixel the final transmittance and
// the last contributor. It references the cloud it was made from; the cloud
// must not change between Forward and Backward.
type Trace struct {
	f       *frame
	cloud   *Cloud
	cam     Camera
	workers int // Backward uses the forward call's worker count
}

// Camera returns the camera the trace was rendered with.
func (t *Trace) Camera() Camera { return t.cam }

func checkCloud(c *Cloud) error {
	if c == nil {
		return fmt.Errorf("%w: nil cloud", ErrInvalidCloud)
	}
	n := c.Len()
	if c.SHDegree < 0 || c.SHDegree > MaxSHDegree {
		return fmt.Errorf("%w: SH degree %d outside 0..%d", ErrInvalidCloud, c.SHDegree, MaxSHDegree)
	}
	if len(c.Pos) != 3*n || len(c.LogScale) != 3*n || len(c.Rot) != 4*n || len(c.SH) != 3*c.K()*n {
		return fmt.Errorf("%w: array lengths pos %d, scale %d, rot %d, sh %d do not match %d Gaussians of SH degree %d",
			ErrInvalidCloud, len(c.Pos), len(c.LogScale), len(c.Rot), len(c.SH), n, c.SHDegree)
	}
	return nil
}

// setup readies f for a view.
func (f *frame) setup(c *Cloud, cam Camera, opt RenderOptions) error {
	if err := checkCamera(cam); err != nil {
		return err
	}
	p, err := paramsFor(opt.Mode)
	if err != nil {
		return err
	}
	f.v = newViewCtx(cam, p, opt.shDegree(c))
	f.bg = opt.Background
	return nil
}

// rasterize composites every tile into im, parallel over tiles.
func (f *frame) rasterize(ctx context.Context, im *Image, workers int, keep bool) error {
	nt := f.v.tilesX * f.v.tilesY
	if keep {
		f.finalT = grow(f.finalT, f.v.w*f.v.h)
		f.last = grow(f.last, f.v.w*f.v.h)
	}
	workers = max(1, min(workers, nt))
	var next atomic.Int64
	var wg sync.WaitGroup
	run := func() {
		st := new(tileState)
		var evals int64
		for ctx.Err() == nil {
			t := int(next.Add(1)) - 1
			if t >= nt {
				break
			}
			evals += f.rasterTile(t%f.v.tilesX, t/f.v.tilesX, st, im, keep)
		}
		f.evals.Add(evals)
	}
	if workers == 1 {
		run()
	} else {
		for range workers {
			wg.Go(run)
		}
		wg.Wait()
	}
	return ctx.Err()
}

func (f *frame) render(ctx context.Context, c *Cloud, cam Camera, opt RenderOptions, workers int, keep bool) (*Image, error) {
	if err := f.setup(c, cam, opt); err != nil {
		return nil, err
	}
	if err := f.prepare(ctx, c, workers); err != nil {
		return nil, err
	}
	im := NewImage(cam.Width, cam.Height)
	if err := f.rasterize(ctx, im, workers, keep); err != nil {
		return nil, err
	}
	return im, nil
}

// Render rasterises one view of c.
func Render(ctx context.Context, c *Cloud, cam Camera, opt RenderOptions) (*Image, error) {
	if err := checkCloud(c); err != nil {
		return nil, err
	}
	var f frame
	return f.render(ctx, c, cam, opt, opt.workers(), false)
}

// RenderBatch renders many views of one cloud. With at least as many views
// as workers, each worker renders whole views with its own reused buffers
// (no synchronisation inside a view); otherwise views run one after the
// other, each parallel over tiles.
func RenderBatch(ctx context.Context, c *Cloud, cams []Camera, opt RenderOptions) ([]*Image, error) {
	ims, _, err := renderBatch(ctx, c, cams, opt)
	return ims, err
}

// renderBatch also returns the number of Gaussian–pixel evaluations.
func renderBatch(ctx context.Context, c *Cloud, cams []Camera, opt RenderOptions) ([]*Image, int64, error) {
	if err := checkCloud(c); err != nil {
		return nil, 0, err
	}
	for i, cam := range cams {
		if err := checkCamera(cam); err != nil {
			return nil, 0, fmt.Errorf("view %d: %w", i, err)
		}
	}
	out := make([]*Image, len(cams))
	workers := opt.workers()
	var evals atomic.Int64
	if len(cams) < workers || workers == 1 {
		var f frame
		for i, cam := range cams {
			im, err := f.render(ctx, c, cam, opt, workers, false)
			if err != nil {
				return nil, 0, fmt.Errorf("view %d: %w", i, err)
			}
			out[i] = im
		}
		return out, f.evals.Load(), nil
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, len(cams))
	for range workers {
		wg.Go(func() {
			var f frame
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(cams) {
					break
				}
				out[i], errs[i] = f.render(ctx, c, cams[i], opt, 1, false)
			}
			evals.Add(f.evals.Load())
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	for i, err := range errs {
		if err != nil {
			return nil, 0, fmt.Errorf("view %d: %w", i, err)
		}
	}
	return out, evals.Load(), nil
}

// Forward renders one view and keeps the Trace that Backward needs.
func Forward(ctx context.Context, c *Cloud, cam Camera, opt RenderOptions) (*Image, *Trace, error) {
	if err := checkCloud(c); err != nil {
		return nil, nil, err
	}
	f := new(frame)
	im, err := f.render(ctx, c, cam, opt, opt.workers(), true)
	if err != nil {
		return nil, nil, err
	}
	return im, &Trace{f: f, cloud: c, cam: cam, workers: opt.workers()}, nil
}
