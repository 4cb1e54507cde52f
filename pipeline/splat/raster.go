package splat

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/splatbench/splatbench/internal/parallel"
)

// RenderOptions configures a render.
type RenderOptions struct {
	Background [3]float32
	Mode       Mode
	SHDegree   int // use at most this degree (-1 = the cloud's degree); the validator uses 0
	Workers    int // 0 = GOMAXPROCS
	// SkipDepth says the caller does not read Image.Depth: a renderer may
	// leave it nil (the CUDA one then does not copy it back).
	SkipDepth bool
}

func (o RenderOptions) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

func (o RenderOptions) shDegree(c *Cloud) int {
	if o.SHDegree < 0 || o.SHDegree > c.SHDegree {
		return c.SHDegree
	}
	return o.SHDegree
}

// ErrBadCamera is wrapped by errors about unusable cameras.
var ErrBadCamera = errors.New("splat: bad camera")

func checkCamera(cam Camera) error {
	if cam.Width <= 0 || cam.Height <= 0 || cam.Width > 1<<15 || cam.Height > 1<<15 {
		return fmt.Errorf("%w: image size %d×%d", ErrBadCamera, cam.Width, cam.Height)
	}
	if !(cam.Fx > 0) || !(cam.Fy > 0) {
		return fmt.Errorf("%w: focal lengths fx=%v fy=%v must be positive", ErrBadCamera, cam.Fx, cam.Fy)
	}
	return nil
}

// splat2D is the projected Gaussian the compositing loop reads.
type splat2D struct {
	mx, my     float32
	ca, cb, cc float32 // conic (A, B, C): power = −½(A dx² + C dy²) − B dx dy
	op         float32
	col        [3]float32
	depth      float32
	tau        float32 // α ≥ 1/255 only where A dx² + 2B dx dy + C dy² ≤ tau (with margin)
	hx, hy     float32 // half-extents of that ellipse in pixels
	q          float32 // exp(−A), the second-order step of G along a row
	invA       float32 // 1/A
	aTau       float32 // A·tau
	det        float32 // AC − B²
}

// frame is one view's forward state. A Trace keeps it for the backward pass;
// RenderBatch workers reuse one across views.
type frame struct {
	v        viewCtx
	bg       [3]float32
	sp       []splat2D
	rect     [][4]int32
	visible  []bool
	clampRGB []uint8
	order    []int32 // binned Gaussians sorted by depth (stable)
	keys     []uint32
	tmpK     []uint32
	tmpV     []int32
	fill     []int32
	tileOff  []int32 // tile t's list is list[tileOff[t]:tileOff[t+1]]
	list     []int32
	finalT   []float32 // per pixel (Trace only)
	last     []int32   // per pixel: position in the tile list of the last Gaussian added, −1 for none
	evals    atomic.Int64
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// prepare projects every Gaussian (parallel over chunks), sorts the binned
// ones by depth and builds the per-tile lists.
func (f *frame) prepare(ctx context.Context, c *Cloud, workers int) error {
	n := c.Len()
	f.sp = grow(f.sp, n)
	f.rect = grow(f.rect, n)
	f.visible = grow(f.visible, n)
	f.clampRGB = grow(f.clampRGB, n)
	err := parallel.Chunks(ctx, n, workers, 4096, func(lo, hi int) {
		var p proj
		for i := lo; i < hi; i++ {
			f.v.project(c, i, &p)
			f.visible[i] = p.visible
			f.clampRGB[i] = p.clampRGB
			if !p.binned {
				f.rect[i] = [4]int32{}
				continue
			}
			f.rect[i] = p.rect
			tau := 2 * float32(ln64(float64(p.op)/alphaMin))
			tau = tau*1.001 + 1e-2
			f.sp[i] = splat2D{
				mx: p.mean[0], my: p.mean[1],
				ca: p.conic[0], cb: p.conic[1], cc: p.conic[2],
				op: p.op, col: p.col, depth: p.tc[2], tau: tau,
				hx: sqrt32(tau * p.a), hy: sqrt32(tau * p.c),
				q:    fastExp(-p.conic[0]),
				invA: 1 / p.conic[0], aTau: p.conic[0] * tau,
				det: p.conic[0]*p.conic[2] - p.conic[1]*p.conic[1],
			}
		}
	})
	if err != nil {
		return err
	}
	f.sortByDepth(n)
	f.bin()
	return nil
}
