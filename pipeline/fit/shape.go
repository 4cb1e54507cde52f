package fit

import (
	"fmt"
	"math"
	"runtime"

	"github.com/splatbench/splatbench/internal/parallel"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// ShapeOptions are the regularisers that keep an initial cloud's shape
// (pipeline/lift's) when the views cannot: one picture constrains nothing
// along its camera's rays, so without them the fit stretches Gaussians
// along the rays into a wedge. They are projections applied after every
// optimiser step; the zero value turns them all off.
type ShapeOptions struct {
	// Depth is the unit direction no view constrains (the reference
	// camera's axis made level, as the lift uses it).
	Depth [3]float64
	// MaxAnisotropy (> 1; 0 off) caps each Gaussian's largest scale at
	// this multiple of its smallest.
	MaxAnisotropy float64
	// MaxDepthSigma (world units; 0 off) caps each Gaussian's standard
	// deviation along Depth: the axes that contribute most are shrunk.
	MaxDepthSigma float64
	// DepthRange, when not nil, gives the depth interval (signed offsets
	// along Depth from the plane through the origin) a centre may have at
	// world point p: the lifted surface's slab at p's pixel, widened by
	// AnchorBand. Centres outside are moved back along Depth, so the view
	// moves them freely across its image plane but not along its rays.
	DepthRange func(p [3]float64) (lo, hi float64)
	// AnchorBand (world units) widens DepthRange on both sides.
	AnchorBand float64
	// Anchor, when it has a position per Gaussian (3 values each; a fit
	// without densification keeps the rows), holds the initial centres,
	// and AnchorRadius (world units, > 0) how far a centre may move from
	// its anchor in any direction.
	Anchor       []float32
	AnchorRadius float64
	// MinOpacity (0 off) is a floor on every opacity: the reference view
	// sees only the front, and must not make the unseen back transparent.
	MinOpacity float64
}

// Enabled reports whether any regulariser is on.
func (s ShapeOptions) Enabled() bool {
	return s.MaxAnisotropy > 0 || s.MaxDepthSigma > 0 || s.DepthRange != nil || s.MinOpacity > 0 ||
		(s.Anchor != nil && s.AnchorRadius > 0)
}

func (s ShapeOptions) validate() error {
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case s.MaxAnisotropy != 0 && !(s.MaxAnisotropy >= 1 && finite(s.MaxAnisotropy)):
		return fmt.Errorf("%w: Shape.MaxAnisotropy = %v: must be 0 (off) or ≥ 1", ErrInvalidOptions, s.MaxAnisotropy)
	case !(s.MaxDepthSigma >= 0) || !finite(s.MaxDepthSigma):
		return fmt.Errorf("%w: Shape.MaxDepthSigma = %v: must be ≥ 0", ErrInvalidOptions, s.MaxDepthSigma)
	case !(s.AnchorBand >= 0) || !finite(s.AnchorBand):
		return fmt.Errorf("%w: Shape.AnchorBand = %v: must be ≥ 0", ErrInvalidOptions, s.AnchorBand)
	case !(s.AnchorRadius >= 0) || !finite(s.AnchorRadius):
		return fmt.Errorf("%w: Shape.AnchorRadius = %v: must be ≥ 0", ErrInvalidOptions, s.AnchorRadius)
	case !(s.MinOpacity >= 0 && s.MinOpacity < 1):
		return fmt.Errorf("%w: Shape.MinOpacity = %v: must be in [0, 1)", ErrInvalidOptions, s.MinOpacity)
	}
	if s.MaxDepthSigma > 0 || s.DepthRange != nil {
		d := s.Depth
		if l := math.Sqrt(d[0]*d[0] + d[1]*d[1] + d[2]*d[2]); !(math.Abs(l-1) < 1e-3) {
			return fmt.Errorf("%w: Shape.Depth = %v: must be a unit vector", ErrInvalidOptions, d)
		}
	}
	return nil
}

// KeepShape applies the shape regularisers of s to c in place: the
// projections the fit runs after every step. Each Gaussian's projection is
// its own, so the cloud is split over at most workers goroutines (0:
// GOMAXPROCS; s.DepthRange must then be safe to call concurrently) in
// chunks of at least shapeChunk Gaussians; the result does not depend on
// the split.
func KeepShape(c *splat.Cloud, s ShapeOptions, workers int) {
	if !s.Enabled() {
		return
	}
	n := c.Len()
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	parallel.For(n, min(workers, (n+shapeChunk-1)/shapeChunk), func(lo, hi int) { keepShape(c, s, lo, hi) })
}

// shapeChunk is the fewest Gaussians KeepShape gives a goroutine: a
// projection costs about 0.1 µs, so smaller chunks cost more to start than
// they save.
const shapeChunk = 4096

// keepShape projects Gaussians lo..hi−1 of c.
func keepShape(c *splat.Cloud, s ShapeOptions, lo, hi int) {
	logMaxAniso := math.Log(s.MaxAnisotropy)
	minLogit := splat.Logit(float32(s.MinOpacity))
	d := s.Depth
	anchored := s.AnchorRadius > 0 && len(s.Anchor) == len(c.Pos)
	r2 := s.AnchorRadius * s.AnchorRadius
	for i := lo; i < hi; i++ {
		ls := c.LogScale[3*i : 3*i+3]
		if s.MaxAnisotropy > 0 {
			lo := float64(min(ls[0], ls[1], ls[2]))
			for k := range 3 {
				ls[k] = float32(min(float64(ls[k]), lo+logMaxAniso))
			}
		}
		if s.MaxDepthSigma > 0 {
			capDepthSigma(ls, c.Rot[4*i:4*i+4], d, s.MaxDepthSigma)
		}
		if s.DepthRange != nil {
			p := [3]float64{float64(c.Pos[3*i]), float64(c.Pos[3*i+1]), float64(c.Pos[3*i+2])}
			lo, hi := s.DepthRange(p)
			lo, hi = lo-s.AnchorBand, hi+s.AnchorBand
			t := p[0]*d[0] + p[1]*d[1] + p[2]*d[2]
			if t < lo || t > hi {
				shift := min(max(t, lo), hi) - t
				for k := range 3 {
					c.Pos[3*i+k] = float32(p[k] + shift*d[k])
				}
			}
		}
		if anchored {
			a, p := s.Anchor[3*i:3*i+3], c.Pos[3*i:3*i+3]
			dx, dy, dz := float64(p[0]-a[0]), float64(p[1]-a[1]), float64(p[2]-a[2])
			if l2 := dx*dx + dy*dy + dz*dz; l2 > r2 {
				k := math.Sqrt(r2 / l2)
				p[0], p[1], p[2] = a[0]+float32(dx*k), a[1]+float32(dy*k), a[2]+float32(dz*k)
			}
		}
		if s.MinOpacity > 0 && c.OpacityLogit[i] < minLogit {
			c.OpacityLogit[i] = minLogit
		}
	}
}

// capDepthSigma shrinks the axes of one Gaussian (log scales ls, quaternion
// q) that contribute most to its standard deviation along unit d until
// that deviation is at most limit.
func capDepthSigma(ls, q []float32, d [3]float64, limit float64) {
	w, x, y, z := float64(q[0]), float64(q[1]), float64(q[2]), float64(q[3])
	n := math.Sqrt(w*w + x*x + y*y + z*z)
	if n == 0 {
		return
	}
	w, x, y, z = w/n, x/n, y/n, z/n
	// Columns of R(q): the Gaussian's axes in world coordinates.
	cols := [3][3]float64{
		{1 - 2*(y*y+z*z), 2 * (x*y + w*z), 2 * (x*z - w*y)},
		{2 * (x*y - w*z), 1 - 2*(x*x+z*z), 2 * (y*z + w*x)},
		{2 * (x*z + w*y), 2 * (y*z - w*x), 1 - 2*(x*x+y*y)},
	}
	var term [3]float64
	var c [3]float64
	sum := 0.0
	for k := range 3 {
		c[k] = cols[k][0]*d[0] + cols[k][1]*d[1] + cols[k][2]*d[2]
		s := math.Exp(float64(ls[k]))
		term[k] = s * s * c[k] * c[k]
		sum += term[k]
	}
	lim2 := limit * limit
	for range 3 {
		if sum <= lim2*(1+1e-6) {
			return
		}
		k := 0
		for j := 1; j < 3; j++ {
			if term[j] > term[k] {
				k = j
			}
		}
		want := max(lim2-(sum-term[k]), term[k]*1e-4)
		if c[k]*c[k] < 1e-12 {
			return
		}
		ls[k] = float32(0.5 * math.Log(want/(c[k]*c[k])))
		sum += want - term[k]
		term[k] = want
	}
}
