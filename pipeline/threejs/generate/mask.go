package generate

import (
	"image"
	"image/draw"
	"math"
	"sort"

	"github.com/splatbench/splatbench/pipeline/lift"
)

// grid is the prompt on a square analysis grid: straight-alpha colour in
// linear 0..1 and the object mask. Pixel (x, y) covers the frame's square
// [x/N, (x+1)/N) × [y/N, (y+1)/N), the frame being the judge's 1024² view.
type grid struct {
	N   int
	In  []bool
	Lin [][3]float64 // linear RGB (sRGB decoded)
}

func (g *grid) in(x, y int) bool { return x >= 0 && y >= 0 && x < g.N && y < g.N && g.In[y*g.N+x] }

// newGrid pads img to a square (centred, transparent) and box-filters it to
// n×n; a cell is object when its mean alpha ≥ 0.5, its colour is the
// alpha-weighted mean.
func newGrid(img *image.NRGBA, n int) *grid {
	b := img.Bounds()
	side := max(b.Dx(), b.Dy())
	sq := image.NewNRGBA(image.Rect(0, 0, side, side))
	off := image.Pt((side-b.Dx())/2, (side-b.Dy())/2)
	draw.Draw(sq, image.Rectangle{Min: off, Max: off.Add(b.Size())}, img, b.Min, draw.Src)
	g := &grid{N: n, In: make([]bool, n*n), Lin: make([][3]float64, n*n)}
	var lut [256]float64
	for i := range lut {
		lut[i] = srgbToLinear(float64(i) / 255)
	}
	for y := range n {
		y0, y1 := y*side/n, (y+1)*side/n
		for x := range n {
			x0, x1 := x*side/n, (x+1)*side/n
			var a, cnt float64
			var c [3]float64
			for yy := y0; yy < max(y1, y0+1); yy++ {
				row := sq.Pix[yy*sq.Stride:]
				for xx := x0; xx < max(x1, x0+1); xx++ {
					p := row[4*xx:]
					w := float64(p[3]) / 255
					a += w
					cnt++
					for k := range 3 {
						c[k] += w * lut[p[k]]
					}
				}
			}
			i := y*n + x
			if a > 0 {
				for k := range 3 {
					g.Lin[i][k] = c[k] / a
				}
			}
			g.In[i] = a/cnt >= 0.5
		}
	}
	g.smooth()
	g.keepLargest()
	return g
}

// smooth is two passes of a 3×3 majority filter on the mask: it removes
// one-cell spurs and notches, which would make the traced outline double
// back on itself (a self-intersecting shape triangulates badly).
func (g *grid) smooth() {
	n := g.N
	for range 2 {
		out := make([]bool, len(g.In))
		for y := range n {
			for x := range n {
				c := 0
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						if g.in(x+dx, y+dy) {
							c++
						}
					}
				}
				out[y*n+x] = c >= 5
			}
		}
		g.In = out
	}
}

// keepLargest drops every 4-connected object component but the largest
// (specks of matte noise would otherwise become parts).
func (g *grid) keepLargest() {
	comps := g.components(g.In)
	if len(comps) <= 1 {
		return
	}
	sort.Slice(comps, func(i, j int) bool { return len(comps[i]) > len(comps[j]) })
	for _, c := range comps[1:] {
		if len(c) < len(comps[0])/20 {
			for _, i := range c {
				g.In[i] = false
			}
		}
	}
}

// components lists the 4-connected components of m as cell indices.
func (g *grid) components(m []bool) [][]int {
	n := g.N
	seen := make([]bool, len(m))
	var out [][]int
	var stack []int
	for s := range m {
		if !m[s] || seen[s] {
			continue
		}
		var comp []int
		stack = append(stack[:0], s)
		seen[s] = true
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			comp = append(comp, i)
			x, y := i%n, i/n
			for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
				xx, yy := x+d[0], y+d[1]
				if xx < 0 || yy < 0 || xx >= n || yy >= n {
					continue
				}
				j := yy*n + xx
				if m[j] && !seen[j] {
					seen[j] = true
					stack = append(stack, j)
				}
			}
		}
		out = append(out, comp)
	}
	return out
}

// rows is the mask's per-row spans (pipeline/lift's silhouette helper).
func (g *grid) rows() []lift.Row {
	m := lift.Mask{W: g.N, H: g.N, A: make([]float32, len(g.In))}
	for i, v := range g.In {
		if v {
			m.A[i] = 1
		}
	}
	return lift.Rows(m)
}

// symmetry is the IoU of the mask with its mirror image about x = a.
func (g *grid) symmetry(a float64) float64 {
	var inter, union int
	for y := range g.N {
		for x := range g.N {
			mx := int(math.Floor(2*a - float64(x) - 1 + 0.5))
			p, q := g.in(x, y), g.in(mx, y)
			if p && q {
				inter++
			}
			if p || q {
				union++
			}
		}
	}
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

// trace returns the outer boundary of the component containing cell
// start (the topmost-leftmost cell of it) as grid-corner points, clockwise
// in image space, by walking the cell edges with the object on the right.
func trace(m func(x, y int) bool, start int, n int) [][2]float64 {
	sx, sy := start%n, start/n
	// edge walk on cell corners: start at the top-left corner of start,
	// heading right (the cell above is empty, start is below).
	x, y := sx, sy
	dx, dy := 1, 0
	var pts [][2]float64
	for steps := 0; steps < 8*n*n; steps++ {
		pts = append(pts, [2]float64{float64(x), float64(y)})
		x, y = x+dx, y+dy
		// cells around corner (x, y) relative to heading: the cell ahead-left
		// and ahead-right decide the turn (object kept on the right).
		aheadRight, aheadLeft := cellAhead(m, x, y, dx, dy)
		switch {
		case aheadRight && aheadLeft:
			dx, dy = dy, -dx // turn left (image space, y down)
		case aheadRight:
			// straight on
		default:
			dx, dy = -dy, dx // turn right
		}
		if x == sx && y == sy && dx == 1 && dy == 0 {
			break
		}
	}
	return pts
}

// cellAhead reports the two cells in front of corner (x, y) moving (dx, dy):
// the one on the right of the heading and the one on its left. Image space
// (y down): heading right (1, 0) has the cell below on its right.
func cellAhead(m func(x, y int) bool, x, y, dx, dy int) (right, left bool) {
	switch {
	case dx == 1: // cells (x, y) below-right, (x, y-1) above-right
		return m(x, y), m(x, y-1)
	case dx == -1:
		return m(x-1, y-1), m(x-1, y)
	case dy == 1:
		return m(x-1, y), m(x, y)
	default: // dy == -1
		return m(x, y-1), m(x-1, y-1)
	}
}

// simplify is Douglas–Peucker on a closed polygon, to at most maxPts
// points: the tolerance doubles from tol until it fits.
func simplify(pts [][2]float64, tol float64, maxPts int) [][2]float64 {
	if len(pts) <= 3 {
		return pts
	}
	for {
		out := dpClosed(pts, tol)
		if len(out) <= maxPts || tol > 1e6 {
			return out
		}
		tol *= 1.5
	}
}

func dpClosed(pts [][2]float64, tol float64) [][2]float64 {
	// split at the point farthest from pts[0]
	far, best := 0, -1.0
	for i, p := range pts {
		if d := math.Hypot(p[0]-pts[0][0], p[1]-pts[0][1]); d > best {
			far, best = i, d
		}
	}
	a := dp(pts[:far+1], tol)
	b := dp(append(append([][2]float64{}, pts[far:]...), pts[0]), tol)
	return append(a[:len(a)-1], b[:len(b)-1]...)
}

// dp is Douglas–Peucker on an open polyline (keeps both ends).
func dp(pts [][2]float64, tol float64) [][2]float64 {
	if len(pts) < 3 {
		return pts
	}
	a, b := pts[0], pts[len(pts)-1]
	idx, dmax := 0, -1.0
	for i := 1; i < len(pts)-1; i++ {
		if d := segDist(pts[i], a, b); d > dmax {
			idx, dmax = i, d
		}
	}
	if dmax <= tol {
		return [][2]float64{a, b}
	}
	l := dp(pts[:idx+1], tol)
	r := dp(pts[idx:], tol)
	return append(l[:len(l)-1], r...)
}

func segDist(p, a, b [2]float64) float64 {
	vx, vy := b[0]-a[0], b[1]-a[1]
	l2 := vx*vx + vy*vy
	if l2 == 0 {
		return math.Hypot(p[0]-a[0], p[1]-a[1])
	}
	t := math.Max(0, math.Min(1, ((p[0]-a[0])*vx+(p[1]-a[1])*vy)/l2))
	return math.Hypot(p[0]-a[0]-t*vx, p[1]-a[1]-t*vy)
}

// kmeans clusters colours (linear RGB) into k groups, deterministically
// (initial centres by farthest-point from the mean); returns the centres
// and each colour's label.
func kmeans(cols [][3]float64, k, iters int) ([][3]float64, []int) {
	if len(cols) == 0 || k <= 0 {
		return nil, nil
	}
	k = min(k, len(cols))
	var mean [3]float64
	for _, c := range cols {
		for j := range 3 {
			mean[j] += c[j] / float64(len(cols))
		}
	}
	centres := [][3]float64{}
	ref := mean
	for len(centres) < k {
		bi, bd := 0, -1.0
		for i, c := range cols {
			d := math.Inf(1)
			if len(centres) == 0 {
				d = dist2(c, ref)
			}
			for _, z := range centres {
				d = math.Min(d, dist2(c, z))
			}
			if d > bd {
				bi, bd = i, d
			}
		}
		if bd <= 1e-9 && len(centres) > 0 {
			break // every colour is already a centre
		}
		centres = append(centres, cols[bi])
	}
	labels := make([]int, len(cols))
	for range iters {
		sums := make([][4]float64, len(centres))
		for i, c := range cols {
			bj, bd := 0, math.Inf(1)
			for j, z := range centres {
				if d := dist2(c, z); d < bd {
					bj, bd = j, d
				}
			}
			labels[i] = bj
			for q := range 3 {
				sums[bj][q] += c[q]
			}
			sums[bj][3]++
		}
		for j := range centres {
			if sums[j][3] > 0 {
				for q := range 3 {
					centres[j][q] = sums[j][q] / sums[j][3]
				}
			}
		}
	}
	return centres, labels
}

func dist2(a, b [3]float64) float64 {
	// perceptual-ish: compare in sRGB-encoded space
	var s float64
	for i := range 3 {
		d := linearToSRGB(a[i]) - linearToSRGB(b[i])
		s += d * d
	}
	return s
}

func srgbToLinear(c float64) float64 {
	if c <= 0.04045 {
		return c / 12.92
	}
	return math.Pow((c+0.055)/1.055, 2.4)
}

func linearToSRGB(c float64) float64 {
	c = math.Max(0, math.Min(1, c))
	if c <= 0.0031308 {
		return c * 12.92
	}
	return 1.055*math.Pow(c, 1/2.4) - 0.055
}

// dropBackground removes from the mask the sizeable regions whose colour is
// the picture's background (a matte that keeps the white seen through a
// ring or between legs): components of cells within 0.035 of bg in sRGB,
// of at least 0.5% of the mask. Returns the cells removed.
func (g *grid) dropBackground(bg [3]float64) int {
	near := make([]bool, len(g.In))
	total := 0
	for i, v := range g.In {
		if !v {
			continue
		}
		total++
		var d float64
		for k := range 3 {
			e := linearToSRGB(g.Lin[i][k]) - linearToSRGB(bg[k])
			d = math.Max(d, math.Abs(e))
		}
		near[i] = d < 0.035
	}
	dropped := 0
	for _, c := range g.components(near) {
		if len(c)*200 < total {
			continue
		}
		for _, i := range c {
			g.In[i] = false
		}
		dropped += len(c)
	}
	if dropped > 0 {
		g.keepLargest()
	}
	return dropped
}
