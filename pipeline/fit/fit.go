package fit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// CountSample is the cloud size after an iteration.
type CountSample struct {
	Iteration int
	Gaussians int
}

// Stats describes a fit: the cloud size over time (at the start, after
// every densification and at the end), each densification, and the
// seconds spent in each phase.
type Stats struct {
	Counts          []CountSample
	Densify         []DensifyEvent
	OpacityResets   []int // iterations at which opacities were reset
	InitSeconds     float64
	ForwardSeconds  float64
	LossSeconds     float64
	BackwardSeconds float64
	AdamSeconds     float64
	DensifySeconds  float64
}

// Result is a fitted cloud.
type Result struct {
	Cloud *splat.Cloud
	// Iterations is the number of completed iterations.
	Iterations int
	// FinalLoss is the mean total loss over the last min(K, Iterations)
	// iterations, i.e. over one full cycle of the K views (NaN if none ran).
	FinalLoss float64
	// LastLoss is the last iteration's loss and its parts.
	LastLoss Loss
	Stats    Stats
}

// Fit optimises a Gaussian cloud to reproduce the views.
//
// Iteration i (1-based) renders view (i−1) mod K with the classic 3DGS
// rasteriser on opt.Background (or, with RandomBackground, on its inverse
// half of the time), so every view is used equally and in a fixed order (DreamGaussian renders its single reference view every step;
// with K = 1 this is the same). The loss is
// (1−λd)·L1 + λd·(1−SSIM) on the colour composited on the background plus
// λa·L1 (or MSE) on alpha; Adam updates every parameter group; the
// position learning rate follows expLR; densification statistics are
// accumulated from each step's view-space gradients, and the schedule in
// opt densifies, prunes and resets opacities.
//
// progress, if not nil, is called after every iteration. Cancelling ctx
// stops between iterations (or inside a render) and returns the cloud as
// it is, with ctx.Err(). log may be nil.
func Fit(ctx context.Context, views []View, opt Options, log *slog.Logger, progress func(iter int, loss float64)) (*Result, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if len(views) == 0 {
		return nil, errors.New("fit: no views")
	}
	views = append([]View(nil), views...)
	for i, v := range views {
		if err := v.validate(i); err != nil {
			return nil, err
		}
		if w, h := fitSize(v.Camera.Width, v.Camera.Height, opt.Resolution); w != v.Camera.Width || h != v.Camera.Height {
			views[i] = resizeView(v, w, h)
		}
	}
	res := &Result{FinalLoss: math.NaN()}
	st := &res.Stats

	t0 := time.Now()
	rng := rand.New(rand.NewPCG(opt.Seed, 0x9e3779b97f4a7c15))
	var cloud *splat.Cloud
	switch {
	case opt.Init != nil:
		cloud = initFrom(opt.Init, opt.SHDegree)
	case opt.InitKind == InitMask:
		c, err := initMask(views, opt.InitCount, opt.InitRadius, opt.SHDegree, rng)
		if err != nil {
			return nil, err
		}
		cloud = c
	default:
		cloud = initSphere(opt.InitCount, opt.InitRadius, opt.SHDegree, rng)
	}
	targets := make([]*target, len(views))
	maxPix := 0
	for i, v := range views {
		targets[i] = newTarget(v, opt.Background, opt.Workers)
		maxPix = max(maxPix, v.Camera.Width*v.Camera.Height)
	}
	st.InitSeconds = time.Since(t0).Seconds()
	s := newState(cloud)
	res.Cloud = cloud
	st.Counts = append(st.Counts, CountSample{0, cloud.Len()})
	log.Info("fit start", "views", len(views), "gaussians", cloud.Len(), "init", opt.InitKind,
		"iterations", opt.Iterations, "init_s", st.InitSeconds)

	f := newFitter(s, views, targets, maxPix, opt, rng, log)
	recent := make([]float64, 0, len(views))
	for it := 1; it <= opt.Iterations; it++ {
		if err := ctx.Err(); err != nil {
			return finish(res, recent, log), err
		}
		loss, err := f.step(ctx, it, st)
		if err != nil {
			if ctx.Err() != nil {
				return finish(res, recent, log), ctx.Err()
			}
			return nil, err
		}
		res.Iterations = it
		res.LastLoss = loss
		if len(recent) < cap(recent) {
			recent = append(recent, loss.Total)
		} else {
			recent[(it-1)%len(views)] = loss.Total // one slot per view: the last cycle
		}
		if it%100 == 0 {
			log.Debug("fit progress", "iter", it, "loss", loss.Total, "l1", loss.L1, "dssim", loss.DSSIM,
				"alpha", loss.Alpha, "gaussians", cloud.Len())
		}
		if progress != nil {
			progress(it, loss.Total)
		}
	}
	return finish(res, recent, log), nil
}

// fitter is the optimisation loop's state between iterations.
type fitter struct {
	s       *state
	views   []View
	targets []*target
	// inverted are the targets on the inverted background, made on first
	// use (RandomBackground).
	inverted []*target
	opt      Options
	rng      *rand.Rand
	log      *slog.Logger
	grads    *splat.Grads
	dRGB     []float32
	dAlpha   []float32
	scratch  ssimScratch
	lcfg     lossConfig
	dcfg     densifyConfig
	prior    *areaPrior // nil when AreaPriorWeight is 0
}

func newFitter(s *state, views []View, targets []*target, maxPix int, opt Options, rng *rand.Rand, log *slog.Logger) *fitter {
	f := &fitter{
		s: s, views: views, targets: targets, opt: opt, rng: rng, log: log,
		inverted: make([]*target, len(views)),
		grads:    splat.NewGrads(s.cloud),
		dRGB:     make([]float32, 3*maxPix),
		dAlpha:   make([]float32, maxPix),
		lcfg: lossConfig{lambdaDSSIM: opt.LambdaDSSIM, lambdaAlpha: opt.LambdaAlpha,
			alphaMSE: opt.AlphaLoss == AlphaMSE, workers: opt.Workers},
		dcfg: densifyConfig{
			gradThreshold: opt.DensifyGradThreshold, percentDense: opt.PercentDense, extent: opt.SceneExtent,
			pruneOpacity: opt.PruneOpacity, pruneWorldScale: opt.PruneWorldScale, maxGaussians: opt.MaxGaussians,
		},
	}
	if opt.AreaPriorWeight > 0 {
		f.prior = newAreaPrior(views, opt)
	}
	return f
}

// densifyEnd is the last iteration at which statistics are gathered and
// densification or opacity resets may happen: DensifyUntil, but never in
// the final DensifyInterval iterations of the run, so that the last
// clone/split (whose children are randomly placed) and the last prune are
// followed by optimisation before the cloud is returned.
func (f *fitter) densifyEnd() int {
	return min(f.opt.DensifyUntil, f.opt.Iterations-f.opt.DensifyInterval)
}

// step runs iteration it (1-based): forward, loss, backward, Adam, and the
// densification schedule. Phase times are added to st.
func (f *fitter) step(ctx context.Context, it int, st *Stats) (Loss, error) {
	opt, s := f.opt, f.s
	cloud := s.cloud
	vi := (it - 1) % len(f.views)
	v, tgt := f.views[vi], f.targets[vi]
	bg := opt.Background
	if opt.RandomBackground && f.rng.IntN(2) == 1 {
		bg = [3]float32{1 - bg[0], 1 - bg[1], 1 - bg[2]}
		if f.inverted[vi] == nil {
			f.inverted[vi] = newTarget(v, bg, opt.Workers)
		}
		tgt = f.inverted[vi]
	}
	ropt := splat.RenderOptions{
		Background: bg, Mode: splat.ModeClassic,
		SHDegree: activeSHDegree(it, opt.SHUpInterval, opt.SHDegree), Workers: opt.Workers,
	}
	tp := time.Now()
	img, tr, err := splat.Forward(ctx, cloud, v.Camera, ropt)
	if err != nil {
		return Loss{}, fmt.Errorf("fit: iteration %d, view %d: forward: %w", it, vi, err)
	}
	tl := time.Now()
	st.ForwardSeconds += tl.Sub(tp).Seconds()
	npix := v.Camera.Width * v.Camera.Height
	dRGB, dAlpha := f.dRGB[:3*npix], f.dAlpha[:npix]
	loss, err := tgt.loss(img.RGB, img.Alpha, dRGB, dAlpha, f.lcfg, &f.scratch)
	if err != nil {
		return Loss{}, fmt.Errorf("fit: iteration %d, view %d: %w", it, vi, err)
	}
	if math.IsNaN(loss.Total) || math.IsInf(loss.Total, 0) {
		return Loss{}, fmt.Errorf("fit: iteration %d, view %d: loss is %v (diverged)", it, vi, loss.Total)
	}
	tb := time.Now()
	st.LossSeconds += tb.Sub(tl).Seconds()
	g := f.grads
	g.Zero()
	if err := splat.Backward(ctx, tr, dRGB, dAlpha, g); err != nil {
		return Loss{}, fmt.Errorf("fit: iteration %d, view %d: backward: %w", it, vi, err)
	}
	if f.prior != nil {
		pl, err := f.prior.step(ctx, cloud, f.rng, g)
		if err != nil {
			return Loss{}, fmt.Errorf("fit: iteration %d: %w", it, err)
		}
		loss.Prior = pl
		loss.Total += pl
	}
	ta := time.Now()
	st.BackwardSeconds += ta.Sub(tb).Seconds()
	lr := groupLR{
		Pos:  expLR(opt.LRPositionInit, opt.LRPositionFinal, opt.PositionLRMaxSteps, it),
		SHDC: opt.LRFeature, SHRest: opt.LRFeature / 20,
		Opacity: opt.LROpacity, Scale: opt.LRScale, Rot: opt.LRRotation,
	}
	pg := paramGrads{Pos: g.Pos, LogScale: g.LogScale, Rot: g.Rot, OpacityLogit: g.OpacityLogit, SH: g.SH}
	if err := s.adamStep(pg, lr); err != nil {
		return Loss{}, fmt.Errorf("fit: iteration %d: %w", it, err)
	}
	KeepShape(cloud, opt.Shape, opt.Workers)
	td := time.Now()
	st.AdamSeconds += td.Sub(ta).Seconds()

	if it >= opt.DensifyFrom && it <= f.densifyEnd() {
		s.accumulate(g.MeanNDC, g.Visible)
		if opt.DensifyInterval > 0 && it%opt.DensifyInterval == 0 {
			ev := s.densifyAndPrune(f.dcfg, f.rng)
			ev.Iteration = it
			st.Densify = append(st.Densify, ev)
			st.Counts = append(st.Counts, CountSample{it, cloud.Len()})
			f.grads = splat.NewGrads(cloud)
			f.log.Debug("densify", "iter", it, "cloned", ev.Cloned, "split", ev.Split, "pruned", ev.Pruned, "gaussians", ev.After)
		}
		if opt.OpacityResetInterval > 0 && it%opt.OpacityResetInterval == 0 {
			s.resetOpacity()
			st.OpacityResets = append(st.OpacityResets, it)
			f.log.Debug("opacity reset", "iter", it)
		}
	}
	st.DensifySeconds += time.Since(td).Seconds()
	return loss, nil
}

// finish fills the end-of-fit fields of res.
func finish(res *Result, recent []float64, log *slog.Logger) *Result {
	if len(recent) > 0 {
		sum := 0.0
		for _, l := range recent {
			sum += l
		}
		res.FinalLoss = sum / float64(len(recent))
	}
	st := &res.Stats
	if n := len(st.Counts); n == 0 || st.Counts[n-1].Iteration != res.Iterations {
		st.Counts = append(st.Counts, CountSample{res.Iterations, res.Cloud.Len()})
	}
	log.Info("fit done", "iterations", res.Iterations, "gaussians", res.Cloud.Len(), "final_loss", res.FinalLoss,
		"forward_s", st.ForwardSeconds, "backward_s", st.BackwardSeconds, "loss_s", st.LossSeconds,
		"adam_s", st.AdamSeconds, "densify_s", st.DensifySeconds)
	return res
}
