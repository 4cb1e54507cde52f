// Package scenes owns the built-in, weight-free reference corpus: small 3D
// scenes described by prompt-like names ("a red cube", "a blue sphere on a
// yellow box", ...), each a procedurally made ground-truth Gaussian cloud,
// deterministic from a seed. It also owns the camera sets used to render
// posed reference views (training and held-out) and the textured
// backgrounds that reference views are composited on for matting tests.
//
// Clouds are made by sampling the surfaces of analytic shapes (spheres,
// boxes, tori, cones, cylinders, discs) uniformly by area, one flat
// Gaussian per sample, oriented along the surface. Colour is SH degree 0:
// the shape's albedo (solid, striped, checkered, wood, dotted...) times a
// fixed ambient + Lambert light baked in, so renders read as 3D. Every
// cloud is centred on the per-axis mean of its centres and scaled so the
// largest axis-aligned extent of the centres is 1, with +Y up (world +Y is
// the image top in the validator's cameras) and the scene's front toward
// +Z (the validator's first view).
package scenes

import (
	"errors"
	"fmt"
	"strings"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// Scene is one built-in reference scene.
type Scene struct {
	Name   string // short identifier, e.g. "red-cube"
	Prompt string // the prompt it stands for, e.g. "a red cube"
	parts  func() []part
}

// ErrUnknownScene is wrapped by Get's error.
var ErrUnknownScene = errors.New("unknown scene")

// Names returns the scene names in catalogue order.
func Names() []string {
	names := make([]string, len(catalog))
	for i, c := range catalog {
		names[i] = c.name
	}
	return names
}

// All returns every scene in catalogue order.
func All() []Scene {
	all := make([]Scene, len(catalog))
	for i, c := range catalog {
		all[i] = Scene{Name: c.name, Prompt: c.prompt, parts: c.parts}
	}
	return all
}

// Get returns the scene with the given name or prompt (case-insensitive,
// surrounding space ignored).
func Get(name string) (Scene, error) {
	key := strings.ToLower(strings.TrimSpace(name))
	for _, s := range All() {
		if key == s.Name || key == s.Prompt {
			return s, nil
		}
	}
	return Scene{}, fmt.Errorf("%w %q (have %s)", ErrUnknownScene, name, strings.Join(Names(), ", "))
}

// Build makes the scene's ground-truth cloud with count Gaussians
// (DefaultCount if count ≤ 0; clamped to MaxCount and to a per-scene
// minimum of a few hundred), SH degree 0. The same seed and count always
// give the same cloud; the seed moves the samples, not the shape or its
// colours.
func (s Scene) Build(seed int64, count int) *splat.Cloud {
	if s.parts == nil {
		return splat.NewCloud(0, 0)
	}
	return build(s.Name, s.parts(), seed, count)
}
