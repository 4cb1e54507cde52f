package cuda

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/splatbench/splatbench/pipeline/fit"
)

// Fit is fit.Fit on the device: the same view preparation, initialisation,
// view cycling, random backgrounds, learning-rate and SH schedules, loss
// (L1 + D-SSIM + alpha, kernels/loss.cu), Adam and densification schedule,
// with forward, loss, backward, Adam and the densification statistics on
// the GPU. The host sees each iteration only through the one read-back the
// binning needs (the instance count), which also carries the previous
// iteration's loss: progress(i, loss) is called while iteration i+1 runs,
// and a diverged loss stops the fit one iteration late. Every
// DensifyInterval iterations (and at opacity resets) the whole state is
// downloaded, densified, pruned or reset by pipeline/fit's own code and
// uploaded again.
//
// Stats' Forward/Loss/Backward/Adam seconds are CUDA-event times of those
// phases (Forward includes the binning's host round trip); DensifySeconds
// is wall time. The device is held for the whole fit.
func (d *Device) Fit(ctx context.Context, views []fit.View, opt fit.Options, log *slog.Logger, progress func(iter int, loss float64)) (*fit.Result, error) {
	return d.FitBatch(ctx, views, opt, 1, log, progress)
}

// FitBatch is Fit rendering batch views in each iteration (iteration i uses
// views (i−1)·batch … (i−1)·batch + batch − 1, mod K, all of one size, on
// one background) and optimising the mean of their losses. batch 1 is Fit.
func (d *Device) FitBatch(ctx context.Context, views []fit.View, opt fit.Options, batch int, log *slog.Logger, progress func(iter int, loss float64)) (*fit.Result, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	views, err := fit.PrepareViews(views, opt)
	if err != nil {
		return nil, err
	}
	if batch < 1 || batch > len(views) {
		return nil, fmt.Errorf("cuda: fit: batch %d, want 1..%d (the view count)", batch, len(views))
	}
	if opt.AreaPriorWeight > 0 {
		return nil, fmt.Errorf("cuda: fit: AreaPriorWeight %g: the device fit has no area prior (fit it on the CPU)", opt.AreaPriorWeight)
	}
	if batch > 1 {
		for i, v := range views {
			if v.Camera.Width != views[0].Camera.Width || v.Camera.Height != views[0].Camera.Height {
				return nil, fmt.Errorf("cuda: fit: batch %d needs views of one size: view %d is %d×%d, view 0 %d×%d",
					batch, i, v.Camera.Width, v.Camera.Height, views[0].Camera.Width, views[0].Camera.Height)
			}
		}
	}
	res := &fit.Result{FinalLoss: math.NaN()}
	st := &res.Stats
	t0 := time.Now()
	rng := fit.NewRNG(opt)
	cloud, err := fit.InitCloud(views, opt, rng)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	defer d.enter()()
	f, err := d.newFitter(views, opt, batch, fit.NewHostState(cloud), rng, log, progress)
	if err != nil {
		return nil, err
	}
	defer f.free()
	f.res = res
	res.Cloud = cloud
	st.InitSeconds = time.Since(t0).Seconds()
	st.Counts = append(st.Counts, fit.CountSample{Iteration: 0, Gaussians: cloud.Len()})
	log.Info("gpu fit start", "device", d.info.Name, "views", len(views), "batch", batch, "gaussians", cloud.Len(),
		"init", opt.InitKind, "iterations", opt.Iterations, "init_s", st.InitSeconds)
	for it := 1; it <= opt.Iterations; it++ {
		if err := ctx.Err(); err != nil {
			return f.finish(err)
		}
		if err := f.step(it); err != nil {
			if ctx.Err() != nil {
				return f.finish(ctx.Err())
			}
			return nil, err
		}
	}
	return f.finish(nil)
}

// finish reads the last loss and the cloud back and fills the end-of-fit
// fields; cause is returned with the result (nil or the context's error).
func (f *gpuFitter) finish(cause error) (*fit.Result, error) {
	if err := f.flush(); err != nil && cause == nil {
		return nil, err
	}
	if err := f.pullState(); err != nil {
		return nil, errors.Join(cause, err)
	}
	res := f.res
	if len(f.recent) > 0 {
		sum := 0.0
		for _, l := range f.recent {
			sum += l
		}
		res.FinalLoss = sum / float64(len(f.recent))
	}
	st := &res.Stats
	if n := len(st.Counts); n == 0 || st.Counts[n-1].Iteration != res.Iterations {
		st.Counts = append(st.Counts, fit.CountSample{Iteration: res.Iterations, Gaussians: res.Cloud.Len()})
	}
	f.log.Info("gpu fit done", "iterations", res.Iterations, "gaussians", res.Cloud.Len(), "final_loss", res.FinalLoss,
		"forward_s", st.ForwardSeconds, "loss_s", st.LossSeconds, "backward_s", st.BackwardSeconds,
		"adam_s", st.AdamSeconds, "densify_s", st.DensifySeconds)
	return res, cause
}

// step queues iteration it (1-based) and, at densification and opacity
// reset iterations, runs them on the host.
func (f *gpuFitter) step(it int) error {
	d, opt := f.d, f.opt
	k := len(f.views)
	first := ((it - 1) * f.batch) % k
	bg := opt.Background
	if opt.RandomBackground && f.rng.IntN(2) == 1 {
		bg = [3]float32{1 - bg[0], 1 - bg[1], 1 - bg[2]}
	}
	vp := make([]viewParams, f.batch)
	for b := range vp {
		vp[b] = f.vps[(first+b)%k]
	}
	w, h := int(vp[0].W), int(vp[0].H)
	shDeg := fit.ActiveSHDegree(opt, it)
	gen := it % 2
	ev := &f.ev[gen]
	if err := d.record(ev[0]); err != nil {
		return err
	}
	d.gen++
	d.dropMarks()
	f.hooked = false
	d.atCountSync = f.readPending
	b, err := d.binAndRaster(&f.dc, vp, f.mp, shDeg, bg, true)
	d.atCountSync = nil
	if err != nil {
		return fmt.Errorf("cuda: fit: iteration %d: forward: %w", it, err)
	}
	if err := f.reportPending(); err != nil {
		return err
	}
	if err := d.record(ev[1]); err != nil {
		return err
	}
	n := f.dc.n
	nk := (f.dc.shDegree + 1) * (f.dc.shDegree + 1)
	if err := d.zeroGrads(f.batch, n, nk, w*h); err != nil {
		return err
	}
	ws := &d.ws
	ls := lossStep{first: first, batch: f.batch, w: w, h: h, bg: bg, gen: gen}
	if err := d.launchLoss(&f.lb, ls, opt, ws.rgb.ptr, ws.alpha.ptr, ws.dRGB.ptr, ws.dAlpha.ptr); err != nil {
		return fmt.Errorf("cuda: fit: iteration %d: loss: %w", it, err)
	}
	if err := d.record(ev[2]); err != nil {
		return err
	}
	if err := d.launchBackward(b, &f.dc, shDeg, bg, ws.dRGB.ptr, ws.dAlpha.ptr); err != nil {
		return fmt.Errorf("cuda: fit: iteration %d: backward: %w", it, err)
	}
	if err := d.record(ev[3]); err != nil {
		return err
	}
	f.adamSteps++
	lr := LearningRates{Pos: fit.PositionLR(opt, it), SHDC: opt.LRFeature, SHRest: opt.LRFeature / 20,
		Opacity: opt.LROpacity, Scale: opt.LRScale, Rot: opt.LRRotation}
	if err := d.adamLaunch(&f.dc, &f.m, &f.v, f.adamSteps, lr); err != nil {
		return fmt.Errorf("cuda: fit: iteration %d: adam: %w", it, err)
	}
	inWindow := it >= opt.DensifyFrom && it <= f.densifyEnd
	if inWindow {
		if err := d.launch("accumStats", [3]uint32{cdiv(n, 256), 1, 1}, [3]uint32{256, 1, 1},
			ws.gNDC.ptr, ws.gVis.ptr, f.gradAccum.ptr, f.denom.ptr, int32(n)); err != nil {
			return err
		}
	}
	if err := d.record(ev[4]); err != nil {
		return err
	}
	f.pending, f.pendingShape = it, [2]int{w, h}
	if opt.Shape.Enabled() {
		if err := f.keepShape(); err != nil {
			return fmt.Errorf("cuda: fit: iteration %d: shape: %w", it, err)
		}
	}
	if !inWindow {
		return nil
	}
	dens := opt.DensifyInterval > 0 && it%opt.DensifyInterval == 0
	reset := opt.OpacityResetInterval > 0 && it%opt.OpacityResetInterval == 0
	if !dens && !reset {
		return nil
	}
	return f.densify(it, dens, reset)
}

// keepShape applies the shape regularisers after the optimiser step, as
// the CPU fit does: the columns they read come to the host, fit.KeepShape
// projects them there (the depth slab is the lift's Go closure) and the
// ones they change go back: 11 and 7 floats a Gaussian of the 59 its
// parameters hold at SH degree 3. Its host time is in no phase's device
// time: it is the gap between a lifted fit's wall time and its device time.
func (f *gpuFitter) keepShape() error {
	if err := f.flush(); err != nil {
		return err
	}
	if err := f.pullState(shapeReads...); err != nil {
		return err
	}
	fit.KeepShape(f.hs.Cloud(), f.opt.Shape, f.opt.Workers)
	return f.pushState(shapeWrites...)
}

// The state columns fit.KeepShape reads and those it changes.
var (
	shapeReads  = []string{"Pos", "LogScale", "Rot", "OpacityLogit"}
	shapeWrites = []string{"Pos", "LogScale", "OpacityLogit"}
)

// densify downloads the state, runs fit's densify-and-prune and/or opacity
// reset on it and uploads the result.
func (f *gpuFitter) densify(it int, dens, reset bool) error {
	t := time.Now()
	st := &f.res.Stats
	defer func() { st.DensifySeconds += time.Since(t).Seconds() }()
	if err := f.flush(); err != nil {
		return err
	}
	if err := f.pullState(); err != nil {
		return err
	}
	cloud := f.hs.Cloud()
	if dens {
		ev := f.hs.DensifyAndPrune(f.opt, f.rng)
		ev.Iteration = it
		st.Densify = append(st.Densify, ev)
		st.Counts = append(st.Counts, fit.CountSample{Iteration: it, Gaussians: cloud.Len()})
		f.log.Debug("densify", "iter", it, "cloned", ev.Cloned, "split", ev.Split, "pruned", ev.Pruned, "gaussians", ev.After)
	}
	if reset {
		f.hs.ResetOpacity()
		st.OpacityResets = append(st.OpacityResets, it)
		f.log.Debug("opacity reset", "iter", it)
	}
	if err := f.hs.Check(); err != nil {
		return fmt.Errorf("cuda: fit: iteration %d: %w", it, err)
	}
	return f.pushState()
}

// readPending queues the read-back of the pending iteration's loss sums;
// bin calls it just before its sync.
func (f *gpuFitter) readPending() error {
	if f.pending == 0 {
		return nil
	}
	f.hooked = true
	return download(f.d, f.lossHost[f.pending%2], f.lb.sums[f.pending%2].ptr)
}

// reportPending makes sure the pending iteration's sums are on the host
// and reports that iteration.
func (f *gpuFitter) reportPending() error {
	if f.pending == 0 {
		return nil
	}
	if !f.hooked {
		if err := f.readPending(); err != nil {
			return err
		}
		if err := f.d.sync(); err != nil {
			return err
		}
	}
	it := f.pending
	f.pending = 0
	return f.report(it)
}

// flush waits for the queued work and reports the pending iteration.
func (f *gpuFitter) flush() error {
	if f.pending == 0 {
		return f.d.sync()
	}
	f.hooked = false
	return f.reportPending()
}

// report accounts iteration it, whose sums and events are complete.
func (f *gpuFitter) report(it int) error {
	w, h := f.pendingShape[0], f.pendingShape[1]
	loss := lossFromSums(f.lossHost[it%2], f.opt, w, h, f.batch)
	if math.IsNaN(loss.Total) || math.IsInf(loss.Total, 0) {
		return fmt.Errorf("cuda: fit: iteration %d: loss is %v (diverged)", it, loss.Total)
	}
	st := &f.res.Stats
	ev := &f.ev[it%2]
	for i, dst := range []*float64{&st.ForwardSeconds, &st.LossSeconds, &st.BackwardSeconds, &st.AdamSeconds} {
		ms, err := f.d.elapsed(ev[i], ev[i+1])
		if err != nil {
			return err
		}
		*dst += ms / 1000
	}
	f.res.Iterations = it
	f.res.LastLoss = loss
	if len(f.recent) < cap(f.recent) {
		f.recent = append(f.recent, loss.Total)
	} else {
		f.recent[(it-1)%len(f.recent)] = loss.Total
	}
	if it%100 == 0 {
		f.log.Debug("gpu fit progress", "iter", it, "loss", loss.Total, "l1", loss.L1, "dssim", loss.DSSIM,
			"alpha", loss.Alpha, "gaussians", f.dc.n)
	}
	if f.progress != nil {
		f.progress(it, loss.Total)
	}
	return nil
}

// vpsFor returns every view's camera as the kernels read it.
func vpsFor(views []fit.View) []viewParams {
	out := make([]viewParams, len(views))
	for i, v := range views {
		out[i] = newViewParams(v.Camera)
	}
	return out
}
