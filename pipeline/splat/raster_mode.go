package splat

import (
	"fmt"
	"math"
)

// Mode selects the rasteriser convention. Both modes run the same code; they
// differ only in the constants of modeParams (docs/algorithms.md §4).
type Mode int

const (
	// ModeClassic uses the Inria 3DGS constants (diff-gaussian-rasterization):
	// near plane 0.2, square 3σ radius from the largest eigenvalue, α clamp
	// 0.99, stop when the next T < 1e-4. Used for fitting.
	ModeClassic Mode = iota
	// ModeGsplat follows gsplat 1.5.3, which the subnet-17 validator runs:
	// near plane 0.01, Gaussians with opacity < 1/255 culled, opacity-aware
	// per-axis radius, α clamp 0.999, stop when the next T ≤ 1e-4. Used for
	// scoring and the validator preset.
	ModeGsplat
)

// String names the mode.
func (m Mode) String() string {
	switch m {
	case ModeClassic:
		return "classic"
	case ModeGsplat:
		return "gsplat"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Constants shared by both modes.
const (
	tileSize        = 16 // 16×16 pixel tiles (BLOCK_X = BLOCK_Y = 16)
	tilePixels      = tileSize * tileSize
	alphaMin        = 1.0 / 255 // a Gaussian contributes to a pixel only if α ≥ 1/255
	lowPassDilation = 0.3       // added to the 2D covariance diagonal (gsplat eps2d)
	tStop           = 1e-4      // transmittance at which a pixel is finished
	frustumGuard    = 0.3       // t_x/t_z clamp: 1.3·tan(fov/2) for a centred principal point
	gsplatExtendMax = 3.33      // gsplat GAUSSIAN_EXTEND, the upper bound of its per-axis radius
	classicSigmas   = 3         // Inria radius: 3·sqrt(λ_max)
)

// modeParams is the complete list of what differs between the modes.
//
// The pixel-centre convention is not in this list on purpose: gsplat puts a
// mean at fx·x/z + cx and samples pixel i at i + 0.5; Inria puts it at
// ndc2Pix = fx·x/z + W/2 − 0.5 and samples at i. With Cx = W/2 (the only
// principal point Inria can express) the offsets d = μ − p are identical, so
// this engine uses the gsplat form for both modes. The tile rectangle, which
// decides which tiles a Gaussian may touch, is computed in each mode's own
// convention (rectInria / rectGsplat).
type modeParams struct {
	near          float32 // cull if z_view ≤ near
	alphaMax      float32 // α = min(alphaMax, o·G)
	stopInclusive bool    // stop when next T ≤ tStop (gsplat) instead of < tStop (Inria)
	perAxisRadius bool    // gsplat's opacity-aware per-axis radius and opacity cull; else Inria's 3σ square
}

func paramsFor(m Mode) (modeParams, error) {
	switch m {
	case ModeClassic:
		return modeParams{near: 0.2, alphaMax: 0.99, stopInclusive: false, perAxisRadius: false}, nil
	case ModeGsplat:
		return modeParams{near: 0.01, alphaMax: 0.999, stopInclusive: true, perAxisRadius: true}, nil
	}
	return modeParams{}, fmt.Errorf("splat: unknown raster mode %d", int(m))
}

// stopAt returns the largest next-T at which a pixel stops, so that the
// test is one comparison: next ≤ stopAt.
func (p *modeParams) stopAt() float32 {
	if p.stopInclusive {
		return tStop
	}
	return math.Nextafter32(tStop, 0)
}

// stops reports whether a pixel whose transmittance would become next is
// finished (and the Gaussian that would produce it is not added).
func (p *modeParams) stops(next float32) bool {
	if p.stopInclusive {
		return next <= tStop
	}
	return next < tStop
}

// ModeConstants are a mode's rules in the form another engine of the same
// rasteriser (the GPU in pipeline/cuda) takes them, so both follow one
// definition.
type ModeConstants struct {
	Near          float32 // cull if z_view ≤ Near
	AlphaMax      float32 // α = min(AlphaMax, o·G)
	StopAt        float32 // a pixel is finished when its next T ≤ StopAt
	PerAxisRadius bool    // gsplat's opacity-aware per-axis radius and opacity cull
}

// Constants returns m's rules.
func (m Mode) Constants() (ModeConstants, error) {
	p, err := paramsFor(m)
	if err != nil {
		return ModeConstants{}, err
	}
	return ModeConstants{Near: p.near, AlphaMax: p.alphaMax, StopAt: p.stopAt(), PerAxisRadius: p.perAxisRadius}, nil
}

// TileSize is the side of the square pixel tiles Gaussians are binned into.
const TileSize = tileSize

// FrustumLimits returns the clamp the projection applies to t_x/t_z and
// t_y/t_z (−xNeg ≤ x/z ≤ xPos, −yNeg ≤ y/z ≤ yPos): the image edges plus
// 0.3·tan(fov/2), which keeps the EWA Jacobian stable off screen.
func (c Camera) FrustumLimits() (xNeg, xPos, yNeg, yPos float32) {
	// gsplat's general form; with a centred principal point it is Inria's 1.3·tan(fov/2).
	tanX := 0.5 * float64(c.Width) / c.Fx
	tanY := 0.5 * float64(c.Height) / c.Fy
	xNeg = float32(c.Cx/c.Fx + frustumGuard*tanX)
	xPos = float32((float64(c.Width)-c.Cx)/c.Fx + frustumGuard*tanX)
	yNeg = float32(c.Cy/c.Fy + frustumGuard*tanY)
	yPos = float32((float64(c.Height)-c.Cy)/c.Fy + frustumGuard*tanY)
	return xNeg, xPos, yNeg, yPos
}
