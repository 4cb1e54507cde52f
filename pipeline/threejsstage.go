package pipeline

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"sort"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/internal/resample"
	"github.com/splatbench/splatbench/pipeline/threejs/generate"
	"github.com/splatbench/splatbench/pipeline/threejs/proxy"
	"github.com/splatbench/splatbench/pipeline/threejs/render"
	"github.com/splatbench/splatbench/pipeline/threejs/validate"
)

// The Three.js output (encode.format threejs, docs/threejs.md): the
// matted picture becomes a subnet-17 module (pipeline/threejs/generate),
// which the score stage checks with the local validator and renders in the
// judge's canonical scene to score it against the picture with the proxy
// for the subnet's VLM judge (pipeline/threejs/proxy).

// FormatThreejs is State.Format of a Three.js module.
const FormatThreejs = "threejs"

// ScoreThreejsProxy is State.ScoreKind of a module's score: the proxy for
// the subnet's VLM judge, not the judge's score.
const ScoreThreejsProxy = "threejs-proxy"

// threejsTools returns the Builder's shared validator and Chromium
// renderer, started on first use (the renderer's first render costs
// ~14 s) and closed by Builder.Close.
func (b *Builder) threejsTools(ctx context.Context) (*validate.Validator, *render.Renderer, error) {
	assets, err := validate.FindAssets()
	if err != nil {
		return nil, nil, fmt.Errorf("encode.format threejs: %w", err)
	}
	v, err := b.model(ctx, "threejs|validator", func(context.Context) (closer, error) {
		return validate.New(assets, validate.Spec())
	})
	if err != nil {
		return nil, nil, fmt.Errorf("encode.format threejs: %w", err)
	}
	r, err := b.model(ctx, "threejs|render", func(ctx context.Context) (closer, error) {
		// The renderer's browser outlives this call: it is the Builder's.
		return render.New(context.WithoutCancel(ctx), assets, render.Options{Log: b.log})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("encode.format threejs: %w", err)
	}
	return v.(*validate.Validator), r.(*render.Renderer), nil
}

// ThreejsOptions maps a profile's threejs section onto the generator's
// options (without its matte, renderer and validator).
func ThreejsOptions(p configs.Profile) generate.Options {
	o := generate.DefaultOptions()
	t := p.Threejs
	o.Parts, o.ProfilePoints, o.Texture, o.FitIters = t.Parts, t.ProfilePoints, t.Texture, t.FitIters
	return o
}

// threejsStages are the encode and score stages of the Three.js output.
func (b *Builder) threejsStages(ctx context.Context, p configs.Profile) ([]Stage, error) {
	v, r, err := b.threejsTools(ctx)
	if err != nil {
		return nil, err
	}
	opt := ThreejsOptions(p)
	if opt.FitIters > 0 {
		opt.Renderer = r
	}
	return []Stage{
		threejsStage{opt: opt, maxBytes: p.Encoding.MaxBytes},
		threejsScore{valid: v, render: r, threshold: p.Score.Threshold},
	}, nil
}

// threejsSource is the text2img stage of the Three.js output with the
// reference scenes: an image prompt is only decoded (the Gaussian path's
// 16-view ground truth of a recognised scene is of no use to the proxy),
// a scene name renders the scene's reference picture.
type threejsSource struct{ scenes sceneSource }

func (threejsSource) Name() string { return "text2img" }

func (s threejsSource) Run(ctx context.Context, st *State) error {
	if st.Job.Prompt.IsImage() {
		return imageSource{fitSize: s.scenes.fitSize}.Run(ctx, st)
	}
	return s.scenes.Run(ctx, st)
}

// matted hands the matte stage's output to the generator as its matte,
// so the picture is not matted twice.
type matted struct{ rgba *image.NRGBA }

func (m matted) Run(context.Context, image.Image) (*image.NRGBA, error) { return m.rgba, nil }

// threejsStage generates the module: parts decomposed from the matte, and
// with fit_iters > 0 their colours fitted by rendering in the judge's
// camera.
type threejsStage struct {
	opt      generate.Options
	maxBytes int64
}

func (threejsStage) Name() string { return "threejs" }

func (s threejsStage) Run(ctx context.Context, st *State) error {
	if st.Image == nil {
		return errors.New("no picture to make a module from")
	}
	opt := s.opt
	if st.RGBA != nil {
		opt.Matter = matted{st.RGBA}
	}
	mod, info, err := generate.Generate(ctx, st.Image, opt)
	if err != nil {
		return err
	}
	if s.maxBytes > 0 && int64(len(mod)) > s.maxBytes {
		return fmt.Errorf("module is %d bytes, over encode.max_bytes %d", len(mod), s.maxBytes)
	}
	st.Encoded, st.Format = mod, FormatThreejs
	// The colour fit's last render is of the final module; the score
	// stage uses it rather than render the same module again.
	st.ModuleRender = info.Render
	st.Scores["bytes"] = float64(len(mod))
	st.Scores["parts"] = float64(info.Parts)
	st.Scores["fit_renders"] = float64(info.FitRenders)
	return nil
}

// threejsScore checks the module with the local validator (a module that
// breaks a rule scores 0; each broken rule is recorded as the score
// "rule:<CODE>" = 1 and in State.Rules), renders it in the judge's scene
// and scores the render against the matted picture with the proxy.
type threejsScore struct {
	valid     *validate.Validator
	render    *render.Renderer
	threshold float64
}

func (threejsScore) Name() string { return "score" }

func (s threejsScore) Run(ctx context.Context, st *State) error {
	if st.Format != FormatThreejs || st.Encoded == nil {
		return errors.New("no Three.js module to score")
	}
	st.ScoreKind = ScoreThreejsProxy
	st.Accepted = false
	rep, err := s.valid.Check(ctx, st.Encoded)
	if err != nil {
		return err
	}
	st.Scores["literal_bytes"] = float64(rep.LiteralBytes)
	if m := rep.Metrics; m != nil {
		st.Scores["vertices"], st.Scores["draw_calls"] = float64(m.Vertices), float64(m.DrawCalls)
	}
	if !rep.OK() {
		return s.fail(st, rep.Failures)
	}
	img := st.ModuleRender
	if img == nil {
		res, err := s.render.Render(ctx, st.Encoded)
		if errors.Is(err, render.ErrRenderRun) {
			return s.fail(st, []validate.Failure{{Stage: "render", Rule: validate.RenderRunFailed, Detail: err.Error()}})
		}
		if err != nil {
			return err
		}
		img = res.Image
	}
	pic := st.RGBA
	if pic == nil {
		pic = st.Image
	}
	sc, err := proxy.Compare(judgeFrame(pic, img.Bounds().Dx()), img)
	if err != nil {
		return err
	}
	st.Scores["valid"] = 1
	st.Scores["mask_iou"], st.Scores["psnr"], st.Scores["ssim"], st.Scores["delta_e"] = sc.IoU, sc.PSNR, sc.SSIM, sc.DeltaE
	st.Scores["proxy"], st.Scores["score"] = sc.Proxy, sc.Proxy
	st.Accepted = sc.Proxy >= s.threshold
	return nil
}

// fail records a module that broke rules: score 0 and the rule codes.
func (s threejsScore) fail(st *State, fs []validate.Failure) error {
	st.Scores["valid"], st.Scores["score"] = 0, 0
	st.Rules = st.Rules[:0]
	for _, f := range fs {
		st.Scores["rule:"+f.Rule] = 1
		st.Rules = append(st.Rules, f.Rule)
	}
	sort.Strings(st.Rules)
	return nil
}

// judgeFrame is pic framed as the generator frames it (centred in a
// square, padded transparent) at the judge's size: the picture the render
// is compared with.
func judgeFrame(pic *image.NRGBA, size int) *image.NRGBA {
	b := pic.Bounds()
	side := max(b.Dx(), b.Dy())
	sq := image.NewNRGBA(image.Rect(0, 0, side, side))
	off := image.Pt((side-b.Dx())/2, (side-b.Dy())/2)
	draw.Draw(sq, image.Rectangle{Min: off, Max: off.Add(b.Size())}, pic, b.Min, draw.Src)
	if side == size {
		return sq
	}
	return resample.BiLinear.Scale(sq, sq.Bounds(), size, size, 0).NRGBA()
}
