package fit

// This file exports thin wrappers over the fit loop's internals for the GPU
// fit (pipeline/cuda), which runs forward, loss, backward and Adam on the
// device and hands the optimiser state back here for the view preparation,
// the initialisation, the schedules, densification, pruning and opacity
// resets, so that both paths share one implementation of those rules.

import (
	"errors"
	"math/rand/v2"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// PrepareViews validates opt and the views and resamples the views to
// opt.Resolution, as Fit does before it starts.
func PrepareViews(views []View, opt Options) ([]View, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if len(views) == 0 {
		return nil, errors.New("fit: no views")
	}
	out := append([]View(nil), views...)
	for i, v := range out {
		if err := v.validate(i); err != nil {
			return nil, err
		}
		if w, h := fitSize(v.Camera.Width, v.Camera.Height, opt.Resolution); w != v.Camera.Width || h != v.Camera.Height {
			out[i] = resizeView(v, w, h)
		}
	}
	return out, nil
}

// NewRNG returns the random source Fit draws everything from (initialisation,
// random backgrounds, split children), seeded from opt.Seed as Fit seeds it.
func NewRNG(opt Options) *rand.Rand {
	return rand.New(rand.NewPCG(opt.Seed, 0x9e3779b97f4a7c15))
}

// InitCloud makes the initial cloud of opt.InitKind from the prepared views,
// drawing from rng exactly as Fit does.
func InitCloud(views []View, opt Options, rng *rand.Rand) (*splat.Cloud, error) {
	if opt.Init != nil {
		return initFrom(opt.Init, opt.SHDegree), nil
	}
	if opt.InitKind == InitMask {
		return initMask(views, opt.InitCount, opt.InitRadius, opt.SHDegree, rng)
	}
	return initSphere(opt.InitCount, opt.InitRadius, opt.SHDegree, rng), nil
}

// PositionLR is the position learning rate at iteration it (1-based).
func PositionLR(opt Options, it int) float64 {
	return expLR(opt.LRPositionInit, opt.LRPositionFinal, opt.PositionLRMaxSteps, it)
}

// ActiveSHDegree is the SH degree switched on at iteration it (1-based).
func ActiveSHDegree(opt Options, it int) int {
	return activeSHDegree(it, opt.SHUpInterval, opt.SHDegree)
}

// DensifyEnd is the last iteration at which Fit gathers densification
// statistics, densifies or resets opacities.
func DensifyEnd(opt Options) int {
	return (&fitter{opt: opt}).densifyEnd()
}

// ImageLoss evaluates Fit's image loss of a render (rgb interleaved, alpha)
// against v composited on bg, with its gradients, as one iteration of Fit
// computes them.
func ImageLoss(v View, bg [3]float32, rgb, alpha []float32, opt Options) (Loss, []float32, []float32, error) {
	if err := v.validate(0); err != nil {
		return Loss{}, nil, nil, err
	}
	f := newFitter(newState(splat.NewCloud(0, 0)), nil, nil, 0, opt, nil, nil)
	tgt := newTarget(v, bg, opt.Workers)
	dRGB := make([]float32, len(rgb))
	dAlpha := make([]float32, len(alpha))
	l, err := tgt.loss(rgb, alpha, dRGB, dAlpha, f.lcfg, &f.scratch)
	return l, dRGB, dAlpha, err
}

// HostState is the fit's per-Gaussian state on the host: the cloud, Adam's
// moments and the densification statistics, aligned row for row.
type HostState struct{ s *state }

// NewHostState starts a state for c with zero moments and statistics.
func NewHostState(c *splat.Cloud) *HostState { return &HostState{s: newState(c)} }

// Cloud returns the state's cloud (the same value across densifications).
func (h *HostState) Cloud() *splat.Cloud { return h.s.cloud }

// StateColumn is one per-Gaussian array of the state: Stride values per
// Gaussian; Param columns are cloud parameters, the others optimiser state
// and statistics.
type StateColumn struct {
	Name   string
	Data   *[]float32
	Stride int
	Param  bool
}

// Columns lists every array of the state, by the names Fit uses ("Pos",
// "mPos", "gradAccum", …).
func (h *HostState) Columns() []StateColumn {
	cols := h.s.columns()
	out := make([]StateColumn, len(cols))
	for i, c := range cols {
		out[i] = StateColumn{Name: c.name, Data: c.ptr, Stride: c.stride, Param: c.param}
	}
	return out
}

// Check reports the first column whose length disagrees with the count.
func (h *HostState) Check() error { return h.s.check() }

// DensifyAndPrune runs Fit's densify-and-prune step with opt's settings.
func (h *HostState) DensifyAndPrune(opt Options, rng *rand.Rand) DensifyEvent {
	f := newFitter(h.s, nil, nil, 0, opt, rng, nil)
	return h.s.densifyAndPrune(f.dcfg, rng)
}

// ResetOpacity runs Fit's opacity reset (and clears the opacity moments).
func (h *HostState) ResetOpacity() { h.s.resetOpacity() }
