package fit

import (
	"fmt"
	"math"
)

// Adam hyper-parameters of 3DGS (PyTorch Adam with eps 1e-15).
const (
	adamBeta1 = 0.9
	adamBeta2 = 0.999
	adamEps   = 1e-15
)

// groupLR is the learning rate of each parameter group for one step.
type groupLR struct {
	Pos, SHDC, SHRest, Opacity, Scale, Rot float64
}

// adamUpdate applies one PyTorch-style Adam update to p in place:
// m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², p ← p − lr/bc1 · m/(√v/√bc2 + ε),
// where bc1 = 1−β1^t and bc2 = 1−β2^t are the bias corrections of step t.
func adamUpdate(p, g, m, v []float32, lr, bc1, bc2 float64) {
	step := float32(lr / bc1)
	isq := float32(1 / math.Sqrt(bc2))
	const b1, b2 = float32(adamBeta1), float32(adamBeta2)
	g = g[:len(p)]
	m = m[:len(p)]
	v = v[:len(p)]
	for i := range p {
		gi := g[i]
		mi := b1*m[i] + (1-b1)*gi
		vi := b2*v[i] + (1-b2)*gi*gi
		m[i], v[i] = mi, vi
		p[i] -= step * mi / (float32(math.Sqrt(float64(vi)))*isq + adamEps)
	}
}

// biasCorrections returns 1−β1^t and 1−β2^t.
func biasCorrections(t int) (bc1, bc2 float64) {
	return 1 - math.Pow(adamBeta1, float64(t)), 1 - math.Pow(adamBeta2, float64(t))
}

// paramGrads are the gradients of the cloud's arrays, same layout.
type paramGrads struct {
	Pos, LogScale, Rot, OpacityLogit, SH []float32
}

// adamStep advances every parameter group of the cloud by one Adam step
// using the gradients in g, which must mirror the cloud's arrays.
func (s *state) adamStep(g paramGrads, lr groupLR) error {
	c := s.cloud
	if len(g.Pos) != len(c.Pos) || len(g.LogScale) != len(c.LogScale) || len(g.Rot) != len(c.Rot) ||
		len(g.OpacityLogit) != len(c.OpacityLogit) || len(g.SH) != len(c.SH) {
		return fmt.Errorf("fit: gradients for %d Gaussians (SH %d values) do not match the cloud's %d (SH %d values)",
			len(g.OpacityLogit), len(g.SH), c.Len(), len(c.SH))
	}
	s.adamSteps++
	bc1, bc2 := biasCorrections(s.adamSteps)
	adamUpdate(c.Pos, g.Pos, s.mPos, s.vPos, lr.Pos, bc1, bc2)
	adamUpdate(c.LogScale, g.LogScale, s.mScale, s.vScale, lr.Scale, bc1, bc2)
	adamUpdate(c.Rot, g.Rot, s.mRot, s.vRot, lr.Rot, bc1, bc2)
	adamUpdate(c.OpacityLogit, g.OpacityLogit, s.mOpa, s.vOpa, lr.Opacity, bc1, bc2)
	k := c.K()
	if k == 1 {
		adamUpdate(c.SH, g.SH, s.mSH, s.vSH, lr.SHDC, bc1, bc2)
		return nil
	}
	// DC (coefficient 0) and the higher bands have different rates.
	row := 3 * k
	for i := range c.Len() {
		o := i * row
		adamUpdate(c.SH[o:o+3], g.SH[o:o+3], s.mSH[o:o+3], s.vSH[o:o+3], lr.SHDC, bc1, bc2)
		adamUpdate(c.SH[o+3:o+row], g.SH[o+3:o+row], s.mSH[o+3:o+row], s.vSH[o+3:o+row], lr.SHRest, bc1, bc2)
	}
	return nil
}
