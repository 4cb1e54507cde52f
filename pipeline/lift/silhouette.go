package lift

import (
	"fmt"
	"math"
)

// Threshold is the alpha at and above which a pixel is object.
const Threshold = 0.5

// Mask is a soft silhouette: W×H alpha values in 0..1, row-major, pixel
// (x, y) at A[y·W+x].
type Mask struct {
	W, H int
	A    []float32
}

// In reports whether pixel (x, y) is object (alpha ≥ Threshold); pixels
// outside the image are not.
func (m Mask) In(x, y int) bool {
	return x >= 0 && y >= 0 && x < m.W && y < m.H && m.A[y*m.W+x] >= Threshold
}

func (m Mask) check() error {
	if m.W <= 0 || m.H <= 0 || len(m.A) != m.W*m.H {
		return fmt.Errorf("lift: mask %d×%d with %d values", m.W, m.H, len(m.A))
	}
	return nil
}

// Row is one image row's silhouette: the leftmost and rightmost object
// pixels (Left > Right when the row is empty) and the number of separate
// runs of object pixels in between (0 for an empty row, 1 for a row
// without holes or gaps).
type Row struct {
	Left, Right int
	Runs        int
}

// Empty reports whether the row has no object pixel.
func (r Row) Empty() bool { return r.Runs == 0 }

// Centre is the midpoint of the row's span in pixel coordinates (pixel x
// covers [x, x+1)).
func (r Row) Centre() float64 { return float64(r.Left+r.Right+1) / 2 }

// HalfWidth is half the row's span in pixels: the radius the row gets in a
// solid of revolution.
func (r Row) HalfWidth() float64 {
	if r.Empty() {
		return 0
	}
	return float64(r.Right-r.Left+1) / 2
}

// Rows returns each row's span and run count.
func Rows(m Mask) []Row {
	rows := make([]Row, m.H)
	for y := range m.H {
		r := Row{Left: m.W, Right: -1}
		prev := false
		for x := range m.W {
			in := m.In(x, y)
			if in {
				r.Left, r.Right = min(r.Left, x), x
				if !prev {
					r.Runs++
				}
			}
			prev = in
		}
		rows[y] = r
	}
	return rows
}

// Axis is the x coordinate (pixels) of the silhouette's vertical axis: the
// mean of the non-empty rows' centres weighted by their widths. It is NaN
// for an empty mask.
func Axis(rows []Row) float64 {
	var s, w float64
	for _, r := range rows {
		if r.Empty() {
			continue
		}
		hw := r.HalfWidth()
		s += hw * r.Centre()
		w += hw
	}
	if w == 0 {
		return math.NaN()
	}
	return s / w
}

// DistanceTransform returns, for every pixel, the exact Euclidean distance
// in pixels from its centre to the centre of the nearest background pixel,
// where everything outside the image counts as background: 0 on the
// background, 1 on an object pixel next to it. It is the two-pass
// lower-envelope algorithm of Felzenszwalb and Huttenlocher, O(W·H).
func DistanceTransform(m Mask) []float32 {
	// Pad by one background pixel on every side so the image border
	// counts as background.
	w, h := m.W+2, m.H+2
	const inf = 1e20
	f := make([]float64, w*h)
	for y := range h {
		for x := range w {
			if m.In(x-1, y-1) {
				f[y*w+x] = inf
			}
		}
	}
	n := max(w, h)
	buf := edtBuffers{d: make([]float64, n), v: make([]int, n), z: make([]float64, n+1), g: make([]float64, n)}
	for x := range w { // columns
		for y := range h {
			buf.g[y] = f[y*w+x]
		}
		buf.edt1(h)
		for y := range h {
			f[y*w+x] = buf.d[y]
		}
	}
	for y := range h { // rows
		copy(buf.g[:w], f[y*w:(y+1)*w])
		buf.edt1(w)
		copy(f[y*w:(y+1)*w], buf.d[:w])
	}
	out := make([]float32, m.W*m.H)
	for y := range m.H {
		for x := range m.W {
			out[y*m.W+x] = float32(math.Sqrt(f[(y+1)*w+x+1]))
		}
	}
	return out
}

type edtBuffers struct {
	d, z, g []float64
	v       []int
}

// edt1 is the 1D squared distance transform of g[:n] into d[:n].
func (b *edtBuffers) edt1(n int) {
	g, d, v, z := b.g, b.d, b.v, b.z
	k := 0
	v[0] = 0
	z[0], z[1] = math.Inf(-1), math.Inf(1)
	for q := 1; q < n; q++ {
		s := ((g[q] + float64(q*q)) - (g[v[k]] + float64(v[k]*v[k]))) / float64(2*q-2*v[k])
		for s <= z[k] {
			k--
			s = ((g[q] + float64(q*q)) - (g[v[k]] + float64(v[k]*v[k]))) / float64(2*q-2*v[k])
		}
		k++
		v[k] = q
		z[k], z[k+1] = s, math.Inf(1)
	}
	k = 0
	for q := range n {
		for z[k+1] < float64(q) {
			k++
		}
		dq := float64(q - v[k])
		d[q] = dq*dq + g[v[k]]
	}
}

// Inflate returns a half-thickness (pixels) per pixel from the distance
// transform dt of m: the height of the union of the spheres inscribed in
// the silhouette, h(p) = max over q of √(dt(q)² − |p−q|²) for every q
// whose inscribed disc (radius dt(q)) contains p. A disc becomes a
// sphere, a limb a cylinder as thick as it is wide: thin parts stay thin.
// Only centres q whose disc no neighbour's disc contains are used (the
// medial axis), which gives the same maximum.
func Inflate(m Mask, dt []float32) []float32 {
	// The largest squared height per pixel; the square root, monotonic,
	// is taken once at the end.
	h2 := make([]float64, m.W*m.H)
	for y := range m.H {
		for x := range m.W {
			r := float64(dt[y*m.W+x])
			if r <= 0 || !medial(m, dt, x, y, r) {
				continue
			}
			ri := int(math.Ceil(r))
			for yy := max(0, y-ri); yy <= min(m.H-1, y+ri); yy++ {
				dy := float64(yy - y)
				for xx := max(0, x-ri); xx <= min(m.W-1, x+ri); xx++ {
					dx := float64(xx - x)
					if s, i := r*r-dx*dx-dy*dy, yy*m.W+xx; s > h2[i] && dt[i] > 0 {
						h2[i] = s
					}
				}
			}
		}
	}
	h := make([]float32, m.W*m.H)
	for i, s := range h2 {
		h[i] = float32(math.Sqrt(s))
	}
	return h
}

// medial reports whether the disc of radius r at (x, y) is not inside a
// neighbour's disc (dt(n) ≥ r + |n − p|).
func medial(m Mask, dt []float32, x, y int, r float64) bool {
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			if dx == 0 && dy == 0 {
				continue
			}
			xx, yy := x+dx, y+dy
			if xx < 0 || yy < 0 || xx >= m.W || yy >= m.H {
				continue
			}
			if float64(dt[yy*m.W+xx]) >= r+math.Hypot(float64(dx), float64(dy))-1e-6 {
				return false
			}
		}
	}
	return true
}
