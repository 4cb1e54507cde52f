package cuda

import (
	"slices"
	"unsafe"
)

// KernelStat is the device time of one kernel summed over its launches.
type KernelStat struct {
	Name     string
	Launches int
	Ms       float64
}

// kernelProfile times every launch with a pair of CUDA events (the
// measurement the floor table in docs/perf/cuda-notes.md is built from).
// Events of launches not yet complete wait in pending until the next sync.
// The events slow the host's enqueueing, so a short kernel behind one the
// GPU has already finished can include some idle time: the sums are upper
// bounds for small kernels.
type kernelProfile struct {
	pending []kernelEv
	stats   map[string]*KernelStat
}

type kernelEv struct {
	name        string
	start, stop uintptr
}

// profileKernels turns the per-kernel profile on (clearing it) or off; the
// caller holds the device.
func (d *Device) profileKernels(on bool) {
	if d.kprof != nil {
		d.kprof.drop(d.a)
	}
	d.kprof = nil
	if on {
		d.kprof = &kernelProfile{stats: map[string]*KernelStat{}}
	}
}

// kernelStats returns the profile so far, largest total first; the caller
// holds the device and has synced.
func (d *Device) kernelStats() []KernelStat {
	if d.kprof == nil {
		return nil
	}
	var out []KernelStat
	for _, s := range d.kprof.stats {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b KernelStat) int {
		switch {
		case a.Ms > b.Ms:
			return -1
		case a.Ms < b.Ms:
			return 1
		}
		return 0
	})
	return out
}

// kernelStart records the event before a launch; 0 when profiling is off
// or the event failed.
func (d *Device) kernelStart() uintptr {
	if d.kprof == nil {
		return 0
	}
	var ev uintptr
	if d.a.cuEventCreate(unsafe.Pointer(&ev), 0) != resultSuccess {
		return 0
	}
	if d.a.cuEventRecord(ev, d.stream) != resultSuccess {
		d.a.cuEventDestroy(ev)
		return 0
	}
	return ev
}

// kernelEnd records the event after the launch of name begun at start.
func (d *Device) kernelEnd(name string, start uintptr) {
	if d.kprof == nil || start == 0 {
		return
	}
	var ev uintptr
	if d.a.cuEventCreate(unsafe.Pointer(&ev), 0) != resultSuccess {
		d.a.cuEventDestroy(start)
		return
	}
	if d.a.cuEventRecord(ev, d.stream) != resultSuccess {
		d.a.cuEventDestroy(start)
		d.a.cuEventDestroy(ev)
		return
	}
	d.kprof.pending = append(d.kprof.pending, kernelEv{name, start, ev})
}

// collect adds the pending launches' times (the stream has been synced).
func (p *kernelProfile) collect(a *api) {
	for _, e := range p.pending {
		var ms float32
		if a.cuEventElapsedTime(unsafe.Pointer(&ms), e.start, e.stop) == resultSuccess {
			s := p.stats[e.name]
			if s == nil {
				s = &KernelStat{Name: e.name}
				p.stats[e.name] = s
			}
			s.Launches++
			s.Ms += float64(ms)
		}
		a.cuEventDestroy(e.start)
		a.cuEventDestroy(e.stop)
	}
	p.pending = p.pending[:0]
}

func (p *kernelProfile) drop(a *api) {
	for _, e := range p.pending {
		a.cuEventDestroy(e.start)
		a.cuEventDestroy(e.stop)
	}
	p.pending = nil
}
