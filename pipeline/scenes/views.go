package scenes

import (
	"context"
	"fmt"
	"image"
	"math"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// Reference camera preset. Scenes have extent 1 where the validator
// normalises to 1.5 at radius 2.5, so radius 2.5/1.5 frames a scene as the
// validator frames it.
const (
	ViewRadius = splat.ValidatorRadius / splat.ValidatorExtent
	ViewFOVDeg = splat.ValidatorFOVDeg
	// HeldOutElevation is used by no training view, so held-out views never
	// coincide with training views whatever the counts.
	HeldOutElevation = -25.0
	// heldOutPhase offsets held-out azimuths (degrees) off the even grid.
	heldOutPhase = 7.0
)

// TrainElevations are the elevations (the validator's convention: negative
// is above the object) that training views cycle through.
var TrainElevations = []float64{-15, -40, 5}

// TrainViews returns n size×size cameras on an orbit of radius ViewRadius
// around the origin, at azimuths 360·i/n and elevations cycling through
// TrainElevations.
func TrainViews(n, size int) []splat.Camera {
	cams := make([]splat.Camera, n)
	for i := range cams {
		az := 360 * float64(i) / float64(n)
		el := TrainElevations[i%len(TrainElevations)]
		cams[i] = orbit(az, el, size)
	}
	return cams
}

// HeldOutViews returns n size×size cameras for novel-view evaluation: same
// radius and field of view as TrainViews, elevation HeldOutElevation
// (which no training view uses) and azimuths 360·(j+½)/n + 7°.
func HeldOutViews(n, size int) []splat.Camera {
	cams := make([]splat.Camera, n)
	for j := range cams {
		az := math.Mod(360*(float64(j)+0.5)/float64(n)+heldOutPhase, 360)
		cams[j] = orbit(az, HeldOutElevation, size)
	}
	return cams
}

func orbit(azimuthDeg, elevationDeg float64, size int) splat.Camera {
	eye := splat.OrbitPosition(ViewRadius, azimuthDeg, elevationDeg)
	return splat.LookAt(eye, [3]float64{}, [3]float64{0, 1, 0}, size, size, ViewFOVDeg)
}

// Views renders cloud (the scene's default cloud, Build(0, 0), when nil)
// from each camera.
func (s Scene) Views(ctx context.Context, cloud *splat.Cloud, cams []splat.Camera, opt splat.RenderOptions) ([]*splat.Image, error) {
	if cloud == nil {
		cloud = s.Build(0, 0)
	}
	ims, err := splat.RenderBatch(ctx, cloud, cams, opt)
	if err != nil {
		return nil, fmt.Errorf("scene %s: %w", s.Name, err)
	}
	return ims, nil
}

// Foreground turns a render over the known background colour bg into a
// straight-alpha (non-premultiplied) 8-bit image: colour
// (RGB − (1−α)·bg)/α, alpha α. This is the input Composite expects.
func Foreground(im *splat.Image, bg [3]float32) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, im.Width, im.Height))
	for y := range im.Height {
		row := out.Pix[y*out.Stride:]
		for x := range im.Width {
			o := y*im.Width + x
			a := im.Alpha[o]
			row[4*x+3] = to8(a)
			if a <= 0 {
				continue
			}
			for c := range 3 {
				row[4*x+c] = to8((im.RGB[3*o+c] - (1-a)*bg[c]) / a)
			}
		}
	}
	return out
}

// to8 converts 0..1 to 8 bits, clamping and rounding to nearest.
func to8(v float32) uint8 {
	if !(v > 0) {
		return 0
	}
	if v >= 1 {
		return 255
	}
	return uint8(v*255 + 0.5)
}
