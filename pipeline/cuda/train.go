package cuda

import (
	"context"
	"errors"
	"fmt"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// Trace is what Backward needs from Forward: the batch's binning and per
// pixel final T and last contributor, all in the device's work buffers. It
// is valid until the next Render, Forward or Backward on the device.
type Trace struct {
	d     *Device
	dc    *DeviceCloud
	cams  []splat.Camera
	opt   splat.RenderOptions
	shDeg int
	gen   uint64
	b     *binned
}

// ErrStaleTrace is returned by Backward when the device has rendered since
// the Forward call that made the trace.
var ErrStaleTrace = errors.New("cuda: trace is stale (the device rendered again since Forward)")

// Forward renders a batch of views of one size and keeps the Trace that
// Backward needs.
func (d *Device) Forward(ctx context.Context, dc *DeviceCloud, cams []splat.Camera, opt splat.RenderOptions) ([]*splat.Image, *Trace, error) {
	if err := checkInputs(splat.NewCloud(0, dc.shDegree), cams); err != nil {
		return nil, nil, err
	}
	for i, c := range cams {
		if c.Width != cams[0].Width || c.Height != cams[0].Height {
			return nil, nil, fmt.Errorf("cuda: forward: view %d is %d×%d, view 0 is %d×%d: one batch needs one size",
				i, c.Width, c.Height, cams[0].Width, cams[0].Height)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	defer d.enter()()
	deg := opt.SHDegree
	if deg < 0 || deg > dc.shDegree {
		deg = dc.shDegree
	}
	ims, _, err := d.renderBatch(ctx, dc, cams, opt, deg, true)
	if err != nil {
		return nil, nil, err
	}
	return ims, &Trace{d: d, dc: dc, cams: cams, opt: opt, shDeg: deg, gen: d.gen, b: d.lastBin}, nil
}

// Backward adds to g the gradients of L given, per view, dL/dRGB (3·W·H)
// and dL/dAlpha (W·H; dAlpha or any entry may be nil), with the CPU
// engine's rules (splat.Backward), plus the densification statistics
// (MeanNDC summed over views, Visible).
func (d *Device) Backward(ctx context.Context, tr *Trace, dRGB, dAlpha [][]float32, g *splat.Grads) error {
	if tr == nil || tr.d != d {
		return fmt.Errorf("cuda: backward: trace from another device")
	}
	v := len(tr.cams)
	w, h := tr.cams[0].Width, tr.cams[0].Height
	npix := w * h
	if len(dRGB) != v {
		return fmt.Errorf("cuda: backward: %d dRGB images for %d views", len(dRGB), v)
	}
	for i := range dRGB {
		if len(dRGB[i]) != 3*npix {
			return fmt.Errorf("cuda: backward: view %d: dRGB has %d values, want 3·%d·%d", i, len(dRGB[i]), w, h)
		}
		if i < len(dAlpha) && dAlpha[i] != nil && len(dAlpha[i]) != npix {
			return fmt.Errorf("cuda: backward: view %d: dAlpha has %d values, want %d·%d", i, len(dAlpha[i]), w, h)
		}
	}
	dc := tr.dc
	n := dc.n
	k := (dc.shDegree + 1) * (dc.shDegree + 1)
	if len(g.Pos) != 3*n || len(g.SH) != 3*k*n || len(g.Rot) != 4*n || len(g.MeanNDC) != n || len(g.Visible) != n {
		return fmt.Errorf("cuda: backward: gradients shaped for %d Gaussians, cloud has %d", len(g.MeanNDC), n)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if tr.gen != d.gen {
		return ErrStaleTrace
	}
	defer d.enter()()
	ws := &d.ws
	hasAlpha := false
	for _, a := range dAlpha {
		hasAlpha = hasAlpha || a != nil
	}
	if err := d.zeroGrads(v, n, k, npix); err != nil {
		return err
	}
	for i := range v {
		if err := upload(d, ws.dRGB.ptr+uint64(12*i*npix), dRGB[i]); err != nil {
			return err
		}
		if i < len(dAlpha) && dAlpha[i] != nil {
			if err := upload(d, ws.dAlpha.ptr+uint64(4*i*npix), dAlpha[i]); err != nil {
				return err
			}
		}
	}
	dAlphaPtr := uint64(0)
	if hasAlpha {
		dAlphaPtr = ws.dAlpha.ptr
	}
	if err := d.launchBackward(tr.b, dc, tr.shDeg, tr.opt.Background, ws.dRGB.ptr, dAlphaPtr); err != nil {
		return err
	}
	tmp := splat.Grads{Pos: make([]float32, 3*n), LogScale: make([]float32, 3*n), Rot: make([]float32, 4*n),
		OpacityLogit: make([]float32, n), SH: make([]float32, 3*k*n), MeanNDC: make([]float32, n)}
	vis := make([]uint8, n)
	for _, c := range []struct {
		dst []float32
		src uint64
	}{{tmp.Pos, ws.gPos.ptr}, {tmp.LogScale, ws.gScale.ptr}, {tmp.Rot, ws.gRot.ptr}, {tmp.OpacityLogit, ws.gOp.ptr},
		{tmp.SH, ws.gSH.ptr}, {tmp.MeanNDC, ws.gNDC.ptr}} {
		if err := download(d, c.dst, c.src); err != nil {
			return err
		}
	}
	if err := download(d, vis, ws.gVis.ptr); err != nil {
		return err
	}
	if err := d.sync(); err != nil {
		return err
	}
	addTo(g.Pos, tmp.Pos)
	addTo(g.LogScale, tmp.LogScale)
	addTo(g.Rot, tmp.Rot)
	addTo(g.OpacityLogit, tmp.OpacityLogit)
	addTo(g.SH, tmp.SH)
	addTo(g.MeanNDC, tmp.MeanNDC)
	for i, x := range vis {
		if x != 0 {
			g.Visible[i] = true
		}
	}
	return nil
}

const gradSlots = 9 // GRAD_SLOTS in kernels/common.cuh

func addTo(dst, src []float32) {
	for i, x := range src {
		dst[i] += x
	}
}

// zeroGrads sizes and clears the gradient buffers for v views of npix
// pixels and n Gaussians with k SH coefficients per channel.
func (d *Device) zeroGrads(v, n, k, npix int) error {
	ws := &d.ws
	sizes := []struct {
		b    *devBuf
		size uint64
	}{
		{&ws.acc, uint64(4 * gradSlots * v * max(n, 1))}, {&ws.dRGB, uint64(12 * v * npix)}, {&ws.dAlpha, uint64(4 * v * npix)},
		{&ws.gPos, uint64(12 * n)}, {&ws.gScale, uint64(12 * n)}, {&ws.gRot, uint64(16 * n)}, {&ws.gOp, uint64(4 * n)},
		{&ws.gSH, uint64(12 * k * n)}, {&ws.gNDC, uint64(4 * n)}, {&ws.gVis, uint64(n)},
	}
	for _, e := range sizes {
		if err := d.ensure(e.b, e.size, "gradients"); err != nil {
			return err
		}
		if err := d.memset0(e.b.ptr, e.size); err != nil {
			return err
		}
	}
	return nil
}

// launchBackward queues the two backward kernels for the batch b of dc
// (binned by a Forward, whose chunk plan and per-chunk states it uses)
// given dL/dRGB and dL/dAlpha on the device (dAlpha may be 0); the
// gradients land in the work buffers zeroGrads prepared.
func (d *Device) launchBackward(b *binned, dc *DeviceCloud, shDeg int, bg [3]float32, dRGB, dAlpha uint64) error {
	ws := &d.ws
	mp := b.mp
	n := dc.n
	k := (dc.shDegree + 1) * (dc.shDegree + 1)
	if b.chunkBlocks == 0 {
		return fmt.Errorf("cuda: backward: the batch has no chunk plan (not a Forward)")
	}
	err := d.launch("rasterBackward", [3]uint32{uint32(b.chunkBlocks), 1, 1}, [3]uint32{256, 1, 1},
		ws.views.ptr, ws.ranges.ptr, ws.work.ptr, ws.nWork.ptr, ws.tileChunk.ptr, int32(b.chunkLen), b.vals,
		ws.xy.ptr, ws.conicOp.ptr, ws.rgbd.ptr, mp.alphaMax, bg[0], bg[1], bg[2],
		ws.finalT.ptr, ws.last.ptr, ws.partC.ptr, ws.partTL.ptr, dRGB, dAlpha, ws.acc.ptr)
	if err != nil || n == 0 {
		return err
	}
	return d.launch("gaussBackward", [3]uint32{cdiv(n, 256), uint32(b.views), 1}, [3]uint32{256, 1, 1},
		ws.views.ptr, mp.near, mp.perAxis, dc.pos.ptr, dc.logScale.ptr, dc.rot.ptr, dc.opLogit.ptr, dc.sh.ptr,
		int32(n), int32(k), int32(shDeg), ws.acc.ptr, ws.gPos.ptr, ws.gScale.ptr, ws.gRot.ptr, ws.gOp.ptr,
		ws.gSH.ptr, ws.gNDC.ptr, ws.gVis.ptr)
}
