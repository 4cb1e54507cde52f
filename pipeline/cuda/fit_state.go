package cuda

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"unsafe"

	"github.com/splatbench/splatbench/pipeline/fit"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// gpuFitter is the device fit's state between iterations. The device is
// authoritative for every column it holds (cloud, Adam moments,
// statistics); hs, the host twin, is refreshed only around densification
// and at the end. Columns of fit's state the device does not know stay on
// the host, where densification keeps them aligned.
type gpuFitter struct {
	d        *Device
	opt      fit.Options
	views    []fit.View
	vps      []viewParams
	mp       modeParams
	batch    int
	hs       *fit.HostState
	rng      *rand.Rand
	log      *slog.Logger
	progress func(int, float64)
	res      *fit.Result

	dc               DeviceCloud
	m, v             [5]devBuf
	gradAccum, denom devBuf
	adamSteps        int
	densifyEnd       int
	lb               lossBufs
	ev               [2][5]uintptr // per generation: start, forward, loss, backward, adam ends

	pending      int // iteration whose loss is not yet read (0: none)
	pendingShape [2]int
	hooked       bool
	lossHost     [2][]float64
	recent       []float64
}

// deviceColumns are the columns of fit's state the device holds.
var deviceColumns = []string{"Pos", "LogScale", "Rot", "OpacityLogit", "SH",
	"mPos", "vPos", "mScale", "vScale", "mRot", "vRot", "mOpa", "vOpa", "mSH", "vSH", "gradAccum", "denom"}

func (f *gpuFitter) column(name string) *devBuf {
	switch name {
	case "Pos":
		return &f.dc.pos
	case "LogScale":
		return &f.dc.logScale
	case "Rot":
		return &f.dc.rot
	case "OpacityLogit":
		return &f.dc.opLogit
	case "SH":
		return &f.dc.sh
	case "gradAccum":
		return &f.gradAccum
	case "denom":
		return &f.denom
	}
	groups := []string{"Pos", "Scale", "Rot", "Opa", "SH"}
	for i, g := range groups {
		switch name {
		case "m" + g:
			return &f.m[i]
		case "v" + g:
			return &f.v[i]
		}
	}
	return nil
}

// checkColumns fails when fit's state lacks a column the device expects
// (fit's state was changed without this package following).
func checkColumns(hs *fit.HostState) error {
	have := map[string]bool{}
	for _, c := range hs.Columns() {
		have[c.Name] = true
	}
	for _, name := range deviceColumns {
		if !have[name] {
			return fmt.Errorf("cuda: fit: pipeline/fit's state has no column %q any more: update pipeline/cuda/fit_state.go", name)
		}
	}
	return nil
}

// newFitter uploads the views and the initial state; the caller holds the
// device.
func (d *Device) newFitter(views []fit.View, opt fit.Options, batch int, hs *fit.HostState, rng *rand.Rand,
	log *slog.Logger, progress func(int, float64)) (*gpuFitter, error) {
	if err := checkColumns(hs); err != nil {
		return nil, err
	}
	mp, err := paramsFor(splat.ModeClassic)
	if err != nil {
		return nil, err
	}
	cycle := (len(views) + batch - 1) / batch
	f := &gpuFitter{d: d, opt: opt, views: views, vps: vpsFor(views), mp: mp, batch: batch, hs: hs, rng: rng,
		log: log, progress: progress, densifyEnd: fit.DensifyEnd(opt), recent: make([]float64, 0, cycle),
		lossHost: [2][]float64{make([]float64, 3*batch), make([]float64, 3*batch)}}
	f.dc = DeviceCloud{d: d, shDegree: hs.Cloud().SHDegree}
	for g := range f.ev {
		for i := range f.ev[g] {
			if err := d.a.check("cuEventCreate", d.a.cuEventCreate(unsafe.Pointer(&f.ev[g][i]), 0)); err != nil {
				f.free()
				return nil, err
			}
		}
	}
	if err := d.uploadViews(&f.lb, views); err != nil {
		f.free()
		return nil, err
	}
	if err := f.pushState(); err != nil {
		f.free()
		return nil, err
	}
	return f, nil
}

func (f *gpuFitter) free() {
	d := f.d
	for _, name := range deviceColumns {
		if b := f.column(name); b != nil {
			d.freeBuf(b)
		}
	}
	f.lb.free(d)
	for g := range f.ev {
		for i, e := range f.ev[g] {
			if e != 0 {
				d.a.cuEventDestroy(e)
				f.ev[g][i] = 0
			}
		}
	}
}

// pushState uploads the device columns named in only (every one when
// none is named) from the host state.
func (f *gpuFitter) pushState(only ...string) error {
	d := f.d
	f.dc.n = f.hs.Cloud().Len()
	for _, c := range f.hs.Columns() {
		b := f.column(c.Name)
		if b == nil || len(only) > 0 && !slices.Contains(only, c.Name) {
			continue
		}
		data := *c.Data
		if len(data) != c.Stride*f.dc.n {
			return fmt.Errorf("cuda: fit: state column %s has %d values for %d Gaussians of stride %d", c.Name, len(data), f.dc.n, c.Stride)
		}
		if err := d.ensure(b, uint64(4*len(data)), "fit state "+c.Name); err != nil {
			return err
		}
		if err := upload(d, b.ptr, data); err != nil {
			return fmt.Errorf("fit state %s: %w", c.Name, err)
		}
	}
	return d.sync()
}

// pullState downloads the device columns named in only (every one when
// none is named) into the host state.
func (f *gpuFitter) pullState(only ...string) error {
	d := f.d
	for _, c := range f.hs.Columns() {
		b := f.column(c.Name)
		if b == nil || len(only) > 0 && !slices.Contains(only, c.Name) {
			continue
		}
		if err := download(d, *c.Data, b.ptr); err != nil {
			return fmt.Errorf("fit state %s: %w", c.Name, err)
		}
	}
	return d.sync()
}

// record records event e on the device's stream.
func (d *Device) record(e uintptr) error {
	return d.a.check("cuEventRecord", d.a.cuEventRecord(e, d.stream))
}

// elapsed returns the milliseconds between two completed events.
func (d *Device) elapsed(a, b uintptr) (float64, error) {
	var ms float32
	if err := d.a.check("cuEventElapsedTime", d.a.cuEventElapsedTime(unsafe.Pointer(&ms), a, b)); err != nil {
		return 0, err
	}
	return float64(ms), nil
}
