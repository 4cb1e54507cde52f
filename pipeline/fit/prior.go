package fit

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// areaPrior is the projected-area prior (Options.AreaPriorWeight): every
// step it renders the cloud from one random direction on the sphere around
// the origin and adds λ·mean(α) of that render to the loss, i.e. it asks
// for the smallest silhouette seen from anywhere. Averaged over directions,
// a convex body's projected area is a quarter of its surface area
// (Cauchy's formula), so this is a minimal-surface-area prior; the
// training views' alpha loss holds the silhouettes they see, and the prior
// shrinks what no training view constrains: the corners and edges of the
// visual hull, which project inside every training silhouette.
type areaPrior struct {
	weight  float64
	radius  float64 // camera distance from the origin
	fovY    float64 // degrees
	size    int
	grads   *splat.Grads
	dRGB    []float32
	dAlpha  []float32
	workers int
}

// newAreaPrior places the prior's cameras at the training cameras' mean
// distance from the origin with the first view's vertical field of view.
func newAreaPrior(views []View, opt Options) *areaPrior {
	r := 0.0
	for _, v := range views {
		p := v.Camera.Position()
		r += math.Sqrt(p[0]*p[0]+p[1]*p[1]+p[2]*p[2]) / float64(len(views))
	}
	c := views[0].Camera
	fov := 2 * math.Atan(float64(c.Height)/(2*c.Fy)) * 180 / math.Pi
	n := opt.AreaPriorSize
	return &areaPrior{
		weight: opt.AreaPriorWeight, radius: r, fovY: fov, size: n,
		dRGB: make([]float32, 3*n*n), dAlpha: make([]float32, n*n), workers: opt.Workers,
	}
}

// camera draws a direction uniformly on the sphere and looks at the origin
// from it.
func (p *areaPrior) camera(rng *rand.Rand) splat.Camera {
	var d [3]float64
	for {
		d = [3]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		if n := math.Sqrt(d[0]*d[0] + d[1]*d[1] + d[2]*d[2]); n > 1e-6 {
			for i := range d {
				d[i] *= p.radius / n
			}
			break
		}
	}
	return splat.LookAt(d, [3]float64{}, [3]float64{0, 1, 0}, p.size, p.size, p.fovY)
}

// step renders one random view, adds the prior's parameter gradients to g
// (not its densification statistics, which stay the training views') and
// returns the weighted prior loss λ·mean(α).
func (p *areaPrior) step(ctx context.Context, c *splat.Cloud, rng *rand.Rand, g *splat.Grads) (float64, error) {
	cam := p.camera(rng)
	img, tr, err := splat.Forward(ctx, c, cam, splat.RenderOptions{Mode: splat.ModeClassic, SHDegree: 0, Workers: p.workers})
	if err != nil {
		return 0, fmt.Errorf("area prior: forward: %w", err)
	}
	m := len(img.Alpha)
	sum := 0.0
	for _, a := range img.Alpha {
		sum += float64(a)
	}
	d := float32(p.weight / float64(m))
	for i := range p.dAlpha {
		p.dAlpha[i] = d
	}
	if p.grads == nil || len(p.grads.OpacityLogit) != c.Len() {
		p.grads = splat.NewGrads(c)
	} else {
		p.grads.Zero()
	}
	if err := splat.Backward(ctx, tr, p.dRGB, p.dAlpha, p.grads); err != nil {
		return 0, fmt.Errorf("area prior: backward: %w", err)
	}
	pg := p.grads
	addTo(g.Pos, pg.Pos)
	addTo(g.LogScale, pg.LogScale)
	addTo(g.Rot, pg.Rot)
	addTo(g.OpacityLogit, pg.OpacityLogit)
	return p.weight * sum / float64(m), nil
}

func addTo(dst, src []float32) {
	for i, v := range src {
		dst[i] += v
	}
}
