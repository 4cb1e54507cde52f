package lift

import (
	"context"
	"math"
	"math/rand/v2"

	"github.com/splatbench/splatbench/internal/parallel"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// view is the reference camera's geometry on the working canvas: where a
// pixel's ray meets the object's middle plane, and where a world point
// lands in the picture.
type view struct {
	cam   splat.Camera
	o     [3]float64 // camera centre
	depth [3]float64 // the viewing direction made level (unit)
	right [3]float64 // level, perpendicular to depth, the picture's +x
	od    float64    // o·depth: the middle plane is p·depth = 0
	px    float64    // world units per pixel at the middle plane
}

func newView(cam splat.Camera) view {
	r := cam.R
	v := view{cam: cam, o: cam.Position()}
	// The depth axis is the viewing direction made level (its vertical
	// part removed): the revolution axis is then the world's vertical
	// whatever the camera's elevation, and the middle plane is the
	// vertical plane through the origin facing the camera.
	fwd := [3]float64{r[6], r[7], r[8]}
	v.depth = [3]float64{fwd[0], 0, fwd[2]}
	if l := math.Hypot(v.depth[0], v.depth[2]); l > 1e-6 {
		v.depth[0], v.depth[2] = v.depth[0]/l, v.depth[2]/l
	} else {
		v.depth = fwd // looking straight down or up: keep the view axis
	}
	v.right = [3]float64{r[0], 0, r[2]}
	if l := math.Hypot(v.right[0], v.right[2]); l > 1e-6 {
		v.right[0], v.right[2] = v.right[0]/l, v.right[2]/l
	} else {
		v.right = [3]float64{r[0], r[1], r[2]}
	}
	v.od = dot(v.o, v.depth)
	d0 := math.Abs(v.od)
	if d0 == 0 {
		d0 = 1
	}
	v.px = d0 / cam.Fy
	return v
}

func dot(a, b [3]float64) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }

// ray returns the unit world direction of the ray through canvas point
// (u, v).
func (g view) ray(u, v float64) [3]float64 {
	r, c := g.cam.R, g.cam
	a, b := (u-c.Cx)/c.Fx, (v-c.Cy)/c.Fy
	d := [3]float64{r[0]*a + r[3]*b + r[6], r[1]*a + r[4]*b + r[7], r[2]*a + r[5]*b + r[8]}
	l := math.Sqrt(dot(d, d))
	return [3]float64{d[0] / l, d[1] / l, d[2] / l}
}

// onRay returns the point of the ray through (u, v) whose depth offset
// from the middle plane is t (world units).
func (g view) onRay(u, v, t float64) [3]float64 {
	d := g.ray(u, v)
	dd := dot(d, g.depth)
	s := (t - g.od) / dd
	return [3]float64{g.o[0] + s*d[0], g.o[1] + s*d[1], g.o[2] + s*d[2]}
}

// project returns the canvas point world point p lands on; ok is false
// behind the camera.
func (g view) project(p [3]float64) (u, v float64, ok bool) {
	c := g.cam
	R := c.R
	x := R[0]*p[0] + R[1]*p[1] + R[2]*p[2] + c.T[0]
	y := R[3]*p[0] + R[4]*p[1] + R[5]*p[2] + c.T[1]
	z := R[6]*p[0] + R[7]*p[1] + R[8]*p[2] + c.T[2]
	if z <= 1e-9 {
		return 0, 0, false
	}
	return c.Fx*x/z + c.Cx, c.Fy*y/z + c.Cy, true
}

// at returns the point of a level cross-section about centre a that is c
// along the right axis and d along the depth axis from it.
func (g view) at(a [3]float64, c, d float64) [3]float64 {
	return [3]float64{a[0] + c*g.right[0] + d*g.depth[0], a[1] + c*g.right[1] + d*g.depth[1], a[2] + c*g.right[2] + d*g.depth[2]}
}

// pixel returns the index of the canvas pixel p lands on, or −1.
func (g view) pixel(p [3]float64, w, h int) int {
	u, v, ok := g.project(p)
	if !ok || u < 0 || v < 0 || u >= float64(w) || v >= float64(h) {
		return -1
	}
	return int(v)*w + int(u)
}

// ringPoints is how many points of a cross-section are checked against
// the silhouette.
const ringPoints = 64

// on returns the point of a level cross-section of outline o at scale r
// about centre a that is share f of the way round.
func (g view) on(a [3]float64, r float64, o *outline, f float64) [3]float64 {
	pt := o.point(f)
	return g.at(a, r*pt[0], r*pt[1])
}

// revolveRadius returns the largest scale (world units) of the level
// cross-section of outline o about centre a whose outline,
// seen by the reference camera, stays inside the silhouette in (dilated by
// one pixel, so the sampled outline may graze it). Seen from above, the
// cross-sections of a round body are ellipses in the picture whose height
// is radius·sin(elevation); a row's width alone would make the top and
// bottom rows of a cylinder a dome and the object too tall.
func (g view) revolveRadius(in []bool, w, h int, a [3]float64, rmax float64, o *outline) float64 {
	fits := func(r float64) bool {
		for k := range ringPoints {
			if i := g.pixel(g.on(a, r, o, float64(k)/ringPoints), w, h); i < 0 || !in[i] {
				return false
			}
		}
		return true
	}
	lo, hi := 0.0, rmax
	if fits(hi) {
		return hi
	}
	for range 14 {
		mid := (lo + hi) / 2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// samples collects Gaussian centres, their colours and, per canvas pixel,
// the span of depth offsets of the samples that land on it.
type samples struct {
	g      view
	w, h   int
	col    []float32 // straight RGB per canvas pixel, filled everywhere
	back   []float32 // the far half's colours (col, blurred: Options.BackBlur)
	P, C   []float32
	lo, hi []float32
}

// colour returns the colour in col (one of the samples' colour maps) at
// the canvas point p lands on.
func (s *samples) colour(p [3]float64, col []float32) []float32 {
	u, v, _ := s.g.project(p)
	x := min(max(int(u), 0), s.w-1)
	y := min(max(int(v), 0), s.h-1)
	i := y*s.w + x
	return col[3*i : 3*i+3]
}

// add places a sample at p with colour c.
func (s *samples) add(p [3]float64, c []float32) {
	s.P = append(s.P, float32(p[0]), float32(p[1]), float32(p[2]))
	s.C = append(s.C, c...)
	if i := s.g.pixel(p, s.w, s.h); i >= 0 {
		t := float32(dot(p, s.g.depth))
		s.lo[i], s.hi[i] = min(s.lo[i], t), max(s.hi[i], t)
	}
}

// addRevolved places a sample on a cross-section about centre a: the near
// half (towards the camera) takes the colour of the pixel it is seen at,
// the far half that of its mirror image through the middle plane, from
// the blurred map (back).
func (s *samples) addRevolved(a [3]float64, c, d float64) {
	g := s.g
	p := g.at(a, c, d)
	if d <= 0 {
		s.add(p, s.colour(p, s.col))
		return
	}
	q := p
	for k := range 3 {
		q[k] -= 2 * d * g.depth[k]
	}
	s.add(p, s.colour(q, s.back))
}

// ring places samples one spacing apart around the cross-section of
// outline o at scale r about a, every step-th spacing.
func (s *samples) ring(a [3]float64, r float64, o *outline, step float64) {
	n := max(8, int(math.Ceil(o.perim*r/(step*s.g.px))))
	for k := range n {
		pt := o.point((float64(k) + 0.5) / float64(n))
		s.addRevolved(a, r*pt[0], r*pt[1])
	}
}

// prism places samples on the walls of prism p one spacing apart, on its
// top and bottom, and on a sparse inner lattice.
func (s *samples) prism(p prism) {
	px := s.g.px
	n := max(1, int(math.Round((p.hi-p.lo)/px)))
	for k := 0; k <= n; k++ {
		y := p.lo + (p.hi-p.lo)*float64(k)/float64(n)
		a := p.centre(s.g, y)
		s.ring(a, p.s, p.o, 1)
		switch {
		case k == 0 || k == n:
			for r := p.s - px; r > 0; r -= px {
				s.ring(a, r, p.o, 1)
			}
			s.addRevolved(a, 0, 0)
		case k%3 == 0:
			for r := p.s - 3*px; r > 0; r -= 3 * px {
				s.ring(a, r, p.o, 3)
			}
			s.addRevolved(a, 0, 0)
		}
	}
}

// place puts Gaussians on and inside the lifted surface and returns the
// cloud and the samples it was made from (the spacing, world units per
// canvas pixel at the middle plane, is s.g.px; s.lo and s.hi are the depth
// span of the samples seen at each canvas pixel, lo > hi where none is).
//
// Sections and boxes (chooseSections): samples sit on each section's rim
// one spacing apart, on rings filling the cap where the next row's
// section is narrower (a flat top, a step), and on a sparse inner
// lattice; on a box's walls, top and bottom (samples.prism). The near
// half takes the colour it is seen at, the far half its mirror image's
// from back (col blurred, Options.BackBlur).
//
// Every object pixel no section covers (a box's edge its prism misses, a
// run too thin for a section, where a handle joins a body, every pixel
// for shape inflate) gets samples on its
// own ray around the front depth of the nearest covered pixel
// (frontDepths), at offsets ±t up to the inflation's half-thickness at the
// pixel (the front and back surfaces and the side walls between it and
// thinner neighbours, one sample per pixel of depth), and every third
// step inside on a 3-pixel lattice; its colour is the pixel's.
//
// Sizes are isotropic, σ = 0.6 spacings, so neighbours overlap and no view
// shows a gap.
func place(ctx context.Context, m Mask, col, back []float32, cam splat.Camera, opt Options) (*splat.Cloud, *samples, error) {
	g := newView(cam)
	s := &samples{g: g, w: m.W, h: m.H, col: col, back: back, lo: make([]float32, m.W*m.H), hi: make([]float32, m.W*m.H)}
	for i := range s.lo {
		s.lo[i], s.hi[i] = float32(math.Inf(1)), float32(math.Inf(-1))
	}
	ds := opt.DepthScale
	secs, boxes, err := chooseSections(ctx, g, m, opt.Shape, ds, opt.Workers)
	if err != nil {
		return nil, nil, err
	}
	byRow := sectionsByRow(secs, m.H)
	// neighbour is the radius of the widest section in row y overlapping
	// sc: the cap between them is the ring between the two radii.
	neighbour := func(sc section, y int) float64 {
		if y < 0 || y >= m.H {
			return 0
		}
		r := 0.0
		for _, j := range byRow[y] {
			if o := secs[j]; o.l <= sc.r && o.r >= sc.l {
				r = max(r, o.rad)
			}
		}
		return r
	}
	for _, sc := range secs {
		r := sc.rad
		if r == 0 {
			continue
		}
		s.ring(sc.a, r, sc.o, 1)
		// The cap: rings between this section and the narrower of its
		// neighbours (a flat top or bottom, a step in the profile).
		rn := min(neighbour(sc, sc.y-1), neighbour(sc, sc.y+1))
		for a := r - g.px; a > rn && a > 0; a -= g.px {
			s.ring(sc.a, a, sc.o, 1)
		}
		if sc.y%3 == 0 {
			for a := min(rn, r) - 3*g.px; a > 0; a -= 3 * g.px {
				s.ring(sc.a, a, sc.o, 3)
			}
			s.addRevolved(sc.a, 0, 0)
		}
	}
	for _, p := range boxes {
		s.prism(p)
	}
	// Pixels the sections cover (as seen by the reference camera).
	covered := make([]bool, m.W*m.H)
	for i := 0; i < len(s.P); i += 3 {
		if j := g.pixel([3]float64{float64(s.P[i]), float64(s.P[i+1]), float64(s.P[i+2])}, m.W, m.H); j >= 0 {
			x, y := j%m.W, j/m.W
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					if xx, yy := x+dx, y+dy; xx >= 0 && yy >= 0 && xx < m.W && yy < m.H {
						covered[yy*m.W+xx] = true
					}
				}
			}
		}
	}
	// An uncovered pixel next to the sections (a box's corner, the rim of a
	// flat top seen from above) sits at the depth of the nearest section's
	// front rather than on the middle plane, which its ray meets above the
	// top or below the bottom.
	mid := frontDepths(s, m)
	h := Inflate(m, DistanceTransform(m))
	hAt := func(x, y int) float64 {
		if !m.In(x, y) || covered[y*m.W+x] {
			return 0
		}
		return float64(h[y*m.W+x]) * ds
	}
	for y := range m.H {
		for x := range m.W {
			i := y*m.W + x
			if !m.In(x, y) || covered[i] {
				continue
			}
			c := col[3*i : 3*i+3]
			hp := hAt(x, y)
			hn := min(hAt(x-1, y), hAt(x+1, y), hAt(x, y-1), hAt(x, y+1))
			u, v := float64(x)+0.5, float64(y)+0.5
			at := func(t float64) { s.add(g.onRay(u, v, mid[i]+t*g.px), c) }
			t0 := max(0, math.Floor(hn-1))
			for t := t0; t < hp; t++ {
				at(-t - frac(hp))
				if t+frac(hp) > 0 {
					at(t + frac(hp))
				}
			}
			if x%3 == 0 && y%3 == 0 {
				for t := 0.0; t < t0-1; t += 3 {
					at(t)
					if t > 0 {
						at(-t)
					}
				}
			}
		}
	}
	n := len(s.P) / 3
	c := splat.NewCloud(n, opt.SHDegree)
	copy(c.Pos, s.P)
	k := c.K()
	ls := float32(math.Log(0.6 * g.px))
	logit := splat.Logit(float32(opt.Opacity))
	rng := rand.New(rand.NewPCG(opt.Seed, 0x5eed))
	for i := range n {
		// Isotropic Gaussians look the same under any rotation; a random
		// one keeps the validator's "every rotation is identity" gate quiet.
		q := [4]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		ql := math.Sqrt(q[0]*q[0] + q[1]*q[1] + q[2]*q[2] + q[3]*q[3])
		if ql < 1e-9 {
			q, ql = [4]float64{1, 0, 0, 0}, 1
		}
		for k := range 4 {
			c.Rot[4*i+k] = float32(q[k] / ql)
		}
		for ch := range 3 {
			c.SH[3*k*i+ch] = (s.C[3*i+ch] - 0.5) / shC0
		}
		c.LogScale[3*i], c.LogScale[3*i+1], c.LogScale[3*i+2] = ls, ls, ls
		c.OpacityLogit[i] = logit
	}
	return c, s, nil
}

// frac is the part of h above its floor, so samples end exactly on the
// surface: offsets frac, 1+frac, … reach h − 1 + frac ≤ h.
func frac(h float64) float64 { return h - math.Floor(h) }

// frontDepths returns, per canvas pixel, the depth offset an uncovered
// object pixel takes: the front (smallest offset) of the nearest pixel the
// sections' samples are seen at (breadth-first, 4-connected, through
// object pixels); 0 where none is reachable.
func frontDepths(s *samples, m Mask) []float64 {
	out := make([]float64, m.W*m.H)
	done := make([]bool, m.W*m.H)
	var queue []int
	for i := range out {
		if s.lo[i] <= s.hi[i] {
			out[i], done[i] = float64(s.lo[i]), true
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		x, y := p%m.W, p/m.W
		for _, q := range [4][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
			if j := q[1]*m.W + q[0]; m.In(q[0], q[1]) && !done[j] {
				out[j], done[j] = out[p], true
				queue = append(queue, j)
			}
		}
	}
	return out
}

// grown returns the silhouette grown by one pixel: the outline test's
// slack.
func grown(m Mask) []bool {
	in := make([]bool, m.W*m.H)
	for y := range m.H {
		for x := range m.W {
			for dy := -1; dy <= 1 && !in[y*m.W+x]; dy++ {
				for dx := -1; dx <= 1; dx++ {
					if m.In(x+dx, y+dy) {
						in[y*m.W+x] = true
						break
					}
				}
			}
		}
	}
	return in
}

// fitSections returns the shape's cross-sections (sections) of outline o
// with their centres on the middle plane and their scales fitted to the
// silhouette grown by one pixel, in (fit), on up to workers goroutines.
func fitSections(ctx context.Context, g view, m Mask, in []bool, shape string, o *outline, workers int) ([]section, error) {
	secs := sections(m, shape)
	err := parallel.Chunks(ctx, len(secs), workers, 16, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			g.fit(m, in, &secs[i], o, 0)
		}
	})
	return secs, err
}

// fit centres sc where its run's centre ray is depth t off the middle
// plane and gives it outline o at the largest scale that fits in
// (revolveRadius; 0 below one spacing).
func (g view) fit(m Mask, in []bool, sc *section, o *outline, t float64) {
	sc.o = o
	sc.a = g.onRay(float64(sc.l+sc.r+1)/2, float64(sc.y)+0.5, t)
	half := float64(sc.r-sc.l+1) / 2
	sc.rad = g.revolveRadius(in, m.W, m.H, sc.a, half*g.px, o)
	if sc.rad < g.px {
		sc.rad = 0
	}
}

// sectionsByRow returns, per canvas row 0..h−1, the indices of the
// sections in it.
func sectionsByRow(secs []section, h int) [][]int {
	byRow := make([][]int, h)
	for i, sc := range secs {
		byRow[sc.y] = append(byRow[sc.y], i)
	}
	return byRow
}

// section is one level cross-section of the lifted shape: the object
// pixels l..r of canvas row y, its centre a on the middle plane, its
// outline and its scale, the radius of a round one (world units).
type section struct {
	y, l, r int
	a       [3]float64
	rad     float64
	o       *outline
}

// sections returns the rows' cross-sections for a shape: revolve, one per
// non-empty row spanning the whole row; auto, one per run of object
// pixels, so a handle, a leg or the two sides of a ring each become their
// own round part as thick as they are wide; inflate, none.
func sections(m Mask, shape string) []section {
	var out []section
	for y := range m.H {
		switch shape {
		case ShapeRevolve:
			if r := Rows(Mask{W: m.W, H: 1, A: m.A[y*m.W : (y+1)*m.W]})[0]; !r.Empty() {
				out = append(out, section{y: y, l: r.Left, r: r.Right})
			}
		case ShapeAuto:
			for x := 0; x < m.W; x++ {
				if !m.In(x, y) {
					continue
				}
				l := x
				for x+1 < m.W && m.In(x+1, y) {
					x++
				}
				out = append(out, section{y: y, l: l, r: x})
			}
		}
	}
	return out
}

// footprint returns the canvas pixels the filled cross-section sc covers
// in the reference view, each once: those the picture of its outline
// overlaps (fillOverlap of outlinePolygon).
func (g view) footprint(sc section, w, h int) []int {
	return fillOverlap(g.outlinePolygon(sc), w, h)
}

// outlinePolygon returns the picture of sc's outline in the reference view:
// its points half a pixel apart (at least 8), those in front of the camera.
func (g view) outlinePolygon(sc section) [][2]float64 {
	n := max(8, int(math.Ceil(sc.o.perim*sc.rad/(g.px/2))))
	pts := make([][2]float64, 0, n)
	for k := range n {
		if u, v, ok := g.project(g.on(sc.a, sc.rad, sc.o, float64(k)/float64(n))); ok {
			pts = append(pts, [2]float64{u, v})
		}
	}
	return pts
}

// fillOverlap returns the pixels of a w×h canvas (pixel x, y is the square
// [x, x+1)×[y, y+1)) that the convex polygon pts (edges included) meets,
// each once, row by row. A convex polygon holds one run per pixel row,
// from the leftmost to the rightmost point of its part within the row.
func fillOverlap(pts [][2]float64, w, h int) []int {
	vmin, vmax := math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		vmin, vmax = min(vmin, p[1]), max(vmax, p[1])
	}
	j0, j1 := max(0, int(math.Floor(vmin))), min(h-1, int(math.Floor(vmax)))
	if len(pts) == 0 || j0 > j1 {
		return nil
	}
	lo, hi := make([]float64, j1-j0+1), make([]float64, j1-j0+1)
	for j := range lo {
		lo[j], hi[j] = math.Inf(1), math.Inf(-1)
	}
	for k, a := range pts {
		b := pts[(k+1)%len(pts)]
		if a[1] > b[1] {
			a, b = b, a
		}
		// The edge's part in each row it crosses.
		for j := max(j0, int(math.Floor(a[1]))); j <= min(j1, int(math.Floor(b[1]))); j++ {
			x0, x1 := a[0], b[0]
			if dv := b[1] - a[1]; dv > 0 {
				v0, v1 := max(a[1], float64(j)), min(b[1], float64(j+1))
				x0, x1 = a[0]+(v0-a[1])/dv*(b[0]-a[0]), a[0]+(v1-a[1])/dv*(b[0]-a[0])
			}
			lo[j-j0], hi[j-j0] = min(lo[j-j0], x0, x1), max(hi[j-j0], x0, x1)
		}
	}
	var out []int
	for r := range lo {
		if hi[r] < 0 || lo[r] >= float64(w) {
			continue
		}
		row := (j0 + r) * w
		for x := max(0, int(math.Floor(lo[r]))); x <= min(w-1, int(math.Floor(hi[r]))); x++ {
			out = append(out, row+x)
		}
	}
	return out
}

// trimEnds zeroes the sections at the far end of each part that the
// reference view cannot see: those whose every pixel another section also
// covers. The largest outline that fits the silhouette leaves, seen from
// above, a thin cone under a round body, hidden behind it; it would make
// the object taller than the picture says and, once the validator scales
// the largest extent to 1.5, smaller. Sections are dropped from that end
// inwards until one shows a pixel of its own. A box covers its
// silhouette's pixels as a section does.
func trimEnds(ctx context.Context, g view, secs []section, boxes []prism, m Mask, workers int) error {
	count := make([]int32, m.W*m.H)
	for _, b := range boxes {
		y0, rows := g.silhouette(b, m.W, m.H)
		for k, lr := range rows {
			for x := lr[0]; x <= lr[1]; x++ {
				count[(y0+k)*m.W+x]++
			}
		}
	}
	pix := make([][]int, len(secs))
	err := parallel.Chunks(ctx, len(secs), workers, 8, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if secs[i].rad > 0 {
				pix[i] = g.footprint(secs[i], m.W, m.H)
			}
		}
	})
	if err != nil {
		return err
	}
	for _, ps := range pix {
		for _, p := range ps {
			count[p]++
		}
	}
	byRow := sectionsByRow(secs, m.H)
	// end reports whether no kept section overlaps section i in row y.
	end := func(i, y int) bool {
		if y < 0 || y >= m.H {
			return true
		}
		for _, j := range byRow[y] {
			if o := secs[j]; o.rad > 0 && o.l <= secs[i].r && o.r >= secs[i].l {
				return false
			}
		}
		return true
	}
	hidden := func(i int) bool {
		for _, p := range pix[i] {
			if count[p] < 2 {
				return false
			}
		}
		return true
	}
	drop := func(i int) {
		secs[i].rad = 0
		for _, p := range pix[i] {
			count[p]--
		}
	}
	// From the hidden end inwards.
	d := g.hiddenEnd()
	if d == 0 {
		return nil
	}
	for k := range m.H {
		y := k
		if d == 1 {
			y = m.H - 1 - k
		}
		for _, i := range byRow[y] {
			if secs[i].rad > 0 && end(i, y+d) && hidden(i) {
				drop(i)
			}
		}
	}
	return nil
}

// hiddenEnd is the direction, in canvas rows, of the object's end the
// reference camera cannot see: seen from above (+1) the bottom, the
// picture's last rows; from below (−1) the top; 0 seen level. The other
// end's tip is the surface the camera looks at: a dome or a flat top,
// which one view cannot tell.
func (g view) hiddenEnd() int {
	switch fy := g.cam.R[7]; {
	case fy < -1e-6:
		return 1
	case fy > 1e-6:
		return -1
	}
	return 0
}
