package cuda

import (
	"fmt"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// DeviceCloud is a Gaussian cloud resident on one device, same arrays and
// layout as splat.Cloud (pre-activation, struct of arrays).
type DeviceCloud struct {
	d                               *Device
	n, shDegree                     int
	pos, logScale, rot, opLogit, sh devBuf
}

// Len returns the number of Gaussians.
func (dc *DeviceCloud) Len() int { return dc.n }

// SHDegree returns the cloud's SH degree.
func (dc *DeviceCloud) SHDegree() int { return dc.shDegree }

// Upload copies c to the device.
func (d *Device) Upload(c *splat.Cloud) (*DeviceCloud, error) {
	if err := checkInputs(c, nil); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	defer d.enter()()
	dc := &DeviceCloud{d: d}
	if err := d.uploadCloud(dc, c); err != nil {
		dc.free()
		return nil, err
	}
	return dc, d.sync()
}

// uploadCloud (re)fills dc from c, growing its buffers; the caller holds
// the device and syncs.
func (d *Device) uploadCloud(dc *DeviceCloud, c *splat.Cloud) error {
	dc.d, dc.n, dc.shDegree = d, c.Len(), c.SHDegree
	for _, b := range []struct {
		buf  *devBuf
		src  []float32
		name string
	}{
		{&dc.pos, c.Pos, "positions"}, {&dc.logScale, c.LogScale, "scales"}, {&dc.rot, c.Rot, "rotations"},
		{&dc.opLogit, c.OpacityLogit, "opacities"}, {&dc.sh, c.SH, "SH"},
	} {
		if err := d.ensure(b.buf, uint64(4*len(b.src)), "cloud "+b.name); err != nil {
			return err
		}
		if err := upload(d, b.buf.ptr, b.src); err != nil {
			return fmt.Errorf("cloud %s: %w", b.name, err)
		}
	}
	return nil
}

// Download copies the device cloud back into a new splat.Cloud.
func (dc *DeviceCloud) Download() (*splat.Cloud, error) {
	d := dc.d
	d.mu.Lock()
	defer d.mu.Unlock()
	defer d.enter()()
	c := splat.NewCloud(dc.n, dc.shDegree)
	for _, b := range []struct {
		buf *devBuf
		dst []float32
	}{{&dc.pos, c.Pos}, {&dc.logScale, c.LogScale}, {&dc.rot, c.Rot}, {&dc.opLogit, c.OpacityLogit}, {&dc.sh, c.SH}} {
		if err := download(d, b.dst, b.buf.ptr); err != nil {
			return nil, err
		}
	}
	return c, d.sync()
}

// Free releases the device memory.
func (dc *DeviceCloud) Free() {
	d := dc.d
	d.mu.Lock()
	defer d.mu.Unlock()
	defer d.enter()()
	dc.free()
}

func (dc *DeviceCloud) free() {
	for _, b := range []*devBuf{&dc.pos, &dc.logScale, &dc.rot, &dc.opLogit, &dc.sh} {
		dc.d.freeBuf(b)
	}
}
