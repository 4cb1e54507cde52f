package splat

import (
	"math"
	"sort"
)

// refCloud is a float64 copy of a Cloud, the parameter vector of the
// finite-difference checks.
type refCloud struct {
	deg                             int
	pos, logScale, rot, opLogit, sh []float64
}

func toRef(c *Cloud) *refCloud {
	f := func(s []float32) []float64 {
		o := make([]float64, len(s))
		for i, v := range s {
			o[i] = float64(v)
		}
		return o
	}
	return &refCloud{deg: c.SHDegree, pos: f(c.Pos), logScale: f(c.LogScale), rot: f(c.Rot), opLogit: f(c.OpacityLogit), sh: f(c.SH)}
}

// params lists every parameter slice, in the order Grads lists them.
func (r *refCloud) params() [][]float64 {
	return [][]float64{r.pos, r.logScale, r.rot, r.opLogit, r.sh}
}

type refSplat struct {
	mx, my, A, B, C, op, depth float64
	col                        [3]float64
	rect                       [4]int
	idx                        int
}

// refRender is an independent, brute-force float64 implementation of the
// forward pass (docs/algorithms.md §4.1-4.3): no spans, no radix sort, every pixel of every
// tile in a Gaussian's rectangle is tested. It returns RGB and alpha.
func refRender(r *refCloud, cam Camera, mode Mode, bg [3]float64, shDeg int) (rgb, alpha []float64) {
	p, err := paramsFor(mode)
	if err != nil {
		panic(err)
	}
	w, h := cam.Width, cam.Height
	tilesX, tilesY := (w+15)/16, (h+15)/16
	campos := cam.Position()
	k := SHCoeffs(r.deg)
	var splats []refSplat
	for i := range len(r.opLogit) {
		mu := [3]float64{r.pos[3*i], r.pos[3*i+1], r.pos[3*i+2]}
		var t [3]float64
		for a := range 3 {
			t[a] = cam.R[3*a]*mu[0] + cam.R[3*a+1]*mu[1] + cam.R[3*a+2]*mu[2] + cam.T[a]
		}
		if t[2] <= float64(p.near) {
			continue
		}
		op := 1 / (1 + math.Exp(-r.opLogit[i]))
		if p.perAxisRadius && op < alphaMin {
			continue
		}
		q := r.rot[4*i : 4*i+4]
		ql := math.Sqrt(q[0]*q[0] + q[1]*q[1] + q[2]*q[2] + q[3]*q[3])
		qw, qx, qy, qz := q[0]/ql, q[1]/ql, q[2]/ql, q[3]/ql
		R := [3][3]float64{
			{1 - 2*(qy*qy+qz*qz), 2 * (qx*qy - qw*qz), 2 * (qx*qz + qw*qy)},
			{2 * (qx*qy + qw*qz), 1 - 2*(qx*qx+qz*qz), 2 * (qy*qz - qw*qx)},
			{2 * (qx*qz - qw*qy), 2 * (qy*qz + qw*qx), 1 - 2*(qx*qx+qy*qy)},
		}
		var sig [3][3]float64
		for a := range 3 {
			for b := range 3 {
				for m := range 3 {
					s := math.Exp(r.logScale[3*i+m])
					sig[a][b] += R[a][m] * s * s * R[b][m]
				}
			}
		}
		tanX, tanY := 0.5*float64(w)/cam.Fx, 0.5*float64(h)/cam.Fy
		txc := math.Min(math.Max(t[0]/t[2], -(cam.Cx/cam.Fx+0.3*tanX)), (float64(w)-cam.Cx)/cam.Fx+0.3*tanX) * t[2]
		tyc := math.Min(math.Max(t[1]/t[2], -(cam.Cy/cam.Fy+0.3*tanY)), (float64(h)-cam.Cy)/cam.Fy+0.3*tanY) * t[2]
		J := [2][3]float64{{cam.Fx / t[2], 0, -cam.Fx * txc / (t[2] * t[2])}, {0, cam.Fy / t[2], -cam.Fy * tyc / (t[2] * t[2])}}
		var M [2][3]float64
		for a := range 2 {
			for b := range 3 {
				for m := range 3 {
					M[a][b] += J[a][m] * cam.R[3*m+b]
				}
			}
		}
		var cov [2][2]float64
		for a := range 2 {
			for b := range 2 {
				for m := range 3 {
					for n := range 3 {
						cov[a][b] += M[a][m] * sig[m][n] * M[b][n]
					}
				}
			}
		}
		ca, cb, cc := cov[0][0]+0.3, cov[0][1], cov[1][1]+0.3
		det := ca*cc - cb*cb
		if det <= 0 {
			continue
		}
		s := refSplat{
			mx: cam.Fx*t[0]/t[2] + cam.Cx, my: cam.Fy*t[1]/t[2] + cam.Cy,
			A: cc / det, B: -cb / det, C: ca / det, op: op, depth: t[2], idx: i,
		}
		clampT := func(v float64, hi int) int { return min(max(int(v), 0), hi) }
		if !p.perAxisRadius {
			mid := (ca + cc) / 2
			rad := math.Ceil(3 * math.Sqrt(mid+math.Sqrt(math.Max(0.1, mid*mid-det))))
			ix, iy := s.mx-0.5, s.my-0.5
			s.rect = [4]int{clampT((ix-rad)/16, tilesX), clampT((ix+rad+15)/16, tilesX), clampT((iy-rad)/16, tilesY), clampT((iy+rad+15)/16, tilesY)}
		} else {
			e := math.Min(3.33, math.Sqrt(2*math.Log(op*255)))
			rx, ry := math.Ceil(e*math.Sqrt(ca)), math.Ceil(e*math.Sqrt(cc))
			if s.mx+rx <= 0 || s.mx-rx >= float64(w) || s.my+ry <= 0 || s.my-ry >= float64(h) {
				continue
			}
			s.rect = [4]int{clampT(math.Floor((s.mx-rx)/16), tilesX), clampT(math.Ceil((s.mx+rx)/16), tilesX),
				clampT(math.Floor((s.my-ry)/16), tilesY), clampT(math.Ceil((s.my+ry)/16), tilesY)}
		}
		d := [3]float64{mu[0] - campos[0], mu[1] - campos[1], mu[2] - campos[2]}
		dl := math.Sqrt(d[0]*d[0] + d[1]*d[1] + d[2]*d[2])
		basis := refBasis(d[0]/dl, d[1]/dl, d[2]/dl)
		for ch := range 3 {
			v := 0.5
			for j := range SHCoeffs(shDeg) {
				v += basis[j] * r.sh[(i*k+j)*3+ch]
			}
			s.col[ch] = math.Max(v, 0)
		}
		splats = append(splats, s)
	}
	sort.SliceStable(splats, func(a, b int) bool { return splats[a].depth < splats[b].depth })
	rgb = make([]float64, 3*w*h)
	alpha = make([]float64, w*h)
	for py := range h {
		for px := range w {
			tx, ty := px/16, py/16
			T := 1.0
			var col [3]float64
			for _, s := range splats {
				if tx < s.rect[0] || tx >= s.rect[1] || ty < s.rect[2] || ty >= s.rect[3] {
					continue
				}
				dx, dy := s.mx-(float64(px)+0.5), s.my-(float64(py)+0.5)
				power := -0.5*(s.A*dx*dx+s.C*dy*dy) - s.B*dx*dy
				if power > 0 {
					continue
				}
				a := math.Min(float64(p.alphaMax), s.op*math.Exp(power))
				if a < alphaMin {
					continue
				}
				next := T * (1 - a)
				if next < tStop || (p.stopInclusive && next == tStop) {
					break
				}
				for ch := range 3 {
					col[ch] += s.col[ch] * a * T
				}
				T = next
			}
			o := py*w + px
			for ch := range 3 {
				rgb[3*o+ch] = col[ch] + T*bg[ch]
			}
			alpha[o] = 1 - T
		}
	}
	return rgb, alpha
}

// refBasis is the SH basis in float64 (docs/algorithms.md §4.1 constants and signs).
func refBasis(x, y, z float64) [16]float64 {
	c2 := [5]float64{1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396}
	c3 := [7]float64{-0.5900435899266435, 2.890611442640554, -0.4570457994644658, 0.3731763325901154, -0.4570457994644658, 1.445305721320277, -0.5900435899266435}
	const c0, c1 = 0.28209479177387814, 0.4886025119029199
	xx, yy, zz := x*x, y*y, z*z
	return [16]float64{
		c0, -c1 * y, c1 * z, -c1 * x,
		c2[0] * x * y, c2[1] * y * z, c2[2] * (2*zz - xx - yy), c2[3] * x * z, c2[4] * (xx - yy),
		c3[0] * y * (3*xx - yy), c3[1] * x * y * z, c3[2] * y * (4*zz - xx - yy), c3[3] * z * (2*zz - 3*xx - 3*yy),
		c3[4] * x * (4*zz - xx - yy), c3[5] * z * (xx - yy), c3[6] * x * (xx - 3*yy),
	}
}
