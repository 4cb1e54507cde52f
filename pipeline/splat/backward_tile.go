package splat

// backState is one worker's per-pixel state for the back-to-front walk.
type backState struct {
	t    [tilePixels]float32     // transmittance in front of the current Gaussian
	s    [3 * tilePixels]float32 // colour composited behind it, Σ_{j>i} c_j α_j T_j
	gc   [3 * tilePixels]float32 // dL/dRGB
	bgT  [tilePixels]float32     // T_final·(dL/dA − dL/dRGB·bg)
	last [tilePixels]int32
}

// backTile walks tile (tx, ty)'s list back to front (docs/algorithms.md §4.4), visiting exactly
// the (Gaussian, pixel) pairs the forward pass composited, and adds each
// Gaussian's screen-space gradient into acc (gSlots per Gaussian).
func (f *frame) backTile(tx, ty int, st *backState, dRGB, dAlpha []float32, acc []float32) {
	x0, y0 := tx*tileSize, ty*tileSize
	x1, y1 := min(x0+tileSize, f.v.w)-1, min(y0+tileSize, f.v.h)-1
	tile := ty*f.v.tilesX + tx
	start := int(f.tileOff[tile])
	maxLast := int32(-1)
	bg := f.bg
	for py := y0; py <= y1; py++ {
		for px := x0; px <= x1; px++ {
			k := (py-y0)*tileSize + px - x0
			o := py*f.v.w + px
			T := f.finalT[o]
			st.t[k] = T
			st.s[3*k], st.s[3*k+1], st.s[3*k+2] = 0, 0, 0
			g0, g1, g2 := dRGB[3*o], dRGB[3*o+1], dRGB[3*o+2]
			st.gc[3*k], st.gc[3*k+1], st.gc[3*k+2] = g0, g1, g2
			ga := float32(0)
			if dAlpha != nil {
				ga = dAlpha[o]
			}
			st.bgT[k] = T * (ga - (g0*bg[0] + g1*bg[1] + g2*bg[2]))
			st.last[k] = f.last[o]
			maxLast = max(maxLast, f.last[o])
		}
	}
	aMax := f.v.p.alphaMax
	for pos := int(maxLast); pos >= start; pos-- {
		gi := f.list[pos]
		g := &f.sp[gi]
		var dmx, dmy, dA, dB, dC, dop, dr, dg, db float32
		hit := false
		rlo, rhi := g.rows(y0, y1)
		for py := rlo; py <= rhi; py++ {
			lo, hi, dy := g.span(py, x0, x1)
			if lo > hi {
				continue
			}
			base := (py - y0) * tileSize
			Gn, R := g.rowStart(lo, dy) // the forward pass's exact G sequence
			for px := lo; px <= hi; px++ {
				G := Gn
				Gn *= R
				R *= g.q
				k := (base + px - x0) & (tilePixels - 1)
				if int32(pos) > st.last[k] {
					continue
				}
				dx := g.mx - (float32(px) + 0.5)
				raw := g.op * G
				alpha := min(aMax, raw)
				if alpha < alphaMin {
					continue
				}
				hit = true
				om := 1 - alpha
				T := st.t[k] / om
				w := alpha * T
				gc := st.gc[3*k : 3*k+3 : 3*k+3]
				sc := st.s[3*k : 3*k+3 : 3*k+3]
				dr += w * gc[0]
				dg += w * gc[1]
				db += w * gc[2]
				dAlphaPix := T*(g.col[0]*gc[0]+g.col[1]*gc[1]+g.col[2]*gc[2]) -
					(sc[0]*gc[0]+sc[1]*gc[1]+sc[2]*gc[2])/om + st.bgT[k]/om
				sc[0] += g.col[0] * w
				sc[1] += g.col[1] * w
				sc[2] += g.col[2] * w
				st.t[k] = T
				if raw >= aMax {
					continue // α clamped: independent of this Gaussian's parameters
				}
				dop += G * dAlphaPix
				dp := alpha * dAlphaPix // dL/dpower
				dA += -0.5 * dx * dx * dp
				dB += -dx * dy * dp
				dC += -0.5 * dy * dy * dp
				dmx -= (g.ca*dx + g.cb*dy) * dp
				dmy -= (g.cc*dy + g.cb*dx) * dp
			}
		}
		if hit {
			a := acc[gSlots*int(gi) : gSlots*int(gi)+gSlots : gSlots*int(gi)+gSlots]
			a[gMX] += dmx
			a[gMY] += dmy
			a[gA] += dA
			a[gB] += dB
			a[gC] += dC
			a[gOp] += dop
			a[gR] += dr
			a[gG] += dg
			a[gBl] += db
		}
	}
}
