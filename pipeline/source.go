package pipeline

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/splatbench/splatbench/pipeline/fit"
	"github.com/splatbench/splatbench/pipeline/imageeval"
	"github.com/splatbench/splatbench/pipeline/imagefile"
	"github.com/splatbench/splatbench/pipeline/scenes"
	"github.com/splatbench/splatbench/pipeline/score"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// background is the colour views are rendered and fitted on.
var background = [3]float32{1, 1, 1}

// sceneSource is the text2img stage of the embedded default: the prompt
// names a built-in reference scene whose ground-truth cloud is rendered.
// View 0 (the reference view) is composited on a textured background and
// becomes the image the matte stage sees; views 1..K−1 stand in for a
// multi-view model's output and carry their true alpha; held-out views are
// kept as ground truth for the fidelity score.
type sceneSource struct {
	imageSize  int // reference image size (text2img.resolution)
	fitSize    int // training and held-out view size (fit.resolution)
	trainViews int
	heldOut    int
	// truthSize is the side of the validator views that scene image
	// prompts are scored on (score.resolution).
	truthSize int
	// render draws those views (nil: splat.RenderBatch).
	render score.RenderFunc
}

// sceneTruth sets the ground truth of an image prompt that is a
// reference scene's front view (imageeval.Match): the scene seen as the
// validator sees it (imageeval.Views at score.resolution), so the
// fidelity score is the 16-view one, with mask IoU.
func (s sceneSource) sceneTruth(ctx context.Context, st *State, sc scenes.Scene) error {
	size := max(16, s.truthSize)
	truth, err := imageeval.Views(ctx, sc.Build(imageeval.PromptSeed, 0), size, s.render)
	if err != nil {
		return err
	}
	st.Truth = &Truth{Cameras: imageeval.ValidatorCameras(size), Views: truth, Validator: true}
	return nil
}

func (s sceneSource) Name() string { return "text2img" }

func (s sceneSource) Run(ctx context.Context, st *State) error {
	if st.Job.Prompt.IsImage() {
		if err := (imageSource{fitSize: s.fitSize}).Run(ctx, st); err != nil {
			return err
		}
		// A reference scene's front view (the scene-images corpus) is
		// recognised by its pixels and scored against the scene: work
		// only a benchmark does, so it is untimed.
		start := time.Now()
		defer func() { st.Untimed += time.Since(start) }()
		sc, _, ok, err := imageeval.Match(ctx, st.Image)
		if err != nil || !ok {
			return err
		}
		return s.sceneTruth(ctx, st, sc)
	}
	scene, err := scenes.Get(st.Job.Prompt.Text)
	if err != nil {
		return fmt.Errorf("%w: %w; %s", ErrCannotGenerate, err, freeTextNote)
	}
	gt := scene.Build(st.Job.Seed, 0)
	opt := splat.RenderOptions{Background: background, SHDegree: -1}

	train := scenes.TrainViews(s.trainViews, s.fitSize)
	ref := train[0]
	refBig := scaleCamera(ref, s.imageSize)
	ims, err := scene.Views(ctx, gt, append([]splat.Camera{refBig}, train...), opt)
	if err != nil {
		return err
	}
	// The held-out views are ground truth, work only a benchmark does.
	start := time.Now()
	held := scenes.HeldOutViews(s.heldOut, s.fitSize)
	var truth []*splat.Image
	if len(held) > 0 {
		if truth, err = scene.Views(ctx, gt, held, opt); err != nil {
			return err
		}
	}
	st.Untimed += time.Since(start)
	fg := scenes.Foreground(ims[0], background)
	composite, mask := scenes.Composite(fg, scenes.Background{Kind: scenes.BackgroundKind(uint64(st.Job.Seed) % 4), Seed: st.Job.Seed})
	st.Image = composite
	st.Views = make([]fit.View, s.trainViews)
	for i, cam := range train {
		st.Views[i] = fit.ViewFromImage(cam, ims[1+i], background)
	}
	st.PosedViews = true
	st.Truth = &Truth{Cameras: held, Views: truth, Mask: mask}
	return nil
}

// scaleCamera returns cam at a new square size with the same field of view.
func scaleCamera(cam splat.Camera, size int) splat.Camera {
	k := float64(size) / float64(cam.Width)
	cam.Width, cam.Height = size, int(math.Round(float64(cam.Height)*k))
	cam.Fx, cam.Fy, cam.Cx, cam.Cy = cam.Fx*k, cam.Fy*k, cam.Cx*k, cam.Cy*k
	return cam
}

// imageSource turns an image prompt into the reference view: one front
// camera on the scenes' orbit, no ground truth.
type imageSource struct{ fitSize int }

func (imageSource) Name() string { return "text2img" }

func (s imageSource) Run(_ context.Context, st *State) error {
	// The header is checked before any pixel buffer: a prompt from a
	// validator or a corpus may be a decompression bomb.
	img, err := imagefile.DecodeFile(st.Job.Prompt.Image, imagefile.Limits{})
	if err != nil {
		return err
	}
	st.Image = imagefile.NRGBA(img)
	cam := scenes.TrainViews(1, s.fitSize)[0]
	st.Views = []fit.View{{Camera: cam}}
	return nil
}
