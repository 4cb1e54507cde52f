package cuda

import (
	"context"
	"fmt"
	"unsafe"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// Timing is what the device spent on one batch, measured with CUDA events
// around the device work (projection to the last raster kernel; it
// includes the one host round trip that reads the instance count, and
// excludes the cloud upload and the image download).
type Timing struct {
	DeviceMs  float64
	Instances int     // (Gaussian, tile) pairs sorted
	Stages    []Stage // with SetProfile(true): device time per stage, summed over groups
}

// Render rasterises every camera of the batch on the device and returns
// images identical in layout to splat.Render's. Cameras of different sizes
// are rendered in groups of one size.
func (d *Device) Render(ctx context.Context, c *splat.Cloud, cams []splat.Camera, opt splat.RenderOptions) ([]*splat.Image, error) {
	ims, _, err := d.RenderTimed(ctx, c, cams, opt)
	return ims, err
}

// RenderTimed is Render that also reports the device time of each group
// summed.
func (d *Device) RenderTimed(ctx context.Context, c *splat.Cloud, cams []splat.Camera, opt splat.RenderOptions) ([]*splat.Image, Timing, error) {
	if err := checkInputs(c, cams); err != nil {
		return nil, Timing{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	defer d.enter()()
	if err := d.uploadCloud(&d.ws.cloud, c); err != nil {
		return nil, Timing{}, err
	}
	return d.renderGroups(ctx, &d.ws.cloud, cams, opt, shDegree(opt, c))
}

// RenderDevice renders a resident cloud.
func (d *Device) RenderDevice(ctx context.Context, dc *DeviceCloud, cams []splat.Camera, opt splat.RenderOptions) ([]*splat.Image, Timing, error) {
	if err := checkInputs(splat.NewCloud(0, dc.shDegree), cams); err != nil {
		return nil, Timing{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	defer d.enter()()
	deg := opt.SHDegree
	if deg < 0 || deg > dc.shDegree {
		deg = dc.shDegree
	}
	return d.renderGroups(ctx, dc, cams, opt, deg)
}

func (d *Device) renderGroups(ctx context.Context, dc *DeviceCloud, cams []splat.Camera, opt splat.RenderOptions, shDeg int) ([]*splat.Image, Timing, error) {
	out := make([]*splat.Image, len(cams))
	var tm Timing
	done := make([]bool, len(cams))
	for i := range cams {
		if done[i] {
			continue
		}
		var idx []int
		for j := i; j < len(cams); j++ {
			if !done[j] && cams[j].Width == cams[i].Width && cams[j].Height == cams[i].Height {
				idx = append(idx, j)
				done[j] = true
			}
		}
		group := make([]splat.Camera, len(idx))
		for k, j := range idx {
			group[k] = cams[j]
		}
		ims, t, err := d.renderBatch(ctx, dc, group, opt, shDeg, false)
		if err != nil {
			return nil, Timing{}, err
		}
		for k, j := range idx {
			out[j] = ims[k]
		}
		tm.DeviceMs += t.DeviceMs
		tm.Instances += t.Instances
		for i, st := range t.Stages {
			if i < len(tm.Stages) {
				tm.Stages[i].Ms += st.Ms
			} else {
				tm.Stages = append(tm.Stages, st)
			}
		}
	}
	return out, tm, nil
}

// renderBatch renders views of one size; with keep it also stores final T
// and the last contributor per pixel for Backward. The caller holds the
// device.
func (d *Device) renderBatch(ctx context.Context, dc *DeviceCloud, cams []splat.Camera, opt splat.RenderOptions, shDeg int, keep bool) ([]*splat.Image, Timing, error) {
	if len(cams) == 0 {
		return nil, Timing{}, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, Timing{}, err
	}
	mp, err := paramsFor(opt.Mode)
	if err != nil {
		return nil, Timing{}, err
	}
	d.gen++
	d.dropMarks()
	vp := make([]viewParams, len(cams))
	for i, cam := range cams {
		vp[i] = newViewParams(cam)
	}
	start, stop, err := d.events()
	if err != nil {
		return nil, Timing{}, err
	}
	defer d.a.cuEventDestroy(start)
	defer d.a.cuEventDestroy(stop)
	if err := d.a.check("cuEventRecord", d.a.cuEventRecord(start, d.stream)); err != nil {
		return nil, Timing{}, err
	}
	b, err := d.binAndRaster(dc, vp, mp, shDeg, opt.Background, keep)
	if err != nil {
		return nil, Timing{}, err
	}
	w, h := cams[0].Width, cams[0].Height
	npix := len(cams) * w * h
	ws := &d.ws
	d.mark("raster")
	if err := d.a.check("cuEventRecord", d.a.cuEventRecord(stop, d.stream)); err != nil {
		return nil, Timing{}, err
	}
	rgb := make([]float32, 3*npix)
	alpha := make([]float32, npix)
	var depth []float32
	if !opt.SkipDepth {
		depth = make([]float32, npix)
	}
	for _, c := range []struct {
		dst []float32
		src uint64
	}{{rgb, ws.rgb.ptr}, {alpha, ws.alpha.ptr}, {depth, ws.depth.ptr}} {
		if err := download(d, c.dst, c.src); err != nil {
			return nil, Timing{}, err
		}
	}
	if err := d.sync(); err != nil {
		return nil, Timing{}, err
	}
	var ms float32
	if err := d.a.check("cuEventElapsedTime", d.a.cuEventElapsedTime(unsafe.Pointer(&ms), start, stop)); err != nil {
		return nil, Timing{}, err
	}
	d.lastBin = b
	stages := d.stages(start)
	ims := make([]*splat.Image, len(cams))
	for i := range ims {
		p := w * h
		ims[i] = &splat.Image{Width: w, Height: h,
			RGB: rgb[3*i*p : 3*(i+1)*p : 3*(i+1)*p], Alpha: alpha[i*p : (i+1)*p : (i+1)*p]}
		if depth != nil {
			ims[i].Depth = depth[i*p : (i+1)*p : (i+1)*p]
		}
	}
	return ims, Timing{DeviceMs: float64(ms), Instances: b.instances, Stages: stages}, nil
}

// binAndRaster projects, bins and rasterises views of one size into the
// work buffers (with keep also final T and the last contributor per pixel
// for Backward); the caller holds the device.
func (d *Device) binAndRaster(dc *DeviceCloud, vp []viewParams, mp modeParams, shDeg int, bg [3]float32, keep bool) (*binned, error) {
	local := localSort
	if keep {
		local = localSortFit
	}
	b, err := d.bin(dc, vp, mp, shDeg, local)
	if err != nil {
		return nil, err
	}
	npix := len(vp) * int(vp[0].W) * int(vp[0].H)
	ws := &d.ws
	bufs := []*devBuf{&ws.rgb, &ws.alpha, &ws.depth}
	sizes := []uint64{uint64(12 * npix), uint64(4 * npix), uint64(4 * npix)}
	if keep {
		bufs = append(bufs, &ws.finalT, &ws.last)
		sizes = append(sizes, uint64(4*npix), uint64(4*npix))
	}
	for i, e := range bufs {
		if err := d.ensure(e, sizes[i], "images"); err != nil {
			return nil, err
		}
	}
	finalT, last := uint64(0), uint64(0)
	if keep {
		finalT, last = ws.finalT.ptr, ws.last.ptr
	}
	order, err := d.tileOrder(len(vp), int(vp[0].TilesX), int(vp[0].TilesY))
	if err != nil {
		return nil, err
	}
	if keep {
		return b, d.rasterChunked(b, order, mp, bg)
	}
	err = d.launch("rasterForward", [3]uint32{uint32(len(vp) * b.tilesPerVw), 1, 1}, [3]uint32{256, 1, 1},
		ws.views.ptr, ws.ranges.ptr, order, b.vals, ws.xy.ptr, ws.conicOp.ptr, ws.rgbd.ptr, mp.alphaMax, mp.stopAt,
		bg[0], bg[1], bg[2], ws.rgb.ptr, ws.alpha.ptr, ws.depth.ptr, finalT, last)
	return b, err
}

func (d *Device) events() (start, stop uintptr, err error) {
	if err := d.a.check("cuEventCreate", d.a.cuEventCreate(unsafe.Pointer(&start), 0)); err != nil {
		return 0, 0, err
	}
	if err := d.a.check("cuEventCreate", d.a.cuEventCreate(unsafe.Pointer(&stop), 0)); err != nil {
		d.a.cuEventDestroy(start)
		return 0, 0, fmt.Errorf("second event: %w", err)
	}
	return start, stop, nil
}
