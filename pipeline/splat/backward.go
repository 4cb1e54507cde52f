package splat

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/splatbench/splatbench/internal/parallel"
)

// Grads mirrors Cloud's arrays (same lengths) plus per-Gaussian
// densification statistics.
type Grads struct {
	Pos, LogScale, Rot, OpacityLogit, SH []float32
	// MeanNDC accumulates, per Backward call, |dL/dμ₂D| with μ₂D in NDC
	// (pixel gradients scaled by W/2 and H/2, the "viewspace points" norm).
	MeanNDC []float32
	// Visible is set for Gaussians visible (radius > 0) in some view.
	Visible []bool
}

// NewGrads allocates zero gradients shaped like c.
func NewGrads(c *Cloud) *Grads {
	n := c.Len()
	return &Grads{
		Pos: make([]float32, 3*n), LogScale: make([]float32, 3*n), Rot: make([]float32, 4*n),
		OpacityLogit: make([]float32, n), SH: make([]float32, len(c.SH)),
		MeanNDC: make([]float32, n), Visible: make([]bool, n),
	}
}

// Zero clears every gradient and statistic.
func (g *Grads) Zero() {
	clear(g.Pos)
	clear(g.LogScale)
	clear(g.Rot)
	clear(g.OpacityLogit)
	clear(g.SH)
	clear(g.MeanNDC)
	clear(g.Visible)
}

// per-Gaussian screen-space gradient slots
const (
	gMX = iota
	gMY
	gA // conic A
	gB // conic B (the single off-diagonal scalar of the power)
	gC
	gOp
	gR
	gG
	gBl
	gSlots
)

// Backward adds to g the gradients of L given dL/dRGB (len 3·W·H) and
// dL/dAlpha (len W·H, or nil). Depth carries no gradient.
//
// The gradient is that of the forward function as computed, except where it
// is undefined: at pixels where α hit its clamp (alphaMax) α does not depend
// on the Gaussian (zero gradient, where the Inria kernel passes it through),
// and a colour channel clamped at 0 passes none. The t_x/t_z frustum clamp
// is differentiated exactly (J then depends on t_z only).
func Backward(ctx context.Context, tr *Trace, dRGB, dAlpha []float32, g *Grads) error {
	f := tr.f
	c := tr.cloud
	npix := f.v.w * f.v.h
	if len(dRGB) != 3*npix {
		return fmt.Errorf("splat: backward: dRGB has %d values, want 3·%d·%d", len(dRGB), f.v.w, f.v.h)
	}
	if dAlpha != nil && len(dAlpha) != npix {
		return fmt.Errorf("splat: backward: dAlpha has %d values, want %d·%d", len(dAlpha), f.v.w, f.v.h)
	}
	n := c.Len()
	if len(g.Pos) != 3*n || len(g.SH) != len(c.SH) || len(g.Rot) != 4*n || len(g.MeanNDC) != n || len(g.Visible) != n {
		return fmt.Errorf("splat: backward: gradients shaped for %d Gaussians, cloud has %d", len(g.MeanNDC), n)
	}
	workers := max(1, min(tr.workers, f.v.tilesX*f.v.tilesY))
	accs := make([][]float32, workers)
	var wg sync.WaitGroup
	nt := f.v.tilesX * f.v.tilesY
	for w := range workers {
		accs[w] = make([]float32, gSlots*n)
		wg.Go(func() {
			st := new(backState)
			// The tiles are dealt round-robin, not taken by whichever
			// worker is free: each worker then sums the same tiles in the
			// same order every run, and so does the gradient
			// (TestBackwardDeterministic).
			for t := w; t < nt && ctx.Err() == nil; t += workers {
				f.backTile(t%f.v.tilesX, t/f.v.tilesX, st, dRGB, dAlpha, accs[w])
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	acc := accs[0]
	for _, a := range accs[1:] {
		for i, v := range a {
			acc[i] += v
		}
	}
	return parallel.Chunks(ctx, n, workers, 2048, func(lo, hi int) {
		var p proj
		for i := lo; i < hi; i++ {
			f.v.project(c, i, &p)
			if !p.visible {
				continue
			}
			g.Visible[i] = true
			a := acc[gSlots*i : gSlots*(i+1)]
			if !p.binned {
				continue
			}
			f.v.backGaussian(c, i, &p, a, g)
		}
	})
}

// backGaussian chains one Gaussian's screen-space gradient a (gSlots
// values) back to its cloud parameters and adds them to g.
func (v *viewCtx) backGaussian(c *Cloud, i int, p *proj, a []float32, g *Grads) {
	// Densification statistic: |dL/dμ| in NDC.
	nx, ny := float64(a[gMX])*0.5*float64(v.w), float64(a[gMY])*0.5*float64(v.h)
	g.MeanNDC[i] += float32(math.Sqrt(nx*nx + ny*ny))

	// Opacity through the sigmoid.
	g.OpacityLogit[i] += a[gOp] * p.op * (1 - p.op)

	var dPos [3]float32
	// Colour → SH, and the view direction → mean.
	dc := [3]float32{a[gR], a[gG], a[gBl]}
	for ch := range 3 {
		if p.clampRGB&(1<<ch) != 0 {
			dc[ch] = 0
		}
	}
	k := c.K()
	nk := SHCoeffs(v.shDeg)
	sh := c.SH[3*k*i : 3*k*(i+1)]
	gsh := g.SH[3*k*i : 3*k*(i+1)]
	for j := range nk {
		b := p.basis[j]
		gsh[3*j] += b * dc[0]
		gsh[3*j+1] += b * dc[1]
		gsh[3*j+2] += b * dc[2]
	}
	if nk > 1 && p.dirLen > 0 {
		var bg [16][3]float32
		d := p.dir
		shBasisGrad(d[0], d[1], d[2], v.shDeg, &bg)
		var dd [3]float32
		for j := 1; j < nk; j++ {
			s := sh[3*j]*dc[0] + sh[3*j+1]*dc[1] + sh[3*j+2]*dc[2]
			dd[0] += s * bg[j][0]
			dd[1] += s * bg[j][1]
			dd[2] += s * bg[j][2]
		}
		dot := dd[0]*d[0] + dd[1]*d[1] + dd[2]*d[2]
		for ax := range 3 {
			dPos[ax] += (dd[ax] - d[ax]*dot) / p.dirLen
		}
	}

	// Conic K = Σ'⁻¹ → Σ': dΣ' = −K·G·K with G the symmetric gradient of K.
	A, B, C := p.conic[0], p.conic[1], p.conic[2]
	g00, g01, g11 := a[gA], 0.5*a[gB], a[gC]
	// K·G
	kg00, kg01 := A*g00+B*g01, A*g01+B*g11
	kg10, kg11 := B*g00+C*g01, B*g01+C*g11
	s00 := -(kg00*A + kg01*B)
	s01 := -(kg00*B + kg01*C)
	s11 := -(kg10*B + kg11*C)

	// Σ' = M Σ Mᵀ: dΣ = Mᵀ S M, dM = 2 S M Σ.
	m := &p.m
	cv := &p.cov
	sig := [9]float32{cv[0], cv[1], cv[2], cv[1], cv[3], cv[4], cv[2], cv[4], cv[5]}
	var sm [6]float32 // S·M (2×3)
	for col := range 3 {
		sm[col] = s00*m[col] + s01*m[3+col]
		sm[3+col] = s01*m[col] + s11*m[3+col]
	}
	var dSig [9]float32 // Mᵀ S M
	for r := range 3 {
		for col := range 3 {
			dSig[3*r+col] = m[r]*sm[col] + m[3+r]*sm[3+col]
		}
	}
	var dM [6]float32 // 2·(S M)·Σ
	for r := range 2 {
		for col := range 3 {
			dM[3*r+col] = 2 * (sm[3*r]*sig[col] + sm[3*r+1]*sig[3+col] + sm[3*r+2]*sig[6+col])
		}
	}
	// M = J·W → dJ = dM·Wᵀ (only J00, J02, J11, J12 are non-zero).
	w := &v.r
	dJ00 := dM[0]*w[0] + dM[1]*w[1] + dM[2]*w[2]
	dJ02 := dM[0]*w[6] + dM[1]*w[7] + dM[2]*w[8]
	dJ11 := dM[3]*w[3] + dM[4]*w[4] + dM[5]*w[5]
	dJ12 := dM[3]*w[6] + dM[4]*w[7] + dM[5]*w[8]

	tx, ty, tz := p.tc[0], p.tc[1], p.tc[2]
	iz := 1 / tz
	iz2 := iz * iz
	var dt [3]float32
	// Mean: μx = fx·tx/tz + cx.
	dt[0] += a[gMX] * v.fx * iz
	dt[1] += a[gMY] * v.fy * iz
	dt[2] -= (a[gMX]*v.fx*tx + a[gMY]*v.fy*ty) * iz2
	// J.
	dt[2] -= (dJ00*v.fx + dJ11*v.fy) * iz2
	if p.clampX {
		txc := min(max(tx*iz, -v.limXNeg), v.limXPos) * tz
		dt[2] += dJ02 * v.fx * txc * iz2 * iz
	} else {
		dt[0] -= dJ02 * v.fx * iz2
		dt[2] += dJ02 * 2 * v.fx * tx * iz2 * iz
	}
	if p.clampY {
		tyc := min(max(ty*iz, -v.limYNeg), v.limYPos) * tz
		dt[2] += dJ12 * v.fy * tyc * iz2 * iz
	} else {
		dt[1] -= dJ12 * v.fy * iz2
		dt[2] += dJ12 * 2 * v.fy * ty * iz2 * iz
	}
	for ax := range 3 {
		dPos[ax] += w[ax]*dt[0] + w[3+ax]*dt[1] + w[6+ax]*dt[2]
	}
	gp := g.Pos[3*i : 3*i+3]
	gp[0] += dPos[0]
	gp[1] += dPos[1]
	gp[2] += dPos[2]

	// Σ = (R S)(R S)ᵀ: d(RS) = 2·dΣ·(RS).
	var dR [9]float32
	for r := range 3 {
		for col := range 3 {
			rsRow := func(j int) float32 { return p.rot[3*j+col] * p.s[col] }
			d := 2 * (dSig[3*r]*rsRow(0) + dSig[3*r+1]*rsRow(1) + dSig[3*r+2]*rsRow(2))
			dR[3*r+col] = d * p.s[col]
			g.LogScale[3*i+col] += d * p.rot[3*r+col] * p.s[col]
		}
	}
	rotBackward(p, &dR, g.Rot[4*i:4*i+4])
}

// rotBackward adds dL/dq for the un-normalised quaternion, given dL/dR(q̂).
func rotBackward(p *proj, dR *[9]float32, out []float32) {
	w, x, y, z := p.qn[0], p.qn[1], p.qn[2], p.qn[3]
	d := dR
	dw := 2 * (-z*d[1] + y*d[2] + z*d[3] - x*d[5] - y*d[6] + x*d[7])
	dx := 2 * (y*d[1] + z*d[2] + y*d[3] - 2*x*d[4] - w*d[5] + z*d[6] + w*d[7] - 2*x*d[8])
	dy := 2 * (-2*y*d[0] + x*d[1] + w*d[2] + x*d[3] + z*d[5] - w*d[6] + z*d[7] - 2*y*d[8])
	dz := 2 * (-2*z*d[0] - w*d[1] + x*d[2] + w*d[3] - 2*z*d[4] + y*d[5] + x*d[6] + y*d[7])
	dot := w*dw + x*dx + y*dy + z*dz
	il := 1 / p.qlen
	out[0] += (dw - w*dot) * il
	out[1] += (dx - x*dot) * il
	out[2] += (dy - y*dot) * il
	out[3] += (dz - z*dot) * il
}
