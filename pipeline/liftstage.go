package pipeline

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline/fit"
	"github.com/splatbench/splatbench/pipeline/lift"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// liftStage makes the fit's initial cloud from the matted picture
// (pipeline/lift) when the picture is the only view of the object, and
// frames the reference view the way the lift framed it. With other posed
// views (a multi-view model) it keeps the picture's framing so they still
// agree, and the views join the fit.
type liftStage struct {
	mode string // configs.Lift.Mode
	opt  lift.Options
	log  *slog.Logger
}

func (liftStage) Name() string { return "lift" }

// LiftOptions maps a profile's lift section onto the lift's options.
func LiftOptions(p configs.Profile) lift.Options {
	o := lift.DefaultOptions()
	l := p.Lift
	o.Shape, o.DepthScale, o.Resolution, o.Fill, o.Opacity = l.Shape, l.DepthScale, l.Resolution, l.Fill, l.Opacity
	o.ObjectAlpha, o.BackBlur = l.ObjectAlpha, l.BackBlur
	o.MinGaussians = max(p.Fit.InitCount, p.Score.MinSplats)
	o.SHDegree = p.Fit.SHDegree
	o.Seed = uint64(p.Fit.Seed)
	return o
}

func (s liftStage) Run(ctx context.Context, st *State) error {
	st.Lift = nil
	if s.mode == "off" || (s.mode == "auto" && st.PosedViews) {
		return nil
	}
	if len(st.Views) == 0 {
		return fmt.Errorf("no reference view to lift")
	}
	img := st.RGBA
	if img == nil {
		img = st.Image
	}
	if img == nil {
		return fmt.Errorf("no picture to lift")
	}
	opt := s.opt
	opt.Seed ^= uint64(st.Job.Seed)
	multi := len(st.Views) > 1
	if multi {
		opt.Fill = 0
	}
	cam := st.Views[0].Camera
	res, err := lift.Lift(ctx, img, cam, opt)
	if err != nil {
		return err
	}
	for _, n := range res.Notes {
		if s.log != nil {
			s.log.Debug("lift fallback", "job", st.Job.ID, "note", n)
		}
	}
	if !multi {
		st.Views[0] = viewFromNRGBA(cam, res.View)
		// The framed canvas is square at the lift's size; keep the fit
		// camera's size and field of view.
		res.Camera = scaleSquare(res.Camera, cam)
	}
	st.Lift = res
	st.Scores["lift_gaussians"] = float64(res.Cloud.Len())
	return nil
}

// scaleSquare returns lifted, the lift's camera, at like's size (the
// canvas is square and so is the fit's reference camera).
func scaleSquare(lifted, like splat.Camera) splat.Camera {
	k := float64(like.Height) / float64(lifted.Height)
	lifted.Width, lifted.Height = like.Width, like.Height
	lifted.Fx, lifted.Fy, lifted.Cx, lifted.Cy = lifted.Fx*k, lifted.Fy*k, lifted.Cx*k, lifted.Cy*k
	return lifted
}

// liftFit adapts the fit's options to a lifted start: the lifted cloud,
// the lift's iteration count, no densification unless asked, and the
// shape regularisers in world units of the lift's sample spacing.
//
// With other posed views (views > 1, a multi-view model) the views
// constrain depth themselves: the fit keeps its own iterations and
// densification and only the anisotropy cap and the opacity floor apply.
func liftFit(opt fit.Options, cfg configs.Lift, res *lift.Result, views int) fit.Options {
	opt.Init = res.Cloud
	if views > 1 {
		opt.Shape = fit.ShapeOptions{MaxAnisotropy: cfg.MaxAnisotropy, MinOpacity: cfg.MinOpacity}
		return opt
	}
	if cfg.Iterations > 0 {
		opt.Iterations = cfg.Iterations
		opt.PositionLRMaxSteps = cfg.Iterations
	}
	opt.LRFeature = cfg.LRFeature
	if !cfg.Densify {
		opt.DensifyInterval = 0
	}
	opt.Shape = fit.ShapeOptions{
		Depth:         res.Depth,
		MaxAnisotropy: cfg.MaxAnisotropy,
		MaxDepthSigma: cfg.MaxDepthSigma * res.Spacing,
		MinOpacity:    cfg.MinOpacity,
	}
	if cfg.AnchorRadius > 0 {
		opt.Shape.Anchor = res.Cloud.Pos
		opt.Shape.AnchorRadius = cfg.AnchorRadius * res.Spacing
	}
	if cfg.AnchorBand >= 0 {
		opt.Shape.DepthRange = res.DepthRange
		opt.Shape.AnchorBand = cfg.AnchorBand * res.Spacing
	}
	return opt
}
