package lift

import (
	"context"
	"math"
	"slices"

	"github.com/splatbench/splatbench/internal/parallel"
)

// Boxes. One view cannot tell a box from a cylinder face on, but seen
// from above (and in perspective) it can: a box turned to the camera
// stands on a V, and its walls meet the top in corners, where a cylinder
// stands on an elliptic arc. Round level sections centred on the middle
// plane, one per row, make a box a cylinder and its V a cone under it;
// and they place a row of a wide slab's top face, which is one height at
// many depths, at many heights. So each part of the object is also
// fitted as a whole prism, and a part that a square prism explains
// clearly better than a round one becomes that prism.

// squareTurns are the turns about the vertical tried for a box's square
// cross-section (a square turned by a right angle is the same square).
var squareTurns = []float64{0, math.Pi / 12, math.Pi / 6, math.Pi / 4, math.Pi / 3, 5 * math.Pi / 12}

// squareExponent is the superellipse exponent of a box's cross-section:
// a square with slightly rounded corners.
const squareExponent = 10

// Thresholds of the box test (prismFit's score, the part's silhouette
// IoU): a square prism replaces a part's sections when it scores at least
// boxScore and beats the best round prism by boxMargin.
const (
	boxScore  = 0.9
	boxMargin = 0.02
	// A square prism that scores at least boxTieScore and at most boxTie
	// less than the round one is a box next to a box (boxGap rows away at
	// most): both explain the part.
	boxTieScore = 0.98
	boxTie      = 0.005
	boxGap      = 10
	// boxRows is the fewest rows a part needs to be tested.
	boxRows = 8
	// boxHeight is the least height of a box over its half-width: a thin
	// slab's silhouette barely tells its size from its height, and a
	// plate is as often round.
	boxHeight = 0.3
)

// prism is a vertical prism: outline o at scale s about the vertical
// axis through the middle-plane point x along the right axis, from
// height lo to hi (world units).
type prism struct {
	o            *outline
	x, s, lo, hi float64
}

// centre returns the point of the prism's axis at height y.
func (p prism) centre(g view, y float64) [3]float64 {
	return [3]float64{p.x * g.right[0], y, p.x * g.right[2]}
}

// silhouette returns, per canvas row y0..y0+len−1, the columns [l, r]
// (pixel centres inside) of the prism's projection, l > r where the row
// misses it. The prism is convex, so its projection is the convex hull of
// its top and bottom outlines.
func (g view) silhouette(p prism, w, h int) (y0 int, rows [][2]int) {
	const n = 96
	pts := make([][2]float64, 0, 2*n)
	for _, y := range []float64{p.lo, p.hi} {
		a := p.centre(g, y)
		for k := range n {
			if u, v, ok := g.project(g.on(a, p.s, p.o, float64(k)/n)); ok {
				pts = append(pts, [2]float64{u, v})
			}
		}
	}
	hull := convexHull(pts)
	if len(hull) < 3 {
		return 0, nil
	}
	vmin, vmax := math.Inf(1), math.Inf(-1)
	for _, q := range hull {
		vmin, vmax = min(vmin, q[1]), max(vmax, q[1])
	}
	y0 = max(0, int(math.Floor(vmin-0.5))+1)
	y1 := min(h-1, int(math.Floor(vmax-0.5)))
	for y := y0; y <= y1; y++ {
		c := float64(y) + 0.5
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range hull {
			a, b := hull[i], hull[(i+1)%len(hull)]
			if (a[1] <= c) != (b[1] <= c) {
				u := a[0] + (c-a[1])/(b[1]-a[1])*(b[0]-a[0])
				lo, hi = min(lo, u), max(hi, u)
			}
		}
		l, r := 1, 0
		if lo <= hi {
			l, r = max(0, int(math.Ceil(lo-0.5))), min(w-1, int(math.Floor(hi-0.5)))
		}
		rows = append(rows, [2]int{l, r})
	}
	return y0, rows
}

// convexHull returns the convex hull of pts, counter-clockwise (Andrew's
// monotone chain).
func convexHull(pts [][2]float64) [][2]float64 {
	pts = slices.Clone(pts)
	// Projected points are finite: plain comparisons, not cmp.Compare's
	// NaN ordering (a fifth of the lift's time went to this sort).
	slices.SortFunc(pts, func(a, b [2]float64) int {
		switch {
		case a[0] < b[0]:
			return -1
		case a[0] > b[0]:
			return 1
		case a[1] < b[1]:
			return -1
		case a[1] > b[1]:
			return 1
		}
		return 0
	})
	if len(pts) < 3 {
		return pts
	}
	cross := func(o, a, b [2]float64) float64 {
		return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0])
	}
	hull := make([][2]float64, 0, 2*len(pts))
	for _, p := range pts {
		for len(hull) >= 2 && cross(hull[len(hull)-2], hull[len(hull)-1], p) <= 0 {
			hull = hull[:len(hull)-1]
		}
		hull = append(hull, p)
	}
	for i, t := len(pts)-2, len(hull)+1; i >= 0; i-- {
		for len(hull) >= t && cross(hull[len(hull)-2], hull[len(hull)-1], pts[i]) <= 0 {
			hull = hull[:len(hull)-1]
		}
		hull = append(hull, pts[i])
	}
	return hull[:len(hull)-1]
}

// partMask is a part's silhouette: its runs, one per row from row top.
type partMask struct {
	top  int
	runs [][2]int
	n    int // pixels
}

// score is how well prism p explains the part: its pixels the prism
// covers over the part's pixels plus the prism's pixels that show
// background (beyond the silhouette's one-pixel slack). The prism may
// cover other parts: they may hide it (seen from above, a box on a box
// hides the lower one's top), and a part cut from a longer body by a
// handle goes on into the next.
func (g view) score(p prism, pm partMask, m Mask, in []bool) float64 {
	y0, rows := g.silhouette(p, m.W, m.H)
	tp, fp := 0, 0
	for k, lr := range rows {
		y := y0 + k
		pl, pr := 1, 0
		if j := y - pm.top; j >= 0 && j < len(pm.runs) {
			pl, pr = pm.runs[j][0], pm.runs[j][1]
		}
		for x := lr[0]; x <= lr[1]; x++ {
			switch {
			case x >= pl && x <= pr:
				tp++
			case in[y*m.W+x]:
			default:
				fp++
			}
		}
	}
	return float64(tp) / float64(pm.n+fp)
}

// extremeN is how many outline points are searched for the highest or
// lowest.
const extremeN = 96

// extreme returns the canvas row coordinate of the highest (top) or
// lowest point of outline o at scale r about centre a, and where on the
// outline it is (share of the way round).
func (g view) extreme(a [3]float64, r float64, o *outline, top bool) (v, f float64) {
	v = math.Inf(1)
	if !top {
		v = math.Inf(-1)
	}
	for k := range extremeN {
		fk := float64(k) / extremeN
		if _, vk, ok := g.project(g.on(a, r, o, fk)); ok && (top && vk < v || !top && vk > v) {
			v, f = vk, fk
		}
	}
	return v, f
}

// standOn returns p with its top and bottom at the heights where its
// outline's highest point meets canvas row coordinate top and its lowest
// point bottom.
func (g view) standOn(p prism, top, bottom float64) prism {
	height := func(v float64, upper bool, y float64) float64 {
		// The extreme point barely moves along the outline with height:
		// find it, bisect on it alone, and again if it moved.
		_, f := g.extreme(p.centre(g, y), p.s, p.o, upper)
		for range 3 {
			lo, hi := -8.0, 8.0 // world units; higher is smaller v
			for range 30 {
				mid := (lo + hi) / 2
				if _, vm, ok := g.project(g.on(p.centre(g, mid), p.s, p.o, f)); !ok || vm > v {
					lo = mid
				} else {
					hi = mid
				}
			}
			y = (lo + hi) / 2
			_, f2 := g.extreme(p.centre(g, y), p.s, p.o, upper)
			if f2 == f {
				break
			}
			f = f2
		}
		return y
	}
	p.hi, p.lo = height(top, true, p.hi), height(bottom, false, p.lo)
	return p
}

// prismFit fits a prism of outline o to the part: for scales about the
// start's, the prism standing on the part's last row and reaching its
// first (standOn), then a pattern search from the best of those; it
// returns the prism with its score.
func (g view) prismFit(start prism, pm partMask, m Mask, in []bool) (prism, float64) {
	var best prism
	bs := -1.0
	top, bottom := float64(pm.top), float64(pm.top+len(pm.runs))
	for k := range 21 {
		c := start
		c.s = start.s * (0.6 + 0.04*float64(k))
		c = g.standOn(c, top, bottom)
		if c.hi <= c.lo {
			continue
		}
		if sc := g.score(c, pm, m, in); sc > bs {
			best, bs = c, sc
		}
	}
	if bs < 0 {
		return start, 0
	}
	for d := 2 * g.px; d >= g.px/4; d /= 2 {
		for improved := true; improved; {
			improved = false
			for k := range 4 {
				for _, sgn := range []float64{1, -1} {
					c := best
					switch k {
					case 0:
						c.x += sgn * d
					case 1:
						// A larger prism stands nearer the camera: keep
						// where its top and bottom show.
						c.s += sgn * d / 2
						t, _ := g.extreme(best.centre(g, best.hi), best.s, best.o, true)
						b, _ := g.extreme(best.centre(g, best.lo), best.s, best.o, false)
						c = g.standOn(c, t, b)
					case 2:
						c.lo += sgn * d
					case 3:
						c.hi += sgn * d
					}
					if c.s < g.px || c.hi <= c.lo {
						continue
					}
					if sc := g.score(c, pm, m, in); sc > bs {
						best, bs, improved = c, sc, true
					}
				}
			}
		}
	}
	return best, bs
}

// chooseSections fits round sections (fitSections) and, for the auto
// shape, groups them into parts (parts), drops crumbs' sections, stands
// legs on a floor (standFeet), and replaces each part that a square prism
// explains clearly better than a round one (boxy) with that prism; and a
// part that both explain equally well (a box on a box, whose hidden
// bottom and edge-on top show nothing) next to such a box. The hidden end
// of the remaining sections is then dropped (trimEnds). Sections a leg
// adds behind its body come after the others, out of row order.
func chooseSections(ctx context.Context, g view, m Mask, shape string, ds float64, workers int) ([]section, []prism, error) {
	in := grown(m)
	secs, err := fitSections(ctx, g, m, in, shape, circle(ds), workers)
	if err != nil {
		return nil, nil, err
	}
	var boxes []prism
	if shape == ShapeAuto {
		g.handles(m, in, secs)
		type cand struct {
			part
			p          prism
			box, maybe bool
		}
		var cands []cand
		ps, crumbs := parts(secs, m.H, g.hiddenEnd())
		for _, i := range crumbs {
			secs[i].rad = 0
		}
		secs = g.standFeet(m, in, secs, ps)
		for _, pt := range ps {
			if pt.open() || len(pt.secs) < boxRows {
				continue
			}
			p, square, round, err := g.boxy(ctx, secs, pt.secs, m, in, ds, workers)
			if err != nil {
				return nil, nil, err
			}
			ok := square >= boxScore && p.hi-p.lo >= boxHeight*p.s
			cands = append(cands, cand{pt, p, ok && square >= round+boxMargin, ok && square >= boxTieScore && square >= round-boxTie})
		}
		// near reports whether parts a and b stand within a few rows of
		// each other, one above the other.
		near := func(a, b part) bool {
			ta, ba := secs[a.secs[0]], secs[a.secs[len(a.secs)-1]]
			tb, bb := secs[b.secs[0]], secs[b.secs[len(b.secs)-1]]
			gap := max(tb.y-ba.y, ta.y-bb.y)
			return gap <= boxGap && max(ta.l, tb.l) <= min(ta.r, tb.r)
		}
		for changed := true; changed; {
			changed = false
			for i := range cands {
				for j := range cands {
					if cands[i].maybe && !cands[i].box && cands[j].box && near(cands[i].part, cands[j].part) {
						cands[i].box, changed = true, true
					}
				}
			}
		}
		for _, c := range cands {
			if c.box {
				boxes = append(boxes, c.p)
				for _, i := range c.secs {
					secs[i].rad = 0
				}
			}
		}
	}
	if err := trimEnds(ctx, g, secs, boxes, m, workers); err != nil {
		return nil, nil, err
	}
	return secs, boxes, nil
}

// boxy fits round and square prisms to a part (of at least boxRows rows),
// on up to workers goroutines, and returns the best square one, its score
// and the round one's.
func (g view) boxy(ctx context.Context, secs []section, part []int, m Mask, in []bool, ds float64, workers int) (best prism, score, round float64, err error) {
	pm := partMask{top: secs[part[0]].y}
	ws := make([]float64, 0, len(part))
	x := 0.0
	for _, i := range part {
		sc := secs[i]
		pm.runs = append(pm.runs, [2]int{sc.l, sc.r})
		pm.n += sc.r - sc.l + 1
		ws = append(ws, float64(sc.r-sc.l+1))
		x += dot(sc.a, g.right)
	}
	slices.Sort(ws)
	half := ws[len(ws)/2] / 2 * g.px
	start := prism{x: x / float64(len(part))}
	start.o, start.s = circle(ds), half
	// The round prism first, then a square one per turn.
	fits := make([]prism, 1+len(squareTurns))
	scores := make([]float64, len(fits))
	fits[0] = start
	for k, turn := range squareTurns {
		c := start
		c.o = square(squareExponent, turn, ds)
		sn, cs := math.Sincos(turn)
		c.s = half / (math.Abs(sn) + math.Abs(cs))
		fits[k+1] = c
	}
	err = parallel.Chunks(ctx, len(fits), workers, 1, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			fits[k], scores[k] = g.prismFit(fits[k], pm, m, in)
		}
	})
	for k := 1; k < len(fits); k++ {
		if scores[k] > score {
			best, score = fits[k], scores[k]
		}
	}
	return best, score, scores[0], err
}

// parts groups sections (indices) into the object's parts: chains of
// sections in consecutive rows that overlap one to one, split where the
// silhouette's outline turns inwards (concave). It also returns the
// crumbs, specks at the end hidden in direction hidden (rows), which get
// no section. A convex solid's
// silhouette is convex; where a box stands on a wider box, a cone on a
// plate or a ball on a box, the outline has a concave corner.
func parts(secs []section, h, hidden int) (ps []part, crumbs []int) {
	byRow := sectionsByRow(secs, h)
	speck := make([]bool, len(secs))
	overlapping := func(sc section, y int) []int {
		var out []int
		if y >= 0 && y < h {
			for _, j := range byRow[y] {
				if o := secs[j]; !speck[j] && o.l <= sc.r && o.r >= sc.l {
					out = append(out, j)
				}
			}
		}
		return out
	}
	chains := func() [][]int {
		next := make([]int, len(secs))
		prev := make([]int, len(secs))
		for i := range next {
			next[i], prev[i] = -1, -1
		}
		for i, sc := range secs {
			if speck[i] {
				continue
			}
			if n := overlapping(sc, sc.y+1); len(n) == 1 && len(overlapping(secs[n[0]], sc.y)) == 1 {
				next[i], prev[n[0]] = n[0], i
			}
		}
		var out [][]int
		for i := range secs {
			if prev[i] >= 0 || speck[i] {
				continue
			}
			var chain []int
			for j := i; j >= 0; j = next[j] {
				chain = append(chain, j)
			}
			out = append(out, chain)
		}
		return out
	}
	// A chain of fewer than forkRows rows is a speck: it neither breaks
	// its neighbours' chains nor opens their ends.
	for _, c := range chains() {
		if len(c) < forkRows {
			for _, j := range c {
				speck[j] = true
			}
		}
	}
	// A speck at the hidden end (nothing but specks beyond it) is a
	// crumb: its section would stand on the middle plane where its row's
	// ray meets it, far under (or over) the object. Specks inside the
	// silhouette (rows where it forks or merges) keep theirs.
	for i, sp := range speck {
		if sp && hidden != 0 && len(overlapping(secs[i], secs[i].y+hidden)) == 0 {
			crumbs = append(crumbs, i)
		}
	}
	for _, chain := range chains() {
		first, last := secs[chain[0]], secs[chain[len(chain)-1]]
		above := overlapping(first, first.y-1)
		p := part{openTop: len(above) > 0, body: -1}
		whole := true
		for k := range chain {
			if k > 0 && concave(secs, chain, k) {
				ps = append(ps, p)
				p, whole = part{body: -1}, false
			}
			p.secs = append(p.secs, chain[k])
		}
		p.openBottom = len(overlapping(last, last.y+1)) > 0
		// A leg: a whole chain, free at the bottom, that a body above
		// splits into (one run above, which meets others in this row),
		// not the arc under a ring's hole (two runs above merging).
		if whole && !p.openBottom && len(above) == 1 && len(overlapping(secs[above[0]], first.y)) > 1 {
			p.body = above[0]
		}
		ps = append(ps, p)
	}
	return ps, crumbs
}

// forkRows is the fewest rows a chain needs not to be a speck.
const forkRows = 3

// part is a part of the object: its sections (indices, one per row) and
// whether its top and bottom are open, ending at a fork of the
// silhouette (a handle, the hole of a ring, a table's leg under its top),
// where it goes on into other parts.
type part struct {
	secs                []int
	openTop, openBottom bool
	body                int // a leg's: the section it hangs from (see parts); −1 if not a leg
}

// open reports whether the part goes on into others at an end: its own
// silhouette does not show its shape.
func (p part) open() bool { return p.openTop || p.openBottom }

// concaveSpan is how many rows either side of a row the outline's slope
// is read over, and concaveTurn how much its two sides together must turn
// inwards there (in pixels per row) to split a chain: a real matte's edge
// wobbles by about a pixel over a few rows.
const (
	concaveSpan = 3
	concaveTurn = 1.5
)

// concave reports whether the outline of chain (section indices in
// consecutive rows) turns inwards at its k-th row: the left edge's slope
// falls (it moves out faster below than above) and the right edge's
// rises, by more than concaveTurn together.
func concave(secs []section, chain []int, k int) bool {
	if k < concaveSpan || k+concaveSpan > len(chain) {
		return false
	}
	a, b, c := secs[chain[k-concaveSpan]], secs[chain[k]], secs[chain[k+concaveSpan-1]]
	n := float64(concaveSpan)
	left := float64(c.l-b.l)/(n-1) - float64(b.l-a.l)/n
	right := float64(c.r-b.r)/(n-1) - float64(b.r-a.r)/n
	return right-left > concaveTurn
}

// standFeet puts an object's feet on one floor. Seen from above, legs
// (parts) that end at different rows stand at different depths: a
// table's back legs end higher in the picture than its front ones. Round sections centred
// on the middle plane put them all in one plane, the back legs short.
// The floor is the height where the feet's bottom rays, on average, meet
// the middle plane (so they stand as far behind it as in front); each
// foot's sections then stand, vertically, at the depth where its bottom
// ray meets the floor, and the leg goes on up behind the body it hangs
// from to that body's height (its hidden top; a back leg would float).
func (g view) standFeet(m Mask, in []bool, secs []section, ps []part) []section {
	if g.hiddenEnd() != 1 {
		return secs
	}
	type foot struct {
		p    part
		u, v float64
	}
	var feet []foot
	vmin, vmax := math.Inf(1), math.Inf(-1)
	for _, p := range ps {
		if p.body < 0 {
			continue
		}
		last := secs[p.secs[len(p.secs)-1]]
		f := foot{p, float64(last.l+last.r+1) / 2, float64(last.y + 1)}
		if g.ray(f.u, f.v)[1] >= 0 {
			return secs // a ray that never meets a floor
		}
		feet = append(feet, f)
		vmin, vmax = min(vmin, f.v), max(vmax, f.v)
	}
	if len(feet) < 2 || vmax-vmin < 2 {
		return secs
	}
	depth := func(f foot, floor float64) float64 {
		d := g.ray(f.u, f.v)
		s := (floor - g.o[1]) / d[1]
		return dot([3]float64{g.o[0] + s*d[0], g.o[1] + s*d[1], g.o[2] + s*d[2]}, g.depth)
	}
	mean := func(floor float64) float64 {
		sum := 0.0
		for _, f := range feet {
			sum += depth(f, floor)
		}
		return sum / float64(len(feet))
	}
	// A higher floor meets the rays nearer the camera: mean falls as the
	// floor rises.
	lo, hi := g.o[1]-1e3, g.o[1]-1e-6
	for range 60 {
		mid := (lo + hi) / 2
		if mean(mid) > 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	floor := (lo + hi) / 2
	for _, f := range feet {
		t := depth(f, floor)
		for _, i := range f.p.secs {
			g.fit(m, in, &secs[i], secs[i].o, t)
		}
		top, body := secs[f.p.secs[0]], secs[f.p.body]
		for y := top.y - 1; y >= 0; y-- {
			sc := section{y: y, l: top.l, r: top.r}
			if g.fit(m, in, &sc, top.o, t); sc.a[1] > body.a[1] || sc.rad == 0 {
				break
			}
			secs = append(secs, sc)
		}
	}
	return secs
}

// handles narrows the rows where a handle joins a body to the body. Where
// the handle is its own run (rows of two runs, at least three, the
// narrower less than half the wider), the rows just above and below,
// where it merges into the body, are one run spanning both: as one round
// section that is a ring bulging all round the body. Those rows' sections keep the body's
// edge on the handle's side (while their other edge stays within two
// pixels of the body's), and the handle's pixels there take their
// neighbours' depth like any pixel no section covers.
func (g view) handles(m Mask, in []bool, secs []section) {
	byRow := sectionsByRow(secs, m.H)
	near := func(a, b int) bool { return a-b <= 2 && b-a <= 2 }
	forked := func(y int) bool { return y >= 0 && y < m.H && len(byRow[y]) == 2 }
	for y := range m.H {
		if len(byRow[y]) != 2 {
			continue
		}
		body, handle := secs[byRow[y][0]], secs[byRow[y][1]]
		if handle.r-handle.l > body.r-body.l {
			body, handle = handle, body
		}
		if 2*(handle.r-handle.l+1) >= body.r-body.l+1 {
			continue // two sides of a ring, two legs: not a handle
		}
		right := handle.l > body.r
		for _, dir := range []int{-1, 1} {
			if !forked(y-dir) || !forked(y-2*dir) {
				continue // a speck beside the body, not a handle
			}
			for yy := y + dir; yy >= 0 && yy < m.H && len(byRow[yy]) == 1; yy += dir {
				sc := &secs[byRow[yy][0]]
				if right && (!near(sc.l, body.l) || sc.r <= body.r+2) || !right && (!near(sc.r, body.r) || sc.l >= body.l-2) {
					break
				}
				if right {
					sc.r = body.r
				} else {
					sc.l = body.l
				}
				g.fit(m, in, sc, sc.o, 0)
			}
		}
	}
}
