package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline/cuda"
	"github.com/splatbench/splatbench/pipeline/fit"
	"github.com/splatbench/splatbench/pipeline/matte"
	"github.com/splatbench/splatbench/pipeline/ort"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// Builder turns profiles into pipelines. It loads ONNX Runtime on first
// use and keeps model sessions open across pipelines, so a sweep that
// builds a pipeline per trial loads each model once.
type Builder struct {
	log    *slog.Logger
	ortLib string // flag value; empty: environment, then the set-up cache

	mu     sync.Mutex
	rt     *ort.Runtime
	models map[string]closer // loaded model sessions by what they were loaded with
	graph  *cuda.Context     // GPU 0's memory for the FLUX transformer's CUDA graph (cuda_graph), once asked for
	memo   *memo             // matte outputs, when reuse is on

	gpuMu sync.Mutex
	gpus  map[string]*gpuRenderer // by device setting: every pipeline built shares one pool
}

// closer is a loaded model.
type closer interface{ Close() error }

// model returns the model loaded under key, loading it with load once.
func (b *Builder) model(ctx context.Context, key string, load func(context.Context) (closer, error)) (closer, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if m, ok := b.models[key]; ok {
		return m, nil
	}
	m, err := load(ctx)
	if err != nil {
		return nil, err
	}
	b.models[key] = m
	return m, nil
}

// ReuseOutputs makes pipelines built afterwards reuse the matte output of
// an input image they have matted before (up to n images). Sweeps turn it
// on: every point runs the same reference images, and the matte's cost is
// independent of the knobs being swept. Timings of reused outputs carry
// the measured cost and Reused.
func (b *Builder) ReuseOutputs(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.memo = newMemo(n)
}

// NewBuilder returns a Builder; ortLib overrides library discovery.
func NewBuilder(log *slog.Logger, ortLib string) *Builder {
	return &Builder{log: log, ortLib: ortLib, models: map[string]closer{}}
}

// Runtime loads ONNX Runtime once.
func (b *Builder) Runtime() (*ort.Runtime, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.runtimeLocked()
}

func (b *Builder) runtimeLocked() (*ort.Runtime, error) {
	if b.rt != nil {
		return b.rt, nil
	}
	path, src, err := ort.FindLibrary(b.ortLib)
	if err != nil {
		return nil, err
	}
	rt, err := ort.Init(path, b.log)
	if err != nil {
		return nil, err
	}
	b.log.Debug("onnx runtime loaded", "path", path, "from", src, "version", rt.Version(), "providers", rt.Providers())
	b.rt = rt
	return rt, nil
}

// Matte returns the (shared) matting model a profile names.
func (b *Builder) Matte(ctx context.Context, p configs.Profile) (*matte.Matte, error) {
	model := p.Matte.Model
	if model != "isnet-small" && model != "isnet-medium" {
		model = p.ModelPath(model)
	}
	key := fmt.Sprintf("matte|%s|%s|%d|%s", model, p.Matte.Kind, p.Matte.Resolution, strings.Join(p.Providers, ","))
	m, err := b.model(ctx, key, func(ctx context.Context) (closer, error) {
		rt, err := b.runtimeLocked()
		if err != nil {
			return nil, err
		}
		return matte.New(ctx, rt, matte.Options{Model: model, Kind: p.Matte.Kind, Resolution: p.Matte.Resolution, Providers: p.Providers}, b.log)
	})
	if err != nil {
		return nil, fmt.Errorf("matte.model %s: %w", p.Matte.Model, err)
	}
	return m.(*matte.Matte), nil
}

// debugLog is the logger for per-job chatter (a fit's start and end): the
// builder's logger when it logs at debug level, otherwise nil.
func (b *Builder) debugLog(ctx context.Context) *slog.Logger {
	if b.log.Enabled(ctx, slog.LevelDebug) {
		return b.log
	}
	return nil
}

// Close releases every model session, and the Three.js validator and
// renderer when a pipeline used them.
func (b *Builder) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var errs []error
	for k, m := range b.models {
		errs = append(errs, m.Close())
		delete(b.models, k)
	}
	if b.graph != nil {
		b.graph.Release()
		b.graph = nil
	}
	return errors.Join(errs...)
}

// graphMemory is the memory a CUDA graph binds its tensors in when the
// profile asks for graphs and lists the CUDA provider, else nil. A machine
// without a usable GPU runs the models without graphs, and says so.
// Called with b.mu held (from a model's load).
func (b *Builder) graphMemory(p configs.Profile) ort.DeviceMemory {
	if !p.CUDAGraph || !slices.Contains(p.Providers, ort.CUDA) {
		return nil
	}
	if b.graph == nil {
		c, err := cuda.Retain(0)
		if err != nil {
			b.log.Warn("cuda_graph is set, but no GPU memory to bind the models in: running without CUDA graphs", "err", err)
			return nil
		}
		b.graph = c
	}
	return b.graph
}

// Build wires the stages a profile configures.
func (b *Builder) Build(ctx context.Context, p configs.Profile) (*Pipeline, error) {
	var stages []Stage
	threejs := p.Encoding.Format == FormatThreejs
	// The profile's renderer draws the fit's, the score's and a scene
	// picture's ground-truth views (the three.js path renders none).
	var r Renderer
	if !threejs {
		var err error
		if r, err = b.Renderer(p); err != nil {
			return nil, err
		}
	}
	switch p.Text2Img.Source {
	case "scenes":
		src := sceneSource{
			imageSize:  p.Text2Img.Resolution,
			fitSize:    p.Fit.Resolution,
			trainViews: max(1, p.Fit.Views),
			heldOut:    max(1, p.Score.FidelityViews),
			truthSize:  p.Score.Resolution,
		}
		if threejs {
			src.trainViews, src.heldOut = 1, 1
			stages = append(stages, threejsSource{scenes: src})
		} else {
			// An image prompt's ground truth (its 16 validator views):
			// on a GPU milliseconds instead of a third of a second on 2
			// cores.
			src.render = r.Render
			stages = append(stages, src)
		}
	case "flux":
		f, err := b.Flux(ctx, p)
		if err != nil {
			return nil, err
		}
		stages = append(stages, fluxStage{f: f, steps: p.Text2Img.Steps, fitSize: p.Fit.Resolution})
	default:
		return nil, fmt.Errorf("text2img.source %q: want scenes or flux", p.Text2Img.Source)
	}
	if p.Matte.Enabled {
		m, err := b.Matte(ctx, p)
		if err != nil {
			return nil, err
		}
		stages = append(stages, matteStage{m: matte.KeyedMatte{Matte: m, Tolerance: p.Matte.KeyTolerance, Fill: p.Matte.KeyFill}, memo: b.memo, log: b.log})
	} else {
		stages = append(stages, unmatted{})
	}
	if threejs {
		// matte -> module -> validator and proxy score (threejsstage.go)
		more, err := b.threejsStages(ctx, p)
		if err != nil {
			return nil, err
		}
		return New(b.log, append(stages, more...)...), nil
	}
	if p.Views.Model != "" {
		if !p.Matte.Enabled {
			return nil, fmt.Errorf("views.model: the multi-view stage works on the matted image; set matte.enabled")
		}
		v, err := b.Views(ctx, p)
		if err != nil {
			return nil, err
		}
		stages = append(stages, viewsStage{v: v})
	}
	stages = append(stages, liftStage{mode: p.Lift.Mode, opt: LiftOptions(p), log: b.log})
	fs := fitStage{opt: FitOptions(p), log: b.debugLog(ctx), fit: fit.Fit, device: "cpu", lift: p.Lift}
	fid := fidelityStage{threshold: p.Score.Threshold, minSplats: p.Score.MinSplats}
	if g, ok := r.(*gpuRenderer); ok {
		if p.Fit.AreaPriorWeight > 0 {
			return nil, fmt.Errorf("fit.area_prior_weight: the GPU fit (%s) has no area prior; set it to 0 or device to cpu", g.Device())
		}
		fs.fit, fs.device = g.Fit, g.Device()
		fid.render, fid.device = g.Render, g.Device()
	}
	stages = append(stages, fs)
	if p.Score.ClipModel != "" {
		c, err := b.CLIP(ctx, p)
		if err != nil {
			return nil, err
		}
		stages = append(stages, clipStage{c: c, fid: fid})
	} else {
		stages = append(stages, fid)
	}
	f := splat.FormatPLY
	if p.Encoding.Format == "spz" {
		f = splat.FormatSPZ
	}
	stages = append(stages, encodeStage{format: f, maxBytes: p.Encoding.MaxBytes})
	return New(b.log, stages...), nil
}

// FitOptions maps a profile's fit section onto the fit stage's options.
func FitOptions(p configs.Profile) fit.Options {
	f := p.Fit
	o := fit.DefaultOptions()
	o.Iterations = f.Iterations
	o.InitCount = f.InitCount
	o.InitKind = f.Init
	o.SHDegree = f.SHDegree
	o.Resolution = f.Resolution
	o.Background = background
	o.DensifyFrom, o.DensifyUntil, o.DensifyInterval = f.DensifyFrom, f.DensifyUntil, f.DensifyInterval
	o.DensifyGradThreshold = f.DensifyGradThreshold
	o.PruneOpacity = f.PruneOpacity
	o.OpacityResetInterval = f.OpacityResetInterval
	o.MaxGaussians = f.MaxGaussians
	o.LRPositionInit, o.LRPositionFinal = f.LRPosition, f.LRPositionFinal
	o.PositionLRMaxSteps = f.Iterations
	o.LRFeature, o.LROpacity, o.LRScale, o.LRRotation = f.LRFeature, f.LROpacity, f.LRScale, f.LRRotation
	o.LambdaDSSIM, o.LambdaAlpha = f.LambdaDSSIM, f.LambdaAlpha
	o.AreaPriorWeight, o.AreaPriorSize = f.AreaPriorWeight, f.AreaPriorSize
	o.Seed = uint64(f.Seed)
	return o
}
