package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline/fit"
	"github.com/splatbench/splatbench/pipeline/flux"
	"github.com/splatbench/splatbench/pipeline/scenes"
	"github.com/splatbench/splatbench/pipeline/score"
	"github.com/splatbench/splatbench/pipeline/tokenizer"
	"github.com/splatbench/splatbench/pipeline/views"
)

// fluxStage is text2img from FLUX.1-schnell. Image prompts skip it: the
// image is the reference view as it is.
type fluxStage struct {
	f       *flux.Flux
	steps   int
	fitSize int
}

func (fluxStage) Name() string { return "text2img" }

func (s fluxStage) Device() string { return "ort:" + s.f.Runner() }

func (s fluxStage) Run(ctx context.Context, st *State) error {
	if st.Job.Prompt.IsImage() {
		return imageSource{fitSize: s.fitSize}.Run(ctx, st)
	}
	img, tm, err := s.f.GenerateSteps(ctx, st.Job.Prompt.Text, st.Job.Seed, s.steps)
	if err != nil {
		return err
	}
	st.Image = img
	st.Views = []fit.View{{Camera: scenes.TrainViews(1, s.fitSize)[0]}}
	st.Scores["t2i_steps"] = float64(len(tm.Steps))
	st.Scores["t2i_denoise_s"] = tm.Denoise().Seconds()
	// Where a generation's time went; a step far slower than the others
	// shows (a CUDA graph captured again, say).
	st.Scores["t2i_text_s"] = tm.Text.Seconds()
	st.Scores["t2i_decode_s"] = tm.Decode.Seconds()
	if len(tm.Steps) > 0 {
		st.Scores["t2i_step_min_s"] = slices.Min(tm.Steps).Seconds()
		st.Scores["t2i_step_max_s"] = slices.Max(tm.Steps).Seconds()
	}
	if tm.Tokens.Truncated() {
		st.Scores["prompt_truncated"] = 1
	}
	return nil
}

// viewsStage replaces the reference view with the K posed views of a
// multi-view model run on the matted image.
type viewsStage struct{ v *views.Views }

func (viewsStage) Name() string { return "views" }

func (s viewsStage) Run(ctx context.Context, st *State) error {
	if st.RGBA == nil {
		return fmt.Errorf("no matted image (the views stage needs matte.enabled)")
	}
	vs, err := s.v.Run(ctx, st.RGBA)
	if err != nil {
		return err
	}
	st.Views = vs
	return nil
}

// clipStage is the validator-style self-check (score.CLIPScoreName): the
// validator's 16 views scored against the prompt by CLIP. Where ground
// truth exists the fidelity score is recorded beside it.
type clipStage struct {
	c   *score.CLIP
	fid fidelityStage
}

// Device names what renders the validator views: the fidelity stage's
// renderer.
func (s clipStage) Device() string { return s.fid.Device() }

func (clipStage) Name() string { return "score" }

func (s clipStage) Run(ctx context.Context, st *State) error {
	if st.Cloud == nil {
		return fmt.Errorf("no cloud to score")
	}
	if st.Truth != nil {
		if err := s.fid.Run(ctx, st); err != nil {
			return err
		}
	}
	if st.Job.Prompt.IsImage() {
		// Image prompts need the validator's image-alignment model
		// (LLM2CLIP), which is not built: gates only.
		return s.fid.Run(ctx, &State{Job: st.Job, Cloud: st.Cloud, Scores: st.Scores})
	}
	res, err := s.c.Score(ctx, st.Cloud, st.Job.Prompt.Text, s.fid.render)
	if err != nil {
		return err
	}
	st.Scores[score.CLIPScoreName] = res.Score
	st.Scores["alignment"] = res.Alignment
	st.Scores["gate"] = b2f(res.Gate.OK)
	st.Scores["score"] = res.Score
	st.ScoreKind = "validator"
	st.Accepted = res.Accept
	return nil
}

// tokenizerDirs finds a FLUX model directory's tokenizers: Hugging Face's
// FLUX.1-schnell layout keeps them in tokenizer/ (CLIP) and tokenizer_2/
// (T5); BFL's ONNX repository ships none, so they may also sit beside it.
func tokenizerDirs(model string) (clip, t5 string, err error) {
	for _, root := range []string{model, filepath.Dir(model)} {
		c, t := filepath.Join(root, "tokenizer"), filepath.Join(root, "tokenizer_2")
		if isDir(c) && isDir(t) {
			return c, t, nil
		}
	}
	return "", "", fmt.Errorf("text2img.model %s: no tokenizer/ and tokenizer_2/ folders (the CLIP and T5 tokenizers of FLUX.1-schnell's Hugging Face repository) in it or beside it", model)
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// Flux returns the (shared) FLUX model a profile names; the steps knob is
// per call, so a steps sweep loads the models once.
func (b *Builder) Flux(ctx context.Context, p configs.Profile) (*flux.Flux, error) {
	dir := p.ModelPath(p.Text2Img.Model)
	key := fmt.Sprintf("flux|%s|%d|%d|%s|%v", dir, p.Text2Img.Resolution, p.Text2Img.MaxSeqLen, strings.Join(p.Providers, ","), p.CUDAGraph)
	m, err := b.model(ctx, key, func(ctx context.Context) (closer, error) {
		cd, td, err := tokenizerDirs(dir)
		if err != nil {
			return nil, err
		}
		ct, err := tokenizer.LoadCLIP(cd)
		if err != nil {
			return nil, err
		}
		tt, err := tokenizer.LoadT5(td)
		if err != nil {
			return nil, err
		}
		rt, err := b.runtimeLocked()
		if err != nil {
			return nil, err
		}
		return flux.New(ctx, rt, flux.Options{Dir: dir, Resolution: p.Text2Img.Resolution, MaxSeqLen: p.Text2Img.MaxSeqLen,
			Providers: p.Providers, Graph: b.graphMemory(p)}, ct, tt, b.log)
	})
	if err != nil {
		return nil, fmt.Errorf("text2img.model: %w", err)
	}
	return m.(*flux.Flux), nil
}

// CLIP returns the (shared) CLIP scorer a profile names. Its tokenizer is
// the model folder's tokenizer/ (or the folder itself).
func (b *Builder) CLIP(ctx context.Context, p configs.Profile) (*score.CLIP, error) {
	dir := p.ModelPath(p.Score.ClipModel)
	key := fmt.Sprintf("clip|%s|%v|%s", dir, p.Score.Threshold, strings.Join(p.Providers, ","))
	m, err := b.model(ctx, key, func(ctx context.Context) (closer, error) {
		tokDir := filepath.Join(dir, "tokenizer")
		if !isDir(tokDir) {
			tokDir = dir
		}
		tok, err := tokenizer.LoadCLIP(tokDir)
		if err != nil {
			return nil, err
		}
		rt, err := b.runtimeLocked()
		if err != nil {
			return nil, err
		}
		return score.NewCLIP(ctx, rt, score.CLIPOptions{Dir: dir, Providers: p.Providers, Tokenizer: tok, Threshold: p.Score.Threshold}, b.log)
	})
	if err != nil {
		return nil, fmt.Errorf("score.clip_model: %w", err)
	}
	return m.(*score.CLIP), nil
}

// Views returns the (shared) multi-view model a profile names.
func (b *Builder) Views(ctx context.Context, p configs.Profile) (*views.Views, error) {
	path := p.ModelPath(p.Views.Model)
	key := "views|" + path + "|" + strings.Join(p.Providers, ",")
	m, err := b.model(ctx, key, func(ctx context.Context) (closer, error) {
		rt, err := b.runtimeLocked()
		if err != nil {
			return nil, err
		}
		return views.New(ctx, rt, views.Options{Model: path, Providers: p.Providers}, b.log)
	})
	if err != nil {
		return nil, fmt.Errorf("views.model: %w", err)
	}
	v := m.(*views.Views)
	if p.Views.Count > 1 && p.Views.Count != v.K() {
		return nil, fmt.Errorf("views.count %d: the model %s makes %d views", p.Views.Count, path, v.K())
	}
	return v, nil
}
