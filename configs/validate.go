package configs

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// checker collects field errors positioned through a source.
type checker struct {
	src  *source
	errs []error
}

func (c *checker) add(path, format string, args ...any) {
	c.errs = append(c.errs, &FieldError{Pos: c.src.at(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

// cross records a problem that involves another field too; knob values
// are not checked against those, since other knobs may change the partner.
func (c *checker) cross(path, format string, args ...any) {
	c.errs = append(c.errs, &FieldError{Pos: c.src.at(path), Path: path, Msg: fmt.Sprintf(format, args...), cross: true})
}

func (c *checker) intIn(path string, v, lo, hi int64) {
	if v < lo || v > hi {
		c.add(path, "%d outside %d..%d", v, lo, hi)
	}
}

func (c *checker) atLeast(path string, v, lo int64) {
	if v < lo {
		c.add(path, "%d is less than %d", v, lo)
	}
}

func (c *checker) floatIn(path string, v, lo, hi float64) {
	if !(v >= lo && v <= hi) {
		c.add(path, "%g outside %g..%g", v, lo, hi)
	}
}

func (c *checker) oneOf(path, v string, allowed ...string) {
	if !slices.Contains(allowed, v) {
		c.add(path, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}
}

func (c *checker) multipleOf(path string, v, m int64) {
	if v%m != 0 {
		c.add(path, "%d is not a multiple of %d", v, m)
	}
}

// err joins the problems in file order; those without a line come last.
func (c *checker) err() error {
	slices.SortStableFunc(c.errs, func(a, b error) int {
		pa, pb := a.(*FieldError).Pos, b.(*FieldError).Pos
		if (pa.Line == 0) != (pb.Line == 0) {
			return cmp.Compare(pb.Line, pa.Line) // the one with a line first
		}
		return cmp.Or(cmp.Compare(pa.Line, pb.Line), cmp.Compare(pa.Column, pb.Column))
	})
	return errors.Join(c.errs...)
}

var cudaDeviceRE = regexp.MustCompile(`^cuda:(0|[1-9][0-9]{0,2})$`)

// Validate checks every field and returns all problems at once
// (errors.Join of *FieldError, each wrapping ErrInvalid), each naming the
// field by its dotted path, e.g. "fit.sh_degree: 4 outside 0..3", and its
// file position when the profile was loaded from one.
func (p Profile) Validate() error {
	c := &checker{src: p.src}
	if p.Name == "" {
		c.add("name", "must not be empty")
	}
	switch d := p.Device; {
	case d == "auto", d == "cpu", d == "cuda", d == "cuda:all", cudaDeviceRE.MatchString(d):
	default:
		c.add("device", "%q is not auto, cpu, cuda, cuda:N or cuda:all", d)
	}
	if len(p.Providers) == 0 {
		c.add("providers", "must list at least one of tensorrt, cuda, cpu")
	}
	for i, pr := range p.Providers {
		path := fmt.Sprintf("providers[%d]", i)
		c.oneOf(path, pr, "tensorrt", "cuda", "cpu")
		if slices.Index(p.Providers, pr) < i {
			c.add(path, "%q listed twice", pr)
		}
	}

	t := p.Text2Img
	c.oneOf("text2img.source", t.Source, "scenes", "flux")
	if t.Source == "flux" && t.Model == "" {
		c.cross("text2img.model", "required when text2img.source is flux")
	}
	c.intIn("text2img.steps", int64(t.Steps), 1, 4)
	c.intIn("text2img.resolution", int64(t.Resolution), 64, 2048)
	c.multipleOf("text2img.resolution", int64(t.Resolution), 16)
	c.floatIn("text2img.guidance", t.Guidance, 0, 100)
	c.intIn("text2img.max_seq_len", int64(t.MaxSeqLen), 1, 512)

	m := p.Matte
	if m.Model == "" {
		c.add("matte.model", "must be isnet-small, isnet-medium or an .onnx path")
	} else if !isBuiltinModel(m.Model) && !strings.EqualFold(filepath.Ext(m.Model), ".onnx") {
		c.add("matte.model", "%q is not isnet-small, isnet-medium or an .onnx path", m.Model)
	}
	if m.Kind != "" {
		c.oneOf("matte.kind", m.Kind, "isnet", "birefnet")
		if isBuiltinModel(m.Model) && m.Kind != "isnet" {
			c.cross("matte.kind", "%q does not match model %s", m.Kind, m.Model)
		}
	}
	c.intIn("matte.resolution", int64(m.Resolution), 64, 4096)
	c.multipleOf("matte.resolution", int64(m.Resolution), 32)
	c.floatIn("matte.key_tolerance", m.KeyTolerance, 0, 128)

	v := p.Views
	c.intIn("views.count", int64(v.Count), 1, 64)
	if v.Model == "" && v.Count != 1 {
		c.cross("views.count", "%d needs views.model (without a model K = 1)", v.Count)
	}
	c.intIn("views.steps", int64(v.Steps), 1, 1000)

	p.validateLift(c)
	p.validateFit(c)

	s := p.Score
	c.floatIn("score.threshold", s.Threshold, 0, 1)
	c.intIn("score.views", int64(s.Views), 1, 256)
	c.intIn("score.resolution", int64(s.Resolution), 16, 4096)
	c.atLeast("score.min_splats", int64(s.MinSplats), 0)
	c.intIn("score.fidelity_views", int64(s.FidelityViews), 0, 256)

	c.oneOf("encode.format", p.Encoding.Format, "ply", "spz", "threejs")
	c.atLeast("encode.max_bytes", p.Encoding.MaxBytes, 0)
	if p.Encoding.Format == "threejs" && !p.Matte.Enabled {
		c.cross("encode.format", "threejs works on the matted picture; set matte.enabled")
	}

	j := p.Threejs
	c.intIn("threejs.parts", int64(j.Parts), 1, 200)
	c.intIn("threejs.profile_points", int64(j.ProfilePoints), 3, 1024)
	c.intIn("threejs.fit_iters", int64(j.FitIters), 0, 64)
	return c.err()
}

func (p Profile) validateLift(c *checker) {
	l := p.Lift
	c.oneOf("lift.mode", l.Mode, "auto", "always", "off")
	c.oneOf("lift.shape", l.Shape, "revolve", "inflate", "auto")
	if !(l.DepthScale > 0 && l.DepthScale <= 10) {
		c.add("lift.depth_scale", "%g outside (0, 10]", l.DepthScale)
	}
	c.intIn("lift.resolution", int64(l.Resolution), 16, 1024)
	c.floatIn("lift.fill", l.Fill, 0, 1)
	c.floatIn("lift.object_alpha", l.ObjectAlpha, 0.5, 1)
	if !(l.Opacity > 0 && l.Opacity < 1) {
		c.add("lift.opacity", "%g outside (0, 1)", l.Opacity)
	}
	c.intIn("lift.back_blur", int64(l.BackBlur), 0, int64(max(l.Resolution, 0)))
	c.intIn("lift.iterations", int64(l.Iterations), 0, 1_000_000)
	c.floatIn("lift.lr_feature", l.LRFeature, 0, 10)
	if l.MaxAnisotropy != 0 && !(l.MaxAnisotropy >= 1 && l.MaxAnisotropy <= 1e4) {
		c.add("lift.max_anisotropy", "%g: want 0 (off) or 1..10000", l.MaxAnisotropy)
	}
	c.floatIn("lift.max_depth_sigma", l.MaxDepthSigma, 0, 1e4)
	c.floatIn("lift.anchor_band", l.AnchorBand, -1, 1e4)
	c.floatIn("lift.anchor_radius", l.AnchorRadius, 0, 1e4)
	if !(l.MinOpacity >= 0 && l.MinOpacity < 1) {
		c.add("lift.min_opacity", "%g outside [0, 1)", l.MinOpacity)
	}
}

func (p Profile) validateFit(c *checker) {
	f := p.Fit
	c.intIn("fit.iterations", int64(f.Iterations), 1, 1_000_000)
	c.intIn("fit.init_count", int64(f.InitCount), 1, 10_000_000)
	c.oneOf("fit.init", f.Init, "sphere", "mask")
	c.intIn("fit.sh_degree", int64(f.SHDegree), 0, 3)
	c.intIn("fit.resolution", int64(f.Resolution), 16, 4096)
	c.intIn("fit.views", int64(f.Views), 1, 256)
	c.atLeast("fit.densify_from", int64(f.DensifyFrom), 0)
	if f.DensifyUntil < f.DensifyFrom {
		c.cross("fit.densify_until", "%d is before fit.densify_from %d", f.DensifyUntil, f.DensifyFrom)
	}
	c.atLeast("fit.densify_interval", int64(f.DensifyInterval), 0)
	c.floatIn("fit.densify_grad_threshold", f.DensifyGradThreshold, 0, 1e6)
	c.floatIn("fit.prune_opacity", f.PruneOpacity, 0, 1)
	c.atLeast("fit.opacity_reset_interval", int64(f.OpacityResetInterval), 0)
	c.intIn("fit.max_gaussians", int64(f.MaxGaussians), 1, 100_000_000)
	if f.MaxGaussians < f.InitCount {
		c.cross("fit.max_gaussians", "%d is below fit.init_count %d", f.MaxGaussians, f.InitCount)
	}
	for _, lr := range []struct {
		path string
		v    float64
	}{
		{"fit.lr_position", f.LRPosition},
		{"fit.lr_position_final", f.LRPositionFinal},
		{"fit.lr_feature", f.LRFeature},
		{"fit.lr_opacity", f.LROpacity},
		{"fit.lr_scale", f.LRScale},
		{"fit.lr_rotation", f.LRRotation},
	} {
		if !(lr.v >= 0 && lr.v <= 10) {
			c.add(lr.path, "%g outside 0..10", lr.v)
		}
	}
	if f.LRPositionFinal > f.LRPosition {
		c.cross("fit.lr_position_final", "%g exceeds fit.lr_position %g", f.LRPositionFinal, f.LRPosition)
	}
	c.floatIn("fit.lambda_dssim", f.LambdaDSSIM, 0, 1)
	c.floatIn("fit.lambda_alpha", f.LambdaAlpha, 0, 1e6)
	c.floatIn("fit.area_prior_weight", f.AreaPriorWeight, 0, 10)
	if f.AreaPriorWeight > 0 && (f.AreaPriorSize < 8 || f.AreaPriorSize > 1024) {
		c.add("fit.area_prior_size", "%d outside 8..1024 (needed when fit.area_prior_weight > 0)", f.AreaPriorSize)
	}
}

// maxGrid bounds the number of grid trials a sweep may ask for.
const maxGrid = 100_000

// Validate checks the sweep: the base profile reference, that every knob
// names a profile path, has values of that field's type that the profile
// accepts, or a sane min/max/step range, that no knob is listed twice, and
// the sampling and measurement settings. All problems are returned at once.
func (s Sweep) Validate() error {
	c := &checker{src: s.src}
	if s.Name == "" {
		c.add("name", "must not be empty")
	}
	switch {
	case s.Profile == "":
		c.add("profile", "must name a preset or a profile file")
	case !isPreset(s.Profile) && !looksLikePath(s.Profile):
		c.add("profile", "%q is neither a preset (%s) nor a .yaml path", s.Profile, strings.Join(PresetNames(), ", "))
	}
	if len(s.Knobs) == 0 {
		c.add("knobs", "a sweep needs at least one knob")
	}
	seen := map[string]int{}
	knobErrs := len(c.errs)
	for i, k := range s.Knobs {
		base := fmt.Sprintf("knobs[%d]", i)
		if k.Name == "" {
			c.add(base+".name", "must not be empty")
			continue
		}
		f, err := lookupField(k.Name)
		if err != nil {
			c.add(base+".name", "%q: %s", k.Name, err.(*FieldError).Msg)
			continue
		}
		if j, dup := seen[f.path]; dup {
			c.add(base+".name", "%s duplicates knobs[%d]", k.Name, j)
		}
		seen[f.path] = i
		s.validateKnob(c, base, k, f)
	}
	c.oneOf("sampling", s.Sampling, "grid", "random", "lhs")
	if s.Sampling == "grid" && len(s.Knobs) > 0 {
		// Knobs without grid points have been reported above already.
		if n := s.GridSize(); n == 0 && len(c.errs) == knobErrs {
			c.add("sampling", "grid has no points")
		} else if n > maxGrid {
			c.add("sampling", "grid of %d trials exceeds %d; use random or lhs sampling", n, maxGrid)
		}
	}
	if s.Sampling == "random" || s.Sampling == "lhs" {
		if s.Samples < 1 || s.Samples > maxGrid {
			c.add("samples", "%d outside 1..%d (%s sampling draws this many points)", s.Samples, maxGrid, s.Sampling)
		}
	} else {
		c.atLeast("samples", int64(s.Samples), 0)
	}
	if len(s.Prompts.Corpus) == 0 {
		c.add("prompts.corpus", "must be scenes, default or a list of prompt files")
	}
	for i, e := range s.Prompts.Corpus {
		if strings.TrimSpace(e) == "" {
			c.add(fmt.Sprintf("prompts.corpus[%d]", i), "must not be empty")
		}
	}
	c.atLeast("prompts.count", int64(s.Prompts.Count), 0)
	c.intIn("repeats", int64(s.Repeats), 1, 1000)
	c.intIn("warmup", int64(s.Warmup), 0, 1000)
	if s.TrialTimeout <= 0 {
		c.add("trial_timeout", "%s must be positive", s.TrialTimeout)
	}
	c.intIn("workers", int64(s.Workers), 1, 1024)
	c.intIn("validators", int64(s.Validators), 1, 1024)
	if len(s.Objectives) == 0 {
		c.add("objectives", "must list at least one objective")
	}
	for i, o := range s.Objectives {
		path := fmt.Sprintf("objectives[%d]", i)
		if o == "" {
			c.add(path, "must not be empty")
		} else if slices.Index(s.Objectives, o) < i {
			c.add(path, "%q listed twice", o)
		}
	}
	return c.err()
}

// validateKnob checks one knob whose name resolved to field f.
func (s Sweep) validateKnob(c *checker, base string, k Knob, f field) {
	hasRange := k.Min != nil || k.Max != nil || k.Step != 0 || k.Log
	switch {
	case len(k.Values) > 0 && hasRange:
		c.add(base, "give either values or min/max, not both")
	case len(k.Values) == 0 && !hasRange:
		c.add(base+".values", "must not be empty")
	case len(k.Values) > 0:
		for j, v := range k.Values {
			vp := fmt.Sprintf("%s.values[%d]", base, j)
			checkKnobValue(c, vp, f, v)
			for _, w := range k.Values[:j] {
				if describe(w) == describe(v) {
					c.add(vp, "%s listed twice", describe(v))
					break
				}
			}
		}
	default:
		if kd := f.kind(); kd != kindInt && kd != kindFloat {
			c.add(base, "a min/max range needs a numeric field; %s is a %s", f.path, kd)
			return
		}
		if k.Min == nil {
			c.add(base+".min", "missing")
		}
		if k.Max == nil {
			c.add(base+".max", "missing")
		}
		if k.Min == nil || k.Max == nil {
			return
		}
		checkKnobValue(c, base+".min", f, *k.Min)
		checkKnobValue(c, base+".max", f, *k.Max)
		if *k.Min > *k.Max {
			c.add(base+".min", "%g is greater than max %g", *k.Min, *k.Max)
		}
		if !(k.Step >= 0) {
			c.add(base+".step", "%g must not be negative", k.Step)
		} else if k.Step > 0 && f.kind() == kindInt {
			checkKnobValue(c, base+".step", f, k.Step)
		}
		if k.Log && *k.Min <= 0 {
			c.add(base+".min", "%g must be positive for log sampling", *k.Min)
		}
		if k.Log && k.Step > 0 {
			c.add(base+".step", "log sampling takes no step")
		}
		if s.Sampling == "grid" && k.Step == 0 && *k.Min != *k.Max {
			c.add(base+".step", "grid sampling of a range needs a step (or use values)")
		}
	}
}

// checkKnobValue reports a value that SetValue would reject for f, or that
// makes the default profile fail validation at f.
func checkKnobValue(c *checker, path string, f field, v any) {
	p := DefaultProfile()
	if err := p.SetValue(f.path, v); err != nil {
		c.add(path, "%s", err.(*FieldError).Msg)
		return
	}
	var errs interface{ Unwrap() []error }
	if !errors.As(p.Validate(), &errs) {
		return
	}
	for _, e := range errs.Unwrap() {
		if fe, ok := e.(*FieldError); ok && !fe.cross && (fe.Path == f.path || strings.HasPrefix(fe.Path, f.path+"[")) {
			c.add(path, "%s: %s", f.path, fe.Msg)
		}
	}
}
