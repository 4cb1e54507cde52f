package splat

// tileState is one worker's per-pixel accumulators for a 16×16 tile.
type tileState struct {
	t    [tilePixels]float32
	c    [3 * tilePixels]float32
	d    [tilePixels]float32
	last [tilePixels]int32
	done [tilePixels]bool
}

// span returns the columns [lo, hi] of row py (pixel centre py+0.5) where
// Gaussian g can reach α ≥ 1/255, clipped to [x0, x1]; lo > hi when empty.
func (g *splat2D) span(py, x0, x1 int) (lo, hi int, dy float32) {
	dy = g.my - (float32(py) + 0.5)
	// A dx² + 2B dy dx + (C dy² − tau) ≤ 0, solved for dx = mx − (px + 0.5).
	disc := g.cb*g.cb*dy*dy - g.ca*(g.cc*dy*dy-g.tau)
	if disc < 0 {
		return 1, 0, dy
	}
	sq := sqrt32(disc)
	dxLo := (-g.cb*dy - sq) / g.ca
	dxHi := (-g.cb*dy + sq) / g.ca
	lo = clampPix(ceil32(g.mx-dxHi-0.5), x0, x1+1)
	hi = clampPix(floor32(g.mx-dxLo-0.5), x0-1, x1)
	return lo, hi, dy
}

// clampPix converts a whole-valued float to an int clamped to [lo, hi]
// without ever converting an out-of-range float.
func clampPix(v float32, lo, hi int) int {
	if !(v > float32(lo)) { // also NaN
		return lo
	}
	if v > float32(hi) {
		return hi
	}
	return int(v)
}

// rows returns the rows [lo, hi] the Gaussian's α ≥ 1/255 ellipse can reach,
// clipped to [y0, y1].
func (g *splat2D) rows(y0, y1 int) (lo, hi int) {
	return clampPix(ceil32(g.my-g.hy-0.5), y0, y1+1), clampPix(floor32(g.my+g.hy-0.5), y0-1, y1)
}

// rasterTile composites tile (tx, ty) front to back (§4.3) and writes its
// pixels into im; with keep it also records final T and the last
// contributor per pixel in f.finalT / f.last. It returns the number of
// Gaussian–pixel evaluations.
func (f *frame) rasterTile(tx, ty int, st *tileState, im *Image, keep bool) int64 {
	x0, y0 := tx*tileSize, ty*tileSize
	x1, y1 := min(x0+tileSize, f.v.w)-1, min(y0+tileSize, f.v.h)-1
	for i := range st.t {
		st.t[i] = 1
		st.d[i] = 0
		st.last[i] = -1
		st.done[i] = false
	}
	clear(st.c[:])
	remaining := (x1 - x0 + 1) * (y1 - y0 + 1)
	tile := ty*f.v.tilesX + tx
	start, end := int(f.tileOff[tile]), int(f.tileOff[tile+1])
	p := &f.v.p
	aMax := p.alphaMax
	var evals int64
	for pos := start; pos < end && remaining > 0; pos++ {
		g := &f.sp[f.list[pos]]
		rlo, rhi := g.rows(y0, y1)
		for py := rlo; py <= rhi; py++ {
			lo, hi, dy := g.span(py, x0, x1)
			if lo > hi {
				continue
			}
			evals += int64(hi - lo + 1)
			base := (py - y0) * tileSize
			for px := lo; px <= hi; px++ {
				k := base + px - x0
				if st.done[k] {
					continue
				}
				dx := g.mx - (float32(px) + 0.5)
				power := -0.5*(g.ca*dx*dx+g.cc*dy*dy) - g.cb*dx*dy
				if power > 0 {
					continue
				}
				alpha := min(aMax, g.op*fastExp(power))
				if alpha < alphaMin {
					continue
				}
				T := st.t[k]
				next := T * (1 - alpha)
				if p.stops(next) {
					st.done[k] = true
					remaining--
					continue
				}
				w := alpha * T
				st.c[3*k] += g.col[0] * w
				st.c[3*k+1] += g.col[1] * w
				st.c[3*k+2] += g.col[2] * w
				st.d[k] += g.depth * w
				st.t[k] = next
				st.last[k] = int32(pos)
			}
		}
	}
	bg := f.bg
	for py := y0; py <= y1; py++ {
		for px := x0; px <= x1; px++ {
			k := (py-y0)*tileSize + px - x0
			o := py*f.v.w + px
			T := st.t[k]
			im.RGB[3*o] = st.c[3*k] + T*bg[0]
			im.RGB[3*o+1] = st.c[3*k+1] + T*bg[1]
			im.RGB[3*o+2] = st.c[3*k+2] + T*bg[2]
			im.Alpha[o] = 1 - T
			if a := 1 - T; a > 0 {
				im.Depth[o] = st.d[k] / a
			} else {
				im.Depth[o] = 0
			}
			if keep {
				f.finalT[o] = T
				f.last[o] = st.last[k]
			}
		}
	}
	return evals
}
