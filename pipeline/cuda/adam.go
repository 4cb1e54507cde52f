package cuda

import (
	"fmt"
	"math"
)

// LearningRates are Adam's per-group rates for one step (the fit stage's
// groups: positions, SH DC, SH rest, opacity, scale, rotation).
type LearningRates struct {
	Pos, SHDC, SHRest, Opacity, Scale, Rot float64
}

// Adam holds the first and second moments of a device cloud's parameters.
type Adam struct {
	dc    *DeviceCloud
	m, v  [5]devBuf
	steps int
}

// NewAdam allocates zeroed moments for dc.
func (d *Device) NewAdam(dc *DeviceCloud) (*Adam, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	defer d.enter()()
	ad := &Adam{dc: dc}
	for i, b := range dc.params() {
		for _, mv := range []*devBuf{&ad.m[i], &ad.v[i]} {
			if err := d.ensure(mv, b.size, "Adam moments"); err != nil {
				ad.free(d)
				return nil, err
			}
			if err := d.memset0(mv.ptr, b.size); err != nil {
				ad.free(d)
				return nil, err
			}
		}
	}
	return ad, d.sync()
}

func (dc *DeviceCloud) params() []devBuf {
	return []devBuf{dc.pos, dc.logScale, dc.rot, dc.opLogit, dc.sh}
}

// Free releases the moments.
func (ad *Adam) Free() {
	d := ad.dc.d
	d.mu.Lock()
	defer d.mu.Unlock()
	defer d.enter()()
	ad.free(d)
}

func (ad *Adam) free(d *Device) {
	for i := range ad.m {
		d.freeBuf(&ad.m[i])
		d.freeBuf(&ad.v[i])
	}
}

// Step applies one PyTorch-style Adam update (β 0.9/0.999, ε 1e-15, bias
// corrected; the fit stage's rule) to the cloud on the device, using the
// gradients the latest Backward on this device left there (they stay on
// the device; Backward also added them to its host Grads).
func (ad *Adam) Step(lr LearningRates) error {
	dc := ad.dc
	d := dc.d
	d.mu.Lock()
	defer d.mu.Unlock()
	defer d.enter()()
	ws := &d.ws
	if ws.gOp.size < uint64(4*dc.n) || dc.n == 0 {
		return fmt.Errorf("cuda: adam: no gradients for %d Gaussians on the device (run Backward first)", dc.n)
	}
	ad.steps++
	if err := d.adamLaunch(dc, &ad.m, &ad.v, ad.steps, lr); err != nil {
		return err
	}
	return d.sync()
}

// adamLaunch queues step number steps (1-based) of Adam for dc's five
// parameter arrays with moments m, v and the gradients in the work
// buffers; the caller holds the device.
func (d *Device) adamLaunch(dc *DeviceCloud, m, v *[5]devBuf, steps int, lr LearningRates) error {
	ws := &d.ws
	grads := []devBuf{ws.gPos, ws.gScale, ws.gRot, ws.gOp, ws.gSH}
	n := dc.n
	k := (dc.shDegree + 1) * (dc.shDegree + 1)
	bc1 := 1 - math.Pow(0.9, float64(steps))
	bc2 := 1 - math.Pow(0.999, float64(steps))
	isq := float32(1 / math.Sqrt(bc2))
	groups := []struct {
		count      int
		a, b       float64
		period, nA uint32
	}{
		{3 * n, lr.Pos, lr.Pos, 1, 1}, {3 * n, lr.Scale, lr.Scale, 1, 1}, {4 * n, lr.Rot, lr.Rot, 1, 1},
		{n, lr.Opacity, lr.Opacity, 1, 1}, {3 * k * n, lr.SHDC, lr.SHRest, uint32(3 * k), 3},
	}
	p := dc.params()
	for i, g := range groups {
		err := d.launch("adamStep", [3]uint32{cdiv(g.count, 256), 1, 1}, [3]uint32{256, 1, 1},
			p[i].ptr, grads[i].ptr, m[i].ptr, v[i].ptr, uint32(g.count),
			float32(g.a/bc1), float32(g.b/bc1), isq, g.period, g.nA)
		if err != nil {
			return err
		}
	}
	return nil
}
