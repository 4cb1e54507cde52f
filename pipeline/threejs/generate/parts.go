package generate

import (
	"math"
	"sort"

	"github.com/splatbench/splatbench/pipeline/lift"
)

// Part kinds.
const (
	Lathe   = "lathe"
	Extrude = "extrude"
	Box     = "box"
	Torus   = "torus"
)

// part is one mesh of the module, in world units.
type part struct {
	Kind string
	// Lathe: profile (r, y) from bottom to top, axis at (X, ·, Z).
	// Extrude: outline (x, y) of the front face, closed; Holes likewise.
	Pts   [][2]float64
	Holes [][][2]float64
	X, Z  float64
	// Extrude: from Z0 to Z0+Depth, bevel Bevel.
	Z0, Depth, Bevel float64
	// Box: centre (X, Y, Z), size W×H×D, turned RotY about the vertical.
	// Torus: centre (X, Y, Z), radii W (ring) and D (tube), tilted RotX.
	Y, W, H, D, RotY, RotX float64
	Colour                 [3]float64   // linear albedo
	Stops                  [][3]float64 // lathe: linear albedo stops bottom→top (texture), nil for a flat colour
	Rough, Metal           float64
	// Cells are the grid cells this part stands for in the prompt (colour fit).
	Cells []int
}

// plan is the decomposition of one prompt.
type plan struct {
	Mode     string // "lathe" (revolved core + extruded residue) or "extrude"
	Symmetry float64
	Parts    []part
}

// decompose turns the prompt's grid into parts within the options' budget.
func decompose(g *grid, o Options) plan {
	rows := g.rows()
	a := lift.Axis(rows)
	if math.IsNaN(a) {
		return plan{}
	}
	sym := g.symmetry(a)
	// rows whose axis cell is background while the row is not (a ring seen
	// face-on, two legs) are not revolved.
	var open, used int
	ax := int(a)
	for y, r := range rows {
		if r.Runs == 0 {
			continue
		}
		used++
		if !g.in(ax, y) {
			open++
		}
	}
	p := plan{Symmetry: sym}
	// the revolved body's own axis: the centre of the runs through the
	// first guess (a handle or an arm pulls the mask's mean aside)
	a = runAxis(g, rows, a)
	cover, over := coreFit(g, a)
	if open < used/10 && (sym >= o.SymmetryMin || (cover >= 0.7 && over <= 0.06)) {
		p.Mode = Lathe
		p.Parts = latheParts(g, rows, a, o)
	} else {
		p.Mode = Extrude
		p.Parts = extrudeParts(g, o)
		if len(p.Parts) == 1 && p.Parts[0].Kind == Torus {
			p.Mode = Torus
		}
	}
	return p
}

// runAxis is the median centre of the rows' runs that contain column a
// (the median: rows where a handle joins the body do not pull it aside).
func runAxis(g *grid, rows []lift.Row, a float64) float64 {
	ax := int(a)
	var cs []float64
	for y, r := range rows {
		if r.Runs == 0 || !g.in(ax, y) {
			continue
		}
		l, rr := ax, ax
		for g.in(l-1, y) {
			l--
		}
		for g.in(rr+1, y) {
			rr++
		}
		cs = append(cs, float64(l+rr+1)/2)
	}
	if len(cs) == 0 {
		return a
	}
	sort.Float64s(cs)
	return cs[len(cs)/2]
}

// coreFit measures the revolved core about axis a: the share of the mask
// it covers and the share of the core outside the mask.
func coreFit(g *grid, a float64) (cover, over float64) {
	n := g.N
	var in, core, out int
	for _, v := range g.In {
		if v {
			in++
		}
	}
	for y := range n {
		h, ok := g.coreHalf(a, y)
		if !ok {
			continue
		}
		for x := int(math.Floor(a - h)); x < int(math.Ceil(a+h)); x++ {
			core++
			if !g.in(x, y) {
				out++
			}
		}
	}
	if in == 0 || core == 0 {
		return 0, 1
	}
	return float64(core-out) / float64(in), float64(out) / float64(core)
}

// coreHalf is row y's half-width about the axis a: the run of object cells
// through the axis, measured to its nearer end (a handle on one side is
// residue, not body). ok is false when the axis cell is not in the object.
func (g *grid) coreHalf(a float64, y int) (h float64, ok bool) {
	ax := int(a)
	if !g.in(ax, y) {
		return 0, false
	}
	l, r := ax, ax
	for g.in(l-1, y) {
		l--
	}
	for g.in(r+1, y) {
		r++
	}
	return math.Min(a-float64(l), float64(r+1)-a), true
}

// uv is the frame position (0..1) of grid coordinates (x, y).
func (g *grid) uv(x, y float64) (float64, float64) { return x / float64(g.N), y / float64(g.N) }

func latheParts(g *grid, rows []lift.Row, a float64, o Options) []part {
	n := g.N
	// core: per row, the run through the axis, made symmetric about it
	half := make([]float64, n)
	core := make([]bool, n*n)
	rowCol := make([][3]float64, n)
	for y := range n {
		h, ok := g.coreHalf(a, y)
		if !ok {
			continue
		}
		half[y] = h
		var cols [][3]float64
		for x := int(math.Floor(a - h)); x < int(math.Ceil(a+h)); x++ {
			if x >= 0 && x < n {
				core[y*n+x] = true
			}
			if g.in(x, y) {
				cols = append(cols, g.Lin[y*n+x])
			}
		}
		rowCol[y] = dominant(cols)
	}
	half = medianRows(half, 2)
	// bands of rows with similar colour
	var bands [][2]int // [y0, y1)
	for y := 0; y < n; {
		if half[y] == 0 {
			y++
			continue
		}
		y0 := y
		for y < n && half[y] > 0 {
			y++
		}
		bands = append(bands, splitBands(rowCol, y0, y, o.BandColourDist)...)
	}
	maxLathe := max(1, o.Parts-1)
	bands = mergeBands(bands, rowCol, maxLathe)
	var parts []part
	for _, b := range bands {
		if q, ok := boxBand(g, half, a, b, o); ok {
			parts = append(parts, q)
			continue
		}
		parts = append(parts, lathePart(g, half, rowCol, a, b, o))
	}
	// residue: object cells the core misses (handles, arms, spouts)
	res := make([]bool, n*n)
	for i := range res {
		res[i] = g.In[i] && !core[i]
	}
	parts = append(parts, residueParts(g, res, o, o.Parts-len(parts))...)
	return parts
}

// splitBands cuts rows [y0, y1) where the colour changes: a new band starts
// when a row is farther than dist from the running band mean.
func splitBands(col [][3]float64, y0, y1 int, dist float64) [][2]int {
	var out [][2]int
	start := y0
	var mean [3]float64
	cnt := 0.0
	for y := y0; y < y1; y++ {
		if cnt >= 3 && bandDist(col[y], mean) > dist {
			out = append(out, [2]int{start, y})
			start, cnt, mean = y, 0, [3]float64{}
		}
		for k := range 3 {
			mean[k] = (mean[k]*cnt + col[y][k]) / (cnt + 1)
		}
		cnt++
	}
	return append(out, [2]int{start, y1})
}

// bandMean is the mean of rows [b0, b1)'s colours.
func bandMean(col [][3]float64, b [2]int) [3]float64 {
	var m [3]float64
	for y := b[0]; y < b[1]; y++ {
		for k := range 3 {
			m[k] += col[y][k] / float64(b[1]-b[0])
		}
	}
	return m
}

// mergeBands joins adjacent (touching) bands, most similar first, until at
// most k remain; bands under 3 rows always join a neighbour.
func mergeBands(bands [][2]int, col [][3]float64, k int) [][2]int {
	for len(bands) > 1 {
		bi, bd := -1, math.Inf(1)
		small := false
		for i := 0; i+1 < len(bands); i++ {
			if bands[i][1] != bands[i+1][0] {
				continue
			}
			d := bandDist(bandMean(col, bands[i]), bandMean(col, bands[i+1]))
			s := bands[i][1]-bands[i][0] < 3 || bands[i+1][1]-bands[i+1][0] < 3
			if (s && !small) || (s == small && d < bd) {
				bi, bd, small = i, d, s
			}
		}
		if bi < 0 || (len(bands) <= k && !small) {
			break
		}
		bands[bi][1] = bands[bi+1][1]
		bands = append(bands[:bi+1], bands[bi+2:]...)
	}
	return bands
}

func lathePart(g *grid, half []float64, col [][3]float64, a float64, b [2]int, o Options) part {
	n := float64(g.N)
	u0, _ := g.uv(a, 0)
	p := part{Kind: Lathe, Rough: o.Roughness}
	mid := float64(b[0]+b[1]) / 2
	p.X, _ = toPlane(u0, mid/n, 0)
	// profile: one point per row edge, at the front plane z = 0
	var prof [][2]float64
	yb, _ := rowY(g, a, float64(b[1]))
	prof = append(prof, [2]float64{0, yb})
	for y := b[1] - 1; y >= b[0]; y-- {
		xr, yw := toPlane((a+half[y])/n, (float64(y)+0.5)/n, 0)
		prof = append(prof, [2]float64{xr - p.X, yw})
	}
	yt, _ := rowY(g, a, float64(b[0]))
	prof = append(prof, [2]float64{0, yt})
	// the profile's outer points are kept; the inner ones are simplified
	inner := dp(prof[1:len(prof)-1], o.ProfileTol)
	if len(inner) > o.ProfilePoints {
		inner = dp(prof[1:len(prof)-1], o.ProfileTol*4)
	}
	p.Pts = append(append([][2]float64{prof[0], {inner[0][0], prof[0][1]}}, inner...), [2]float64{inner[len(inner)-1][0], prof[len(prof)-1][1]}, prof[len(prof)-1])
	p.Colour = bandMean(col, b)
	if o.Texture && b[1]-b[0] >= 8 {
		k := min(4, (b[1]-b[0])/4)
		for i := range k {
			// bottom to top: texture v runs with y up
			s := [2]int{b[1] - (i+1)*(b[1]-b[0])/k, b[1] - i*(b[1]-b[0])/k}
			p.Stops = append(p.Stops, bandMean(col, s))
		}
	}
	for y := b[0]; y < b[1]; y++ {
		for x := int(a - half[y]); x <= int(a+half[y]); x++ {
			if g.in(x, y) {
				p.Cells = append(p.Cells, y*g.N+x)
			}
		}
	}
	return p
}

// rowY is the world y of a grid row boundary on the axis at z = 0.
func rowY(g *grid, a, y float64) (float64, float64) {
	x, yy := toPlane(a/float64(g.N), y/float64(g.N), 0)
	return yy, x
}

// residueParts extrudes each sizeable component of m as its own part,
// biggest first, at most k.
func residueParts(g *grid, m []bool, o Options, k int) []part {
	if k <= 0 {
		return nil
	}
	total := 0
	for _, v := range g.In {
		if v {
			total++
		}
	}
	comps := g.components(m)
	sort.Slice(comps, func(i, j int) bool { return len(comps[i]) > len(comps[j]) })
	var parts []part
	for _, c := range comps {
		if len(parts) >= k || len(c) < max(8, total/200) {
			break
		}
		if thin(c, g.N) {
			continue // a sliver along the core's edge, not a part
		}
		mc := make([]bool, len(m))
		for _, i := range c {
			mc[i] = true
		}
		w, h := extent(g, c)
		depth := math.Max(0.02, math.Min(0.3, 0.6*math.Min(w, h)))
		p := outlinePart(g, mc, c, -depth/2, depth, o)
		parts = append(parts, p)
	}
	return parts
}

// extent is a cell set's world width and height at z = 0.
func extent(g *grid, c []int) (float64, float64) {
	x0, y0, x1, y1 := g.N, g.N, 0, 0
	for _, i := range c {
		x, y := i%g.N, i/g.N
		x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x+1), max(y1, y+1)
	}
	n := float64(g.N)
	ax, ay := toPlane(float64(x0)/n, float64(y0)/n, 0)
	bx, by := toPlane(float64(x1)/n, float64(y1)/n, 0)
	return bx - ax, ay - by
}

// outlinePart extrudes the cells c (mask m) from z0 over depth; the outline
// is mapped to the front face's plane so that it projects onto the cells.
func outlinePart(g *grid, m []bool, c []int, z0, depth float64, o Options) part {
	n := g.N
	in := func(x, y int) bool { return x >= 0 && y >= 0 && x < n && y < n && m[y*n+x] }
	start := c[0]
	for _, i := range c {
		if i < start {
			start = i
		}
	}
	front := z0 + depth
	toWorld := func(pts [][2]float64) [][2]float64 {
		out := make([][2]float64, len(pts))
		for i, q := range pts {
			x, y := toPlane(q[0]/float64(n), q[1]/float64(n), front)
			out[i] = [2]float64{x, y}
		}
		return out
	}
	outline := simplify(trace(in, start, n), o.OutlineTol, o.OutlinePoints)
	p := part{Kind: Extrude, Pts: toWorld(outline), Z0: z0, Depth: depth, Rough: o.Roughness, Cells: c}
	p.Bevel = math.Min(0.01, depth/4)
	// holes: background components inside the outline that touch no edge
	bg := make([]bool, len(m))
	for i := range bg {
		bg[i] = !m[i]
	}
	for _, h := range g.components(bg) {
		if len(h) < 12 || touchesEdge(h, n) {
			continue
		}
		hm := make([]bool, len(m))
		hs := h[0]
		for _, i := range h {
			hm[i] = true
			hs = min(hs, i)
		}
		hin := func(x, y int) bool { return x >= 0 && y >= 0 && x < n && y < n && hm[y*n+x] }
		p.Holes = append(p.Holes, toWorld(simplify(trace(hin, hs, n), o.OutlineTol, o.OutlinePoints/2)))
	}
	var s [3]float64
	for _, i := range c {
		for k := range 3 {
			s[k] += g.Lin[i][k] / float64(len(c))
		}
	}
	p.Colour = s
	return p
}

func touchesEdge(c []int, n int) bool {
	for _, i := range c {
		x, y := i%n, i/n
		if x == 0 || y == 0 || x == n-1 || y == n-1 {
			return true
		}
	}
	return false
}

// extrudeParts: the whole silhouette as one extruded body in its dominant
// colour, with the other colour regions as thin layers on its front face.
func extrudeParts(g *grid, o Options) []part {
	var cells []int
	var cols [][3]float64
	for i, v := range g.In {
		if v {
			cells = append(cells, i)
			cols = append(cols, g.Lin[i])
		}
	}
	w, h := extent(g, cells)
	depth := math.Max(0.06, math.Min(0.5, o.DepthRatio*math.Min(w, h)))
	body := outlinePart(g, g.In, cells, -depth/2, depth, o)
	if t, ok := ringPart(g, cells, o); ok {
		return []part{t}
	}
	k := min(o.Parts, o.Colours)
	centres, labels := kmeans(cols, k, 8)
	centres, labels = mergeClusters(centres, labels, o.BandColourDist)
	if len(centres) <= 1 {
		return []part{body}
	}
	count := make([]int, len(centres))
	for _, l := range labels {
		count[l]++
	}
	dom := 0
	for j := range count {
		if count[j] > count[dom] {
			dom = j
		}
	}
	body.Colour = centres[dom]
	parts := []part{body}
	// layers: each other cluster's sizeable components, biggest first
	type comp struct {
		cells []int
		label int
	}
	var comps []comp
	for j := range centres {
		if j == dom {
			continue
		}
		m := make([]bool, len(g.In))
		for i, l := range labels {
			if l == j {
				m[cells[i]] = true
			}
		}
		for _, c := range g.components(m) {
			if len(c) >= max(6, len(cells)/250) {
				comps = append(comps, comp{c, j})
			}
		}
	}
	sort.Slice(comps, func(i, j int) bool { return len(comps[i].cells) > len(comps[j].cells) })
	front := depth/2 + body.Bevel
	for i, c := range comps {
		if len(parts) >= o.Parts {
			break
		}
		m := make([]bool, len(g.In))
		for _, q := range c.cells {
			m[q] = true
		}
		p := outlinePart(g, m, c.cells, front+0.001*float64(i+1), 0.002, o)
		p.Bevel = 0
		p.Colour = centres[c.label]
		parts = append(parts, p)
	}
	return parts
}

// bandDist compares two colours mostly by chromaticity, so that the
// picture's shading (a lit top, a darker bottom) does not cut a part in
// two, while a change of hue or a large change of lightness does.
func bandDist(a, b [3]float64) float64 {
	sa, sb := a[0]+a[1]+a[2]+1e-4, b[0]+b[1]+b[2]+1e-4
	var c float64
	for k := range 3 {
		d := a[k]/sa - b[k]/sb
		c += d * d
	}
	l := math.Abs(math.Log(sa / sb))
	return 2*math.Sqrt(c) + 0.1*l
}

// mergeClusters joins colour clusters closer than dist by bandDist (the
// picture's shading splits one colour into light and dark clusters).
func mergeClusters(centres [][3]float64, labels []int, dist float64) ([][3]float64, []int) {
	n := len(centres)
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			i = parent[i]
		}
		return i
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			if bandDist(centres[i], centres[j]) < dist {
				parent[find(j)] = find(i)
			}
		}
	}
	remap := map[int]int{}
	var out [][3]float64
	var cnt []float64
	for i := range n {
		r := find(i)
		if _, ok := remap[r]; !ok {
			remap[r] = len(out)
			out = append(out, [3]float64{})
			cnt = append(cnt, 0)
		}
	}
	nl := make([]int, len(labels))
	for i, l := range labels {
		j := remap[find(l)]
		nl[i] = j
		cnt[j]++
	}
	// recompute centres from the members
	for i, l := range labels {
		j := nl[i]
		for k := range 3 {
			out[j][k] += centres[l][k] / cnt[j]
		}
	}
	return out, nl
}

// boxBand recognises a band that is a box turned about the vertical rather
// than a solid of revolution: its width is constant, and across it the
// picture's lightness is two flat faces with a step (a cylinder shades
// smoothly). The step's position gives the turn: faces of widths w1, w2 on
// screen are a square box of side hypot(w1, w2) turned by atan(w1/w2).
func boxBand(g *grid, half []float64, a float64, b [2]int, o Options) (part, bool) {
	n := g.N
	if b[1]-b[0] < 12 {
		return part{}, false
	}
	lo, hi := b[0]+(b[1]-b[0])/5, b[1]-(b[1]-b[0])/5
	mn, mx, mean := math.Inf(1), 0.0, 0.0
	for y := lo; y < hi; y++ {
		mn, mx = math.Min(mn, half[y]), math.Max(mx, half[y])
		mean += half[y] / float64(hi-lo)
	}
	if mean < 6 || (mx-mn)/mean > 0.12 {
		return part{}, false
	}
	// lightness across the middle rows
	l, r := int(math.Round(a-mean)), int(math.Round(a+mean))-1
	l, r = max(l, 0), min(r, n-1)
	m0, m1 := b[0]+2*(b[1]-b[0])/5, b[0]+3*(b[1]-b[0])/5
	lum := make([]float64, 0, r-l+1)
	for x := l; x <= r; x++ {
		var s, c float64
		for y := m0; y < m1; y++ {
			if g.in(x, y) {
				q := g.Lin[y*n+x]
				s += linearToSRGB(0.2126*q[0] + 0.7152*q[1] + 0.0722*q[2])
				c++
			}
		}
		if c > 0 {
			s /= c
		}
		lum = append(lum, s)
	}
	k, step, sseStep := bestStep(lum)
	sseLin := quadSSE(lum)
	if edge := len(lum) / 12; k < edge || k > len(lum)-edge || math.Abs(step) < 0.05 || sseStep > 0.7*sseLin {
		return part{}, false
	}
	cell := func(y float64) float64 { // world size of a grid cell at z = 0 on row y
		x0, _ := toPlane(a/float64(n), y/float64(n), 0)
		x1, _ := toPlane((a+1)/float64(n), y/float64(n), 0)
		return x1 - x0
	}
	mid := float64(b[0]+b[1]) / 2
	cw := cell(mid)
	w1, w2 := float64(k)*cw, float64(len(lum)-k)*cw
	side := math.Hypot(w1, w2)
	theta := math.Atan2(w1, w2)
	// the narrow face is the side face: on the left, turn +θ; on the right, −θ
	if w1 > w2 {
		theta = -math.Atan2(w2, w1)
	}
	xc, _ := toPlane(float64(l+r+1)/2/float64(n), mid/float64(n), 0)
	_, yTop := toPlane(a/float64(n), float64(b[0])/float64(n), 0)
	_, yBot := toPlane(a/float64(n), float64(b[1])/float64(n), 0)
	p := part{Kind: Box, X: xc, Y: (yTop + yBot) / 2, W: side, H: yTop - yBot, D: side, RotY: theta, Rough: o.Roughness}
	var c [3]float64
	for y := b[0]; y < b[1]; y++ {
		for x := l; x <= r; x++ {
			if g.in(x, y) {
				p.Cells = append(p.Cells, y*n+x)
				for q := range 3 {
					c[q] += g.Lin[y*n+x][q]
				}
			}
		}
	}
	for q := range 3 {
		p.Colour[q] = c[q] / float64(max(1, len(p.Cells)))
	}
	return p, true
}

// bestStep fits two constant pieces to v; returns the break, the step and
// the residual sum of squares.
func bestStep(v []float64) (int, float64, float64) {
	n := len(v)
	pre, pre2 := make([]float64, n+1), make([]float64, n+1)
	for i, x := range v {
		pre[i+1], pre2[i+1] = pre[i]+x, pre2[i]+x*x
	}
	sse := func(i, j int) (float64, float64) { // [i, j)
		c := float64(j - i)
		s := pre[j] - pre[i]
		return pre2[j] - pre2[i] - s*s/c, s / c
	}
	bk, bs, bstep := 0, math.Inf(1), 0.0
	for k := 2; k <= n-2; k++ {
		e1, m1 := sse(0, k)
		e2, m2 := sse(k, n)
		if e1+e2 < bs {
			bk, bs, bstep = k, e1+e2, m2-m1
		}
	}
	return bk, bstep, bs
}

// quadSSE is the residual of the least-squares parabola through v (a
// cylinder's shading across it is smooth, close to one).
func quadSSE(v []float64) float64 {
	var m [3][4]float64 // normal equations for c0 + c1·t + c2·t², t in -1..1
	n := float64(len(v))
	for i, y := range v {
		t := 2*float64(i)/math.Max(1, n-1) - 1
		b := [3]float64{1, t, t * t}
		for r := range 3 {
			for c := range 3 {
				m[r][c] += b[r] * b[c]
			}
			m[r][3] += b[r] * y
		}
	}
	for c := range 3 { // Gauss–Jordan
		p := c
		for r := c + 1; r < 3; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		m[c], m[p] = m[p], m[c]
		if math.Abs(m[c][c]) < 1e-12 {
			return 0
		}
		for r := range 3 {
			if r != c {
				f := m[r][c] / m[c][c]
				for k := c; k < 4; k++ {
					m[r][k] -= f * m[c][k]
				}
			}
		}
	}
	var e float64
	for i, y := range v {
		t := 2*float64(i)/math.Max(1, n-1) - 1
		r := y - (m[0][3]/m[0][0] + m[1][3]/m[1][1]*t + m[2][3]/m[2][2]*t*t)
		e += r * r
	}
	return e
}

// dominant is the colour most of cols have: the larger of two k-means
// clusters (spots, stripes and highlights do not tint a part).
func dominant(cols [][3]float64) [3]float64 {
	if len(cols) == 0 {
		return [3]float64{}
	}
	c, l := kmeans(cols, 2, 4)
	if len(c) < 2 {
		return c[0]
	}
	n1 := 0
	for _, v := range l {
		n1 += v
	}
	if n1*2 > len(l) {
		return c[1]
	}
	return c[0]
}

// thin reports whether a component is under 4 cells across at its
// widest row and column, or fills under a quarter of its box on average
// per row (a sliver).
func thin(c []int, n int) bool {
	rows := map[int]int{}
	x0, x1 := n, 0
	for _, i := range c {
		rows[i/n]++
		x0, x1 = min(x0, i%n), max(x1, i%n)
	}
	return float64(len(c))/float64(len(rows)) < 4 || x1-x0 < 3
}

// medianRows is a running median over ±r rows of the non-zero half-widths
// (a row or two where a handle joins would otherwise leave a ridge).
func medianRows(h []float64, r int) []float64 {
	out := make([]float64, len(h))
	var w []float64
	for y := range h {
		if h[y] == 0 {
			continue
		}
		w = w[:0]
		for d := -r; d <= r; d++ {
			if j := y + d; j >= 0 && j < len(h) && h[j] > 0 {
				w = append(w, h[j])
			}
		}
		sort.Float64s(w)
		out[y] = w[len(w)/2]
	}
	return out
}

// ringPart recognises a ring: a silhouette with one central hole, wider
// than a tenth of it. The torus's radii come from the outer and inner
// widths (R+r and R−r), its tilt from the outer height: a ring whose
// axis is φ from the view spans 2(R+r)·cos φ + 2r·sin φ vertically.
func ringPart(g *grid, cells []int, o Options) (part, bool) {
	n := g.N
	bg := make([]bool, len(g.In))
	for i := range bg {
		bg[i] = !g.In[i]
	}
	var holes [][]int
	for _, h := range g.components(bg) {
		if !touchesEdge(h, n) && len(h)*20 >= len(cells) {
			holes = append(holes, h)
		}
	}
	if len(holes) != 1 {
		return part{}, false
	}
	bbox := func(c []int) (x0, y0, x1, y1 int) {
		x0, y0 = n, n
		for _, i := range c {
			x, y := i%n, i/n
			x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x+1), max(y1, y+1)
		}
		return
	}
	ox0, oy0, ox1, oy1 := bbox(cells)
	hx0, _, hx1, _ := bbox(holes[0])
	ow, hw := float64(ox1-ox0), float64(hx1-hx0)
	if hw < 0.1*ow || math.Abs(float64(hx0+hx1-ox0-ox1))/2 > 0.1*ow {
		return part{}, false
	}
	fn := float64(n)
	cx, cy := toPlane(float64(ox0+ox1)/2/fn, float64(oy0+oy1)/2/fn, 0)
	lx, _ := toPlane(float64(ox0)/fn, float64(oy0+oy1)/2/fn, 0)
	rx, _ := toPlane(float64(ox1)/fn, float64(oy0+oy1)/2/fn, 0)
	_, ty := toPlane(float64(ox0+ox1)/2/fn, float64(oy0)/fn, 0)
	_, by := toPlane(float64(ox0+ox1)/2/fn, float64(oy1)/fn, 0)
	W, H := rx-lx, ty-by
	R := (W + W*hw/ow) / 4
	r := (W - W*hw/ow) / 4
	best, phi := math.Inf(1), 0.0
	for i := 0; i <= 90; i++ {
		f := float64(i) * math.Pi / 180
		if e := math.Abs(2*(R+r)*math.Cos(f) + 2*r*math.Sin(f) - H); e < best {
			best, phi = e, f
		}
	}
	p := part{Kind: Torus, X: cx, Y: cy, W: R, D: r, RotX: -phi, Rough: o.Roughness, Cells: cells}
	var cols [][3]float64
	for _, i := range cells {
		cols = append(cols, g.Lin[i])
	}
	p.Colour = dominant(cols)
	return p, true
}
