package cuda

import "unsafe"

// Stage is the device time of one step of a batch.
type Stage struct {
	Name string
	Ms   float64
}

// SetProfile turns per-stage event timing on or off; with it on, Timing
// from RenderTimed/RenderDevice lists the stages (a few events more per
// batch).
func (d *Device) SetProfile(on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.profile = on
}

// mark records an event after the work queued so far, named for the stage
// it ends; it does nothing unless profiling is on.
func (d *Device) mark(name string) {
	if !d.profile {
		return
	}
	var ev uintptr
	if d.a.cuEventCreate(unsafe.Pointer(&ev), 0) != resultSuccess {
		return
	}
	if d.a.cuEventRecord(ev, d.stream) != resultSuccess {
		d.a.cuEventDestroy(ev)
		return
	}
	d.marks = append(d.marks, markEv{name, ev})
}

type markEv struct {
	name string
	ev   uintptr
}

// stages turns the marks after start into durations (after a sync) and
// destroys their events.
func (d *Device) stages(start uintptr) []Stage {
	var out []Stage
	prev := start
	for _, m := range d.marks {
		var ms float32
		if d.a.cuEventElapsedTime(unsafe.Pointer(&ms), prev, m.ev) == resultSuccess {
			out = append(out, Stage{m.name, float64(ms)})
		}
		prev = m.ev
	}
	for _, m := range d.marks {
		if m.ev != prev {
			d.a.cuEventDestroy(m.ev)
		}
	}
	if prev != start {
		d.a.cuEventDestroy(prev)
	}
	d.marks = d.marks[:0]
	return out
}

// dropMarks destroys the events of a batch that failed part-way.
func (d *Device) dropMarks() {
	for _, m := range d.marks {
		d.a.cuEventDestroy(m.ev)
	}
	d.marks = d.marks[:0]
}
