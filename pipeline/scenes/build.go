package scenes

import (
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// part is one painted surface placed in the scene: local point p goes to
// Rot·p + At.
type part struct {
	s     surface
	paint paint
	rot   mat3
	at    vec3
}

func piece(s surface, p paint) part { return part{s: s, paint: p, rot: identity} }

func (p part) move(x, y, z float64) part { p.at = p.at.add(vec3{x, y, z}); return p }

// turn rotates the part (and its offset so far) by m.
func (p part) turn(m mat3) part { p.rot = m.mul(p.rot); p.at = m.apply(p.at); return p }

// Build parameters.
const (
	// DefaultCount is the number of Gaussians Build makes for count ≤ 0.
	DefaultCount = 12000
	// MaxCount bounds Build's count.
	MaxCount = 1 << 21
	// minPerPart keeps small parts (eyes, buttons) visible.
	minPerPart = 48
	// tangentSpacing is the in-surface σ in units of the mean sample
	// spacing sqrt(area/count); with opacity 0.95 it gives an expected
	// optical depth of about 4 along the surface, so no holes show.
	tangentSpacing = 0.85
	// flatness is σ_normal / σ_tangent (geometric mean of the two).
	flatness = 0.2
	// edgeFit bounds σ across an edge to this fraction of the distance to
	// it, but not below edgeFloor·σ, so surfaces end crisply.
	edgeFit, edgeFloor = 0.5, 0.2
	// colourStep is the albedo change (max over channels) that counts as
	// a colour border.
	colourStep = 0.15
	// candidates per sample in best-candidate sampling.
	candidates = 6
	// opacity of every Gaussian.
	opacity = 0.95
)

// light is the direction toward the fixed light baked into colours.
var light = vec3{0.35, 0.8, 0.5}.unit()

// shade bakes a simple ambient + Lambert term into the albedo, so that
// flat-coloured shapes still read as 3D in renders. It depends on the
// world normal only, so the colour is view-independent (SH degree 0).
func shade(albedo, n vec3) vec3 {
	return albedo.scale(0.62 + 0.38*max(0, n.dot(light)))
}

// build samples count Gaussians over the parts (by area, each part at
// least minPerPart), centres the cloud on the per-axis mean of the centres
// and scales it so the largest axis-aligned extent of the centres is 1.
func build(name string, parts []part, seed int64, count int) *splat.Cloud {
	if count <= 0 {
		count = DefaultCount
	}
	count = min(max(count, minPerPart*len(parts)), MaxCount)
	h := fnv.New64a()
	h.Write([]byte(name))
	r := rand.New(rand.NewPCG(uint64(seed), h.Sum64()))

	counts := allocate(parts, count)
	c := splat.NewCloud(count, 0)
	i := 0
	for k, pt := range parts {
		n := counts[k]
		spacing := math.Sqrt(pt.s.area() / float64(n))
		for _, sp := range spread(r, pt.s, n, spacing) {
			pt.emit(c, i, r, sp, tangentSpacing*spacing)
			i++
		}
	}
	splat.CentreAndScale(c, 1)
	return c
}

// emit writes Gaussian i for surface sample sp with in-surface σ sigma.
func (pt part) emit(c *splat.Cloud, i int, r *rand.Rand, sp point, sigma float64) {
	albedo := pt.paint(sp.P, sp.N)
	wn := pt.rot.apply(sp.N).unit()
	rgb := shade(albedo, wn)
	s1 := sigma * math.Exp(0.15*r.NormFloat64())
	s2 := sigma * math.Exp(0.15*r.NormFloat64())
	spin := 2 * math.Pi * r.Float64()

	// The tangent frame, in the part's local coordinates.
	t1, t2 := tangentFrame(sp.N, spin)
	if sp.T1 != (vec3{}) { // near a boundary: keep the Gaussian inside it
		t1, t2 = sp.T1, sp.N.cross(sp.T1)
		s1 = min(s1, max(edgeFit*sp.D1, edgeFloor*sigma))
		s2 = min(s2, max(edgeFit*sp.D2, edgeFloor*sigma))
	}
	// Keep colour borders (stripes, checks, spots) crisp the same way.
	s1 = min(s1, pt.colourEdge(sp, t1, albedo, s1, sigma))
	s2 = min(s2, pt.colourEdge(sp, t2, albedo, s2, sigma))
	s3 := flatness * math.Sqrt(s1*s2)

	q := frameQuat(pt.rot.apply(t1), pt.rot.apply(t2), wn)
	wp := pt.rot.apply(sp.P).add(pt.at)
	for a := range 3 {
		c.Pos[3*i+a] = float32(wp[a])
		c.SH[3*i+a] = float32((rgb[a] - 0.5) / shC0)
	}
	c.LogScale[3*i] = float32(math.Log(s1))
	c.LogScale[3*i+1] = float32(math.Log(s2))
	c.LogScale[3*i+2] = float32(math.Log(s3))
	for a := range 4 {
		c.Rot[4*i+a] = float32(q[a])
	}
	c.OpacityLogit[i] = splat.Logit(opacity)
}

// colourEdge returns the largest σ (at most s) along ±dir for which the
// Gaussian at sp does not spill its colour across a border of the paint:
// it probes the paint 2.5·s away and, where the colour differs, bisects for
// the border.
func (pt part) colourEdge(sp point, dir, albedo vec3, s, sigma float64) float64 {
	differs := func(d float64) bool {
		c := pt.paint(sp.P.add(dir.scale(d)), sp.N)
		return max(math.Abs(c[0]-albedo[0]), math.Abs(c[1]-albedo[1]), math.Abs(c[2]-albedo[2])) > colourStep
	}
	out := s
	for _, sign := range []float64{1, -1} {
		reach := 2.5 * s
		if !differs(sign * reach) {
			continue
		}
		lo, hi := 0.0, reach
		for range 5 {
			mid := (lo + hi) / 2
			if differs(sign * mid) {
				hi = mid
			} else {
				lo = mid
			}
		}
		out = min(out, max(edgeFit*hi, edgeFloor*sigma))
	}
	return out
}

// spread draws n samples of s by best-candidate sampling: each sample is
// the one of `candidates` uniform draws farthest from the samples so far.
// That spreads Gaussians far more evenly than plain uniform draws, so the
// surface has no thin spots, while staying uniform by area.
func spread(r *rand.Rand, s surface, n int, spacing float64) []point {
	type key [3]int32
	cell := func(p vec3) key {
		return key{int32(math.Floor(p[0] / spacing)), int32(math.Floor(p[1] / spacing)), int32(math.Floor(p[2] / spacing))}
	}
	grid := make(map[key][]int32, n)
	out := make([]point, 0, n)
	nearest := func(p vec3) float64 {
		best := 4 * spacing * spacing
		k := cell(p)
		for dx := int32(-1); dx <= 1; dx++ {
			for dy := int32(-1); dy <= 1; dy++ {
				for dz := int32(-1); dz <= 1; dz++ {
					for _, j := range grid[key{k[0] + dx, k[1] + dy, k[2] + dz}] {
						d := p.sub(out[j].P)
						best = min(best, d.dot(d))
					}
				}
			}
		}
		return best
	}
	for range n {
		var pick point
		far := -1.0
		for range candidates {
			sp := s.sample(r)
			if d := nearest(sp.P); d > far {
				pick, far = sp, d
			}
		}
		k := cell(pick.P)
		grid[k] = append(grid[k], int32(len(out)))
		out = append(out, pick)
	}
	return out
}

// shC0 is the degree-0 SH constant: RGB = 0.5 + C0·dc.
const shC0 = 0.28209479177387814

// allocate splits count over the parts by area with at least minPerPart
// each (count must be at least minPerPart·len(parts)); the rounding
// remainder goes to the largest part.
func allocate(parts []part, count int) []int {
	var total float64
	for _, p := range parts {
		total += p.s.area()
	}
	counts := make([]int, len(parts))
	sum := 0
	for k, p := range parts {
		counts[k] = max(minPerPart, int(float64(count)*p.s.area()/total))
		sum += counts[k]
	}
	for sum != count { // settle the rounding on the largest part
		largest := 0
		for k := range counts {
			if counts[k] > counts[largest] {
				largest = k
			}
		}
		d := count - sum
		if d < 0 {
			d = max(d, minPerPart-counts[largest])
		}
		counts[largest] += d
		sum += d
	}
	return counts
}
