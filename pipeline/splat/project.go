package splat

import "math"

// viewCtx holds one camera's constants in float32, ready for projection.
type viewCtx struct {
	w, h           int
	tilesX, tilesY int
	r              [9]float32
	t              [3]float32
	fx, fy, cx, cy float32
	limXNeg        float32 // t_x/t_z is clamped to [−limXNeg, limXPos]
	limXPos        float32
	limYNeg        float32
	limYPos        float32
	campos         [3]float32
	p              modeParams
	shDeg          int
}

func newViewCtx(cam Camera, p modeParams, shDeg int) viewCtx {
	v := viewCtx{
		w: cam.Width, h: cam.Height,
		tilesX: (cam.Width + tileSize - 1) / tileSize, tilesY: (cam.Height + tileSize - 1) / tileSize,
		fx: float32(cam.Fx), fy: float32(cam.Fy), cx: float32(cam.Cx), cy: float32(cam.Cy),
		p: p, shDeg: shDeg,
	}
	for i := range 9 {
		v.r[i] = float32(cam.R[i])
	}
	pos := cam.Position()
	for i := range 3 {
		v.t[i] = float32(cam.T[i])
		v.campos[i] = float32(pos[i])
	}
	v.limXNeg, v.limXPos, v.limYNeg, v.limYPos = cam.FrustumLimits()
	return v
}

// proj is everything the projection of one Gaussian computes; the forward
// pass keeps a few fields, the backward pass recomputes it and uses all.
type proj struct {
	visible  bool       // radius > 0 after every cull (Grads.Visible)
	binned   bool       // touches at least one tile and can reach α ≥ 1/255
	rect     [4]int32   // tiles [x0, x1) × [y0, y1)
	tc       [3]float32 // camera-space mean
	clampX   bool       // t_x/t_z clamp active
	clampY   bool
	qn       [4]float32 // unit quaternion
	qlen     float32
	rot      [9]float32 // R(q̂), row-major
	s        [3]float32 // scales
	cov      [6]float32 // Σ: 00 01 02 11 12 22
	m        [6]float32 // M = J·W (2×3, row-major)
	a, b, c  float32    // Σ' with dilation
	conic    [3]float32 // (A, B, C) = (c, −b, a)/det
	mean     [2]float32 // pixel coordinates
	op       float32
	dir      [3]float32 // unit view direction μ − campos
	dirLen   float32
	basis    [16]float32
	col      [3]float32
	clampRGB uint8
}

// project runs docs/algorithms.md §4.1 for Gaussian i of c. It stops early (visible false) when
// the Gaussian is culled.
func (v *viewCtx) project(c *Cloud, i int, out *proj) {
	*out = proj{}
	px, py, pz := c.Pos[3*i], c.Pos[3*i+1], c.Pos[3*i+2]
	r := &v.r
	tx := r[0]*px + r[1]*py + r[2]*pz + v.t[0]
	ty := r[3]*px + r[4]*py + r[5]*pz + v.t[1]
	tz := r[6]*px + r[7]*py + r[8]*pz + v.t[2]
	out.tc = [3]float32{tx, ty, tz}
	if !(tz > v.p.near) {
		return
	}
	op := Sigmoid(c.OpacityLogit[i])
	out.op = op
	if v.p.perAxisRadius && op < alphaMin {
		return
	}

	// Σ = R S² Rᵀ with R from the normalised quaternion.
	q := c.Rot[4*i : 4*i+4]
	ql := sqrt32(q[0]*q[0] + q[1]*q[1] + q[2]*q[2] + q[3]*q[3])
	if ql == 0 {
		return
	}
	out.qlen = ql
	w, x, y, z := q[0]/ql, q[1]/ql, q[2]/ql, q[3]/ql
	out.qn = [4]float32{w, x, y, z}
	out.rot = [9]float32{
		1 - 2*(y*y+z*z), 2 * (x*y - w*z), 2 * (x*z + w*y),
		2 * (x*y + w*z), 1 - 2*(x*x+z*z), 2 * (y*z - w*x),
		2 * (x*z - w*y), 2 * (y*z + w*x), 1 - 2*(x*x+y*y),
	}
	ls := c.LogScale[3*i : 3*i+3]
	out.s = [3]float32{exp32(ls[0]), exp32(ls[1]), exp32(ls[2])}
	var rs [9]float32 // R·S
	for row := range 3 {
		for k := range 3 {
			rs[3*row+k] = out.rot[3*row+k] * out.s[k]
		}
	}
	dotRow := func(a, b int) float32 { return rs[3*a]*rs[3*b] + rs[3*a+1]*rs[3*b+1] + rs[3*a+2]*rs[3*b+2] }
	out.cov = [6]float32{dotRow(0, 0), dotRow(0, 1), dotRow(0, 2), dotRow(1, 1), dotRow(1, 2), dotRow(2, 2)}

	// EWA: J at the frustum-clamped mean.
	txz, tyz := tx/tz, ty/tz
	txc, tyc := tx, ty
	if txz < -v.limXNeg || txz > v.limXPos {
		out.clampX = true
		txc = min(max(txz, -v.limXNeg), v.limXPos) * tz
	}
	if tyz < -v.limYNeg || tyz > v.limYPos {
		out.clampY = true
		tyc = min(max(tyz, -v.limYNeg), v.limYPos) * tz
	}
	j00, j02 := v.fx/tz, -v.fx*txc/(tz*tz)
	j11, j12 := v.fy/tz, -v.fy*tyc/(tz*tz)
	m := &out.m
	for k := range 3 {
		m[k] = j00*r[k] + j02*r[6+k]
		m[3+k] = j11*r[3+k] + j12*r[6+k]
	}
	cv := &out.cov
	// Σ' = M Σ Mᵀ.
	sm0 := [3]float32{ // Σ·m_row0
		cv[0]*m[0] + cv[1]*m[1] + cv[2]*m[2],
		cv[1]*m[0] + cv[3]*m[1] + cv[4]*m[2],
		cv[2]*m[0] + cv[4]*m[1] + cv[5]*m[2],
	}
	sm1 := [3]float32{
		cv[0]*m[3] + cv[1]*m[4] + cv[2]*m[5],
		cv[1]*m[3] + cv[3]*m[4] + cv[4]*m[5],
		cv[2]*m[3] + cv[4]*m[4] + cv[5]*m[5],
	}
	a := m[0]*sm0[0] + m[1]*sm0[1] + m[2]*sm0[2] + lowPassDilation
	b := m[0]*sm1[0] + m[1]*sm1[1] + m[2]*sm1[2]
	cc := m[3]*sm1[0] + m[4]*sm1[1] + m[5]*sm1[2] + lowPassDilation
	det := a*cc - b*b
	if !(det > 0) {
		return
	}
	out.a, out.b, out.c = a, b, cc
	out.conic = [3]float32{cc / det, -b / det, a / det}
	mx := v.fx*txz + v.cx
	my := v.fy*tyz + v.cy
	out.mean = [2]float32{mx, my}

	if !v.rect(out, op, a, cc, det) {
		return
	}
	out.visible = true
	out.binned = op >= alphaMin && out.rect[1] > out.rect[0] && out.rect[3] > out.rect[2]

	// Colour from SH along the viewing direction.
	d := [3]float32{px - v.campos[0], py - v.campos[1], pz - v.campos[2]}
	dl := sqrt32(d[0]*d[0] + d[1]*d[1] + d[2]*d[2])
	if dl > 0 {
		d = [3]float32{d[0] / dl, d[1] / dl, d[2] / dl}
	}
	out.dir, out.dirLen = d, dl
	shBasis(d[0], d[1], d[2], v.shDeg, &out.basis)
	k := c.K()
	out.col, out.clampRGB = shColor(c.SH[3*k*i:3*k*(i+1)], &out.basis, v.shDeg)
}

// rect sets the tile rectangle in the mode's own convention and reports
// whether the Gaussian survives the radius and on-screen culls.
func (v *viewCtx) rect(out *proj, op, a, c, det float32) bool {
	mx, my := out.mean[0], out.mean[1]
	clampT := func(x, hi int32) int32 { return min(max(x, 0), hi) }
	tx, ty := int32(v.tilesX), int32(v.tilesY)
	if !v.p.perAxisRadius {
		// Inria: r = ceil(3·sqrt(λ_max)); rectangle from the ndc2Pix mean
		// (ours − 0.5) with C integer truncation.
		mid := 0.5 * (a + c)
		lam := mid + sqrt32(max(0.1, mid*mid-det))
		rad := ceil32(classicSigmas * sqrt32(lam))
		ix, iy := mx-0.5, my-0.5
		out.rect = [4]int32{
			clampT(truncI32((ix-rad)/tileSize), tx), clampT(truncI32((ix+rad+tileSize-1)/tileSize), tx),
			clampT(truncI32((iy-rad)/tileSize), ty), clampT(truncI32((iy+rad+tileSize-1)/tileSize), ty),
		}
		return rad > 0 && (out.rect[1]-out.rect[0])*(out.rect[3]-out.rect[2]) != 0
	}
	// gsplat: per-axis radius with an opacity-aware extent.
	e := min(gsplatExtendMax, sqrt32(2*float32(math.Log(float64(op)/alphaMin))))
	rx := ceil32(e * sqrt32(a))
	ry := ceil32(e * sqrt32(c))
	if rx <= 0 && ry <= 0 {
		return false
	}
	if mx+rx <= 0 || mx-rx >= float32(v.w) || my+ry <= 0 || my-ry >= float32(v.h) {
		return false
	}
	out.rect = [4]int32{
		clampT(truncI32(floor32((mx-rx)/tileSize)), tx), clampT(truncI32(ceil32((mx+rx)/tileSize)), tx),
		clampT(truncI32(floor32((my-ry)/tileSize)), ty), clampT(truncI32(ceil32((my+ry)/tileSize)), ty),
	}
	return true
}
