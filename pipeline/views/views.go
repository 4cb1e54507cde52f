// Package views is the optional multi-view stage: one RGBA image in, K
// posed RGBA views out, from a multi-view diffusion model exported to ONNX
// (MVDream / ImageDream style, docs/algorithms.md §5.3, §6). Without a
// model the pipeline does not use it and keeps K = 1.
//
// The signature splatbench defines for such a model (Spec):
//
//	input  "image" float32|float16 [1, 4, S, S]     RGBA, straight alpha, 0..1
//	output "views" float32|float16 [1, K, 4, S, S]  RGBA, straight alpha, 0..1
//
// S and K are fixed by the export (S = 256 for MVDream/ImageDream, K = 4).
// The diffusion loop (steps, guidance, noise) lives inside the export; this
// stage only feeds, checks and poses. View k is taken to be the camera at
// azimuth 360·k/K, elevation 0, on an orbit of radius 1.5 with a 49.1°
// vertical field of view around the origin, looking at it — LGM's
// convention for the four MVDream/ImageDream views (azimuth 0/90/180/270,
// radius 1.5, fovy 49.1) — in splat.OrbitPosition's frame, so view 0 is the
// input's own pose. Options override the orbit for models trained on
// another one.
package views

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"log/slog"
	"math"

	"github.com/splatbench/splatbench/internal/resample"
	"github.com/splatbench/splatbench/pipeline/fit"
	"github.com/splatbench/splatbench/pipeline/ort"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// LGM's camera convention for MVDream/ImageDream views.
const (
	DefaultRadius    = 1.5
	DefaultElevation = 0.0
	DefaultFOVDeg    = 49.1
)

// Spec is the multi-view signature for input side s (-1: any) and K views
// (-1: any).
func Spec(s, k int64) ort.Spec {
	fp := ort.Float32 | ort.Float16
	return ort.Spec{
		Inputs:  []ort.Tensor{ort.T("image", fp, 1, 4, s, s)},
		Outputs: []ort.Tensor{ort.T("views", fp, 1, k, 4, s, s)},
	}
}

// Options configure the stage.
type Options struct {
	Model     string   // the .onnx file (profile views.model)
	Providers []string // execution-provider order
	Threads   int      // ORT intra-op threads (0: one per core)
	// The orbit the model's views lie on; a zero Radius or FOVDeg takes
	// the default (elevation's default is 0 anyway).
	Radius, ElevationDeg, FOVDeg float64
}

// Views is a loaded multi-view model. It is safe for concurrent use.
type Views struct {
	sess *ort.Session
	opts Options
	size int
	k    int
	log  *slog.Logger
}

// New loads the model. Its input side and K must be fixed in the export.
func New(ctx context.Context, rt *ort.Runtime, opts Options, log *slog.Logger) (*Views, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if rt == nil {
		return nil, errors.New("views: no ONNX Runtime (ort.Init)")
	}
	if opts.Model == "" {
		return nil, errors.New("views: no model (views.model)")
	}
	if opts.Radius == 0 {
		opts.Radius = DefaultRadius
	}
	if opts.FOVDeg == 0 {
		opts.FOVDeg = DefaultFOVDeg
	}
	if !(opts.Radius > 0) || !(opts.FOVDeg > 0 && opts.FOVDeg < 180) || math.IsNaN(opts.ElevationDeg) {
		return nil, fmt.Errorf("views: orbit radius %v, fov %v°, elevation %v°", opts.Radius, opts.FOVDeg, opts.ElevationDeg)
	}
	sig, err := rt.Inspect(opts.Model)
	if err != nil {
		return nil, fmt.Errorf("views: %w", err)
	}
	if p := sig.Mismatches(Spec(-1, -1)); len(p) > 0 {
		return nil, fmt.Errorf("views: %w", &ort.MismatchError{Path: opts.Model, Problems: p})
	}
	s, k := sig.Inputs[0].Shape[2], sig.Outputs[0].Shape[1]
	for _, o := range sig.Outputs {
		if o.Name == "views" {
			k = o.Shape[1]
		}
	}
	if s <= 0 || sig.Inputs[0].Shape[3] != s || k <= 0 {
		return nil, fmt.Errorf("views: model %s: input side %v and view count %d must be fixed in the export", opts.Model, sig.Inputs[0].Shape[2:], k)
	}
	var so []ort.SessionOption
	if opts.Threads > 0 {
		so = append(so, ort.WithIntraOpThreads(opts.Threads))
	}
	sess, err := rt.NewSession(ctx, opts.Model, Spec(s, k), opts.Providers, so...)
	if err != nil {
		return nil, fmt.Errorf("views: %w", err)
	}
	log.Info("views model loaded", "model", opts.Model, "size", s, "k", k, "provider", sess.Provider())
	return &Views{sess: sess, opts: opts, size: int(s), k: int(k), log: log}, nil
}

// K is the number of views the model makes; Size their side in pixels.
func (v *Views) K() int    { return v.k }
func (v *Views) Size() int { return v.size }

// Close releases the model.
func (v *Views) Close() error { return v.sess.Close() }

// Cameras returns the poses of the K views (see the package doc).
func (v *Views) Cameras() []splat.Camera {
	return splat.OrbitCameras(v.k, v.opts.Radius, v.opts.ElevationDeg, v.opts.FOVDeg, v.size, v.size)
}

// Run makes the K posed views of img (RGBA, straight alpha; resized to the
// model's side with Catmull-Rom, internal/resample).
func (v *Views) Run(ctx context.Context, img image.Image) ([]fit.View, error) {
	if img == nil || img.Bounds().Empty() {
		return nil, errors.New("views: no image")
	}
	s, b := v.size, img.Bounds()
	src := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(src, src.Bounds(), img, b.Min, draw.Src)
	in := make([]float32, 4*s*s)
	if b.Dx() == s && b.Dy() == s { // the picture as it is
		for i := range s * s {
			for c := range 4 {
				in[c*s*s+i] = float32(src.Pix[4*i+c]) / 255
			}
		}
	} else {
		small := resample.CatmullRom.Scale(src, src.Bounds(), s, s, 0)
		for i := range s * s {
			in[i], in[s*s+i], in[2*s*s+i], in[3*s*s+i] = small.Straight(i%s, i/s)
		}
	}
	out, err := v.sess.Run(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("views: %w", err)
	}
	vals := out[0]
	if len(vals) != v.k*4*s*s {
		return nil, fmt.Errorf("views: model returned %d values, want %d (K=%d × 4 × %d²)", len(vals), v.k*4*s*s, v.k, s)
	}
	cams := v.Cameras()
	views := make([]fit.View, v.k)
	for k := range v.k {
		plane := vals[k*4*s*s:]
		fv := fit.View{Camera: cams[k], RGB: make([]float32, 3*s*s), Alpha: make([]float32, s*s)}
		for i := range s * s {
			for c := range 4 {
				x := plane[c*s*s+i]
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					return nil, fmt.Errorf("views: view %d channel %d pixel %d is %v", k, c, i, x)
				}
				x = min(max(x, 0), 1)
				if c < 3 {
					fv.RGB[3*i+c] = x
				} else {
					fv.Alpha[i] = x
				}
			}
		}
		views[k] = fv
	}
	return views, nil
}
