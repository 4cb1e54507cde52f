package pipeline

import (
	"context"
	"fmt"
	"image"
	"log/slog"
	"time"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/internal/resample"
	"github.com/splatbench/splatbench/pipeline/fit"
	"github.com/splatbench/splatbench/pipeline/imageeval"
	"github.com/splatbench/splatbench/pipeline/matte"
	"github.com/splatbench/splatbench/pipeline/score"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// matteStage removes the reference image's background and makes the
// result training view 0. With a memo, an image it has matted before (a
// sweep runs each reference image through every point) is not matted
// again: the output is reused and the timing says so.
type matteStage struct {
	m    matte.KeyedMatte
	memo *memo
	log  *slog.Logger
}

func (matteStage) Name() string     { return "matte" }
func (s matteStage) Device() string { return "ort:" + s.m.Provider() }

// Reused implements reuser.
func (s matteStage) Reused(st *State) (float64, bool) {
	if s.memo == nil {
		return 0, false
	}
	return s.memo.reused(st.Job.ID)
}

func (s matteStage) Run(ctx context.Context, st *State) error {
	if st.Image == nil || len(st.Views) == 0 {
		return fmt.Errorf("no reference image to matte")
	}
	run := func() (*image.NRGBA, error) {
		rgba, k, err := s.m.RunKeyed(ctx, st.Image)
		if err == nil && s.log != nil {
			s.log.Debug("matte key", "job", st.Job.ID, "applied", k.Applied, "reason", k.Reason, "removed", k.Removed, "added", k.Added)
		}
		return rgba, err
	}
	var rgba *image.NRGBA
	var err error
	if s.memo != nil {
		key := fmt.Sprintf("%s|key %g %t|%s", s.m.Model(), s.m.Tolerance, s.m.Fill, imageKey(st.Image))
		rgba, err = s.memo.do(st.Job.ID, key, run)
	} else {
		rgba, err = run()
	}
	if err != nil {
		return err
	}
	st.RGBA = rgba
	if fg := foreground(rgba); fg < 0.001 {
		return fmt.Errorf("%s found no foreground in the reference image (%.2f%% of pixels)", s.m.Model(), 100*fg)
	}
	if st.Truth != nil && st.Truth.Mask != nil {
		iou, err := score.MaskIoU(alphaOf(rgba), grayOf(st.Truth.Mask), 0.5)
		if err != nil {
			return err
		}
		st.Scores["matte_iou"] = iou
	}
	cam := st.Views[0].Camera
	st.Views[0] = viewFromNRGBA(cam, rgba)
	return nil
}

// viewFromNRGBA resizes img to cam's size and splits straight colour and alpha.
func viewFromNRGBA(cam splat.Camera, img *image.NRGBA) fit.View {
	w, h := cam.Width, cam.Height
	small := resample.BiLinear.Scale(img, img.Bounds(), w, h, 0)
	v := fit.View{Camera: cam, RGB: make([]float32, 3*w*h), Alpha: make([]float32, w*h)}
	for i := range w * h {
		v.RGB[3*i], v.RGB[3*i+1], v.RGB[3*i+2], v.Alpha[i] = small.Straight(i%w, i/w)
	}
	return v
}

// foreground is the share of img's pixels with alpha of at least one half.
func foreground(img *image.NRGBA) float64 {
	n, fg := 0, 0
	for i := 3; i < len(img.Pix); i += 4 {
		n++
		if img.Pix[i] >= 128 {
			fg++
		}
	}
	if n == 0 {
		return 0
	}
	return float64(fg) / float64(n)
}

func alphaOf(img *image.NRGBA) []float32 {
	n := img.Bounds().Dx() * img.Bounds().Dy()
	a := make([]float32, n)
	for i := range n {
		a[i] = float32(img.Pix[4*i+3]) / 255
	}
	return a
}

func grayOf(g *image.Gray) []float32 {
	a := make([]float32, len(g.Pix))
	for i, v := range g.Pix {
		a[i] = float32(v) / 255
	}
	return a
}

// unmatted makes view 0 from the reference image as it is, with its own
// alpha, when matting is off.
type unmatted struct{}

func (unmatted) Name() string { return "matte" }

func (unmatted) Run(_ context.Context, st *State) error {
	if st.Image == nil || len(st.Views) == 0 {
		return fmt.Errorf("no reference image")
	}
	if st.Views[0].RGB == nil {
		st.Views[0] = viewFromNRGBA(st.Views[0].Camera, st.Image)
	}
	return nil
}

// fitter runs a fit: fit.Fit on the CPU, or a CUDA device's Fit.
type fitter func(ctx context.Context, views []fit.View, opt fit.Options, log *slog.Logger, progress func(int, float64)) (*fit.Result, error)

// fitStage optimises Gaussians to the posed views.
type fitStage struct {
	opt    fit.Options
	log    *slog.Logger
	fit    fitter
	device string
	// lift adapts opt when the lift stage lifted the job.
	lift configs.Lift
}

func (fitStage) Name() string     { return "fit" }
func (s fitStage) Device() string { return s.device }

func (s fitStage) Run(ctx context.Context, st *State) error {
	opt := s.opt
	opt.Seed ^= uint64(st.Job.Seed)
	if st.Lift != nil {
		opt = liftFit(opt, s.lift, st.Lift, len(st.Views))
	}
	res, err := s.fit(ctx, st.Views, opt, s.log, nil)
	if err != nil {
		return err
	}
	if st.Lift != nil {
		splat.CentreAndScale(res.Cloud, splat.ValidatorExtent)
	}
	st.Cloud = res.Cloud
	st.FitStats = res.Stats
	st.Scores["fit_loss"] = res.FinalLoss
	st.Scores["gaussians"] = float64(res.Cloud.Len())
	return nil
}

// fidelityStage is the weight-free self-check: novel-view PSNR/SSIM
// against ground truth mapped to a 0..1 score, zeroed when the validator's
// validity gates fail (as the validator does), and compared with the
// threshold. Without ground truth it records the gates alone (score kind
// "none") and never makes a score up.
type fidelityStage struct {
	threshold float64
	minSplats int
	// render draws the held-out views (nil: splat.RenderBatch); device
	// names it.
	render score.RenderFunc
	device string
}

// Device names what renders the held-out views.
func (s fidelityStage) Device() string {
	if s.device == "" {
		return "cpu"
	}
	return s.device
}

func (fidelityStage) Name() string { return "score" }

func (s fidelityStage) Run(ctx context.Context, st *State) error {
	if st.Cloud == nil {
		return fmt.Errorf("no cloud to score")
	}
	st.ScoreKind = "fidelity"
	gate := splat.CheckGate(st.Cloud)
	ok := gate.OK && st.Cloud.Len() >= s.minSplats
	st.Scores["gate"] = b2f(ok)
	if st.Truth == nil || len(st.Truth.Views) == 0 {
		// No ground truth (an image prompt) and no CLIP model: nothing
		// can score the result, so only the validity gates decide.
		st.ScoreKind = "none"
		st.Accepted = ok
		return nil
	}
	if st.Job.Prompt.IsImage() {
		// A picture's job has ground truth only when a benchmark recognised
		// a reference scene's picture; a miner's stops at the gates above.
		// Scoring it is the benchmark's work, left out of the latency.
		start := time.Now()
		defer func() { st.Untimed += time.Since(start) }()
	}
	render := s.render
	if render == nil {
		render = splat.RenderBatch
	}
	if st.Truth.Validator {
		return s.validatorViews(ctx, st, render, ok)
	}
	pred, err := render(ctx, st.Cloud, st.Truth.Cameras, splat.RenderOptions{Background: background, SHDegree: -1})
	if err != nil {
		return err
	}
	p, r := make([][]float32, len(pred)), make([][]float32, len(pred))
	for i := range pred {
		p[i], r[i] = pred[i].RGB, st.Truth.Views[i].RGB
	}
	cam := st.Truth.Cameras[0]
	f, err := score.CompareViews(ctx, p, r, cam.Width, cam.Height)
	if err != nil {
		return err
	}
	st.Scores["psnr"], st.Scores["ssim"], st.Scores["fidelity"] = f.PSNR, f.SSIM, f.Score
	st.Scores["score"] = f.Score
	if !ok {
		st.Scores["score"] = 0
	}
	st.Accepted = st.Scores["score"] >= s.threshold
	return nil
}

// validatorViews scores st.Cloud against truth seen as the validator sees
// it: 16-view mask IoU, PSNR and SSIM (imageeval.Compare).
func (s fidelityStage) validatorViews(ctx context.Context, st *State, render score.RenderFunc, ok bool) error {
	pred, err := imageeval.Views(ctx, st.Cloud, st.Truth.Cameras[0].Width, render)
	if err != nil {
		return err
	}
	r, err := imageeval.Compare(ctx, pred, st.Truth.Views)
	if err != nil {
		return err
	}
	f := score.NewFidelity(r.PSNR, r.SSIM)
	st.Scores["mask_iou"], st.Scores["psnr"], st.Scores["ssim"], st.Scores["fidelity"] = r.IoU, f.PSNR, f.SSIM, f.Score
	st.Scores["score"] = f.Score
	if !ok {
		st.Scores["score"] = 0
	}
	st.Accepted = st.Scores["score"] >= s.threshold
	return nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// encodeStage writes the cloud as the profile's format.
type encodeStage struct {
	format   splat.Format
	maxBytes int64
}

func (encodeStage) Name() string { return "encode" }

func (s encodeStage) Run(_ context.Context, st *State) error {
	data, err := splat.Encode(st.Cloud, s.format)
	if err != nil {
		return err
	}
	if s.maxBytes > 0 && int64(len(data)) > s.maxBytes {
		return fmt.Errorf("encoded %s is %d bytes, over encode.max_bytes %d", s.format, len(data), s.maxBytes)
	}
	st.Encoded, st.Format = data, string(s.format)
	st.Scores["bytes"] = float64(len(data))
	return nil
}
