package cuda

import (
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"unsafe"
)

// Info describes one device as the driver reports it.
type Info struct {
	Index         int    `json:"index"`
	Name          string `json:"name"`
	TotalMemory   uint64 `json:"total_memory_bytes"`
	CCMajor       int    `json:"cc_major"`
	CCMinor       int    `json:"cc_minor"`
	SMs           int    `json:"multiprocessors"`
	DriverVersion int    `json:"driver_version"` // e.g. 13000 for CUDA 13.0
}

// ComputeCapability returns "major.minor".
func (i Info) ComputeCapability() string { return fmt.Sprintf("%d.%d", i.CCMajor, i.CCMinor) }

// DriverString returns the driver's CUDA version as "13.0".
func (i Info) DriverString() string { return DriverVersionString(i.DriverVersion) }

// DriverVersionString formats a cuDriverGetVersion value (1000·major + 10·minor).
func DriverVersionString(v int) string { return fmt.Sprintf("%d.%d", v/1000, (v%1000)/10) }

const (
	attrMultiprocessors = 16
	attrCCMajor         = 75
	attrCCMinor         = 76
)

// Discover lists every device the driver sees. Without a driver it returns
// an error wrapping ErrNoDriver; with a driver and no device, an empty list.
func Discover(log *slog.Logger) ([]Info, error) {
	a, err := driver()
	if err != nil {
		return nil, err
	}
	var n int32
	if err := a.check("cuDeviceGetCount", a.cuDeviceGetCount(unsafe.Pointer(&n))); err != nil {
		return nil, err
	}
	out := make([]Info, 0, n)
	for i := range int(n) {
		inf, err := a.info(i)
		if err != nil {
			return nil, err
		}
		log.Debug("cuda device", "index", i, "name", inf.Name, "cc", inf.ComputeCapability(), "mem", inf.TotalMemory)
		out = append(out, inf)
	}
	return out, nil
}

func (a *api) info(index int) (Info, error) {
	inf := Info{Index: index}
	var ver int32
	if err := a.check("cuDriverGetVersion", a.cuDriverGetVersion(unsafe.Pointer(&ver))); err != nil {
		return inf, err
	}
	inf.DriverVersion = int(ver)
	var dev int32
	if err := a.check("cuDeviceGet", a.cuDeviceGet(unsafe.Pointer(&dev), int32(index))); err != nil {
		return inf, err
	}
	name := make([]byte, 256)
	if err := a.check("cuDeviceGetName", a.cuDeviceGetName(unsafe.Pointer(&name[0]), int32(len(name)), dev)); err != nil {
		return inf, err
	}
	inf.Name = cString(&name[0], len(name))
	var mem uint64
	if err := a.check("cuDeviceTotalMem", a.cuDeviceTotalMem(unsafe.Pointer(&mem), dev)); err != nil {
		return inf, err
	}
	inf.TotalMemory = mem
	for _, at := range []struct {
		attr int32
		dst  *int
	}{{attrCCMajor, &inf.CCMajor}, {attrCCMinor, &inf.CCMinor}, {attrMultiprocessors, &inf.SMs}} {
		var v int32
		if err := a.check("cuDeviceGetAttribute", a.cuDeviceGetAttribute(unsafe.Pointer(&v), at.attr, dev)); err != nil {
			return inf, err
		}
		*at.dst = int(v)
	}
	return inf, nil
}

// Device is one GPU with its primary context, one stream, the loaded
// kernels and reusable work buffers. Its methods are safe for concurrent
// use (they serialise on the device); open one Device per GPU to use
// several.
type Device struct {
	mu      sync.Mutex
	a       *api
	dev     int32
	ctx     uintptr
	stream  uintptr
	info    Info
	log     *slog.Logger
	k       *kernels
	ws      workspace
	pin     runtime.Pinner // host memory of copies in flight, released by sync
	gen     uint64         // bumped by every call that reuses the work buffers
	lastBin *binned        // the binning of the latest batch (Backward reads it)
	profile bool           // SetProfile: per-stage events
	marks   []markEv       // stage events of the batch in flight
	kprof   *kernelProfile // per-kernel event timing (profileKernels), nil when off
	// atCountSync, when set (by the GPU fit), queues extra read-backs just
	// before bin's one host round trip, so they cost no sync of their own.
	atCountSync func() error
	closed      bool
}

// Open retains device index's primary context, creates a stream and loads
// the kernels. Any failure (no driver, no such device, PTX the driver
// cannot compile) is an error; callers fall back to the CPU.
func Open(index int, log *slog.Logger) (*Device, error) {
	a, dev, ctx, err := primary(index)
	if err != nil {
		return nil, err
	}
	inf, err := a.info(index)
	if err != nil {
		a.cuDevicePrimaryCtxRelease(dev)
		return nil, err
	}
	d := &Device{a: a, info: inf, log: log, dev: dev, ctx: ctx}
	unlock := d.enter()
	defer unlock()
	if err := a.check("cuStreamCreate", a.cuStreamCreate(unsafe.Pointer(&d.stream), 1 /* non-blocking */)); err != nil {
		a.cuDevicePrimaryCtxRelease(d.dev)
		return nil, err
	}
	k, err := loadKernels(a, inf, log)
	if err != nil {
		a.cuStreamDestroy(d.stream)
		a.cuDevicePrimaryCtxRelease(d.dev)
		return nil, fmt.Errorf("cuda: device %d (%s): %w", index, inf.Name, err)
	}
	d.k = k
	log.Info("cuda device open", "index", index, "name", inf.Name, "cc", inf.ComputeCapability(),
		"driver", inf.DriverString(), "ptx", k.variant)
	return d, nil
}

// primary retains device index's primary context.
func primary(index int) (a *api, dev int32, ctx uintptr, err error) {
	if a, err = driver(); err != nil {
		return nil, 0, 0, err
	}
	var n int32
	if err := a.check("cuDeviceGetCount", a.cuDeviceGetCount(unsafe.Pointer(&n))); err != nil {
		return nil, 0, 0, err
	}
	if index < 0 || index >= int(n) {
		return nil, 0, 0, fmt.Errorf("%w: index %d, the driver sees %d device(s)", ErrNoDevice, index, n)
	}
	if err := a.check("cuDeviceGet", a.cuDeviceGet(unsafe.Pointer(&dev), int32(index))); err != nil {
		return nil, 0, 0, err
	}
	if err := a.check("cuDevicePrimaryCtxRetain", a.cuDevicePrimaryCtxRetain(unsafe.Pointer(&ctx), dev)); err != nil {
		return nil, 0, 0, err
	}
	return a, dev, ctx, nil
}

// enter locks the goroutine to its OS thread and makes the device's
// context current there; the returned function undoes the lock.
func (d *Device) enter() func() {
	runtime.LockOSThread()
	d.a.cuCtxSetCurrent(d.ctx)
	return runtime.UnlockOSThread
}

// Info returns the device's description.
func (d *Device) Info() Info { return d.info }

// PTXVariant says which kernel code the driver loaded: "embedded PTX 7.8",
// "NVRTC 12.4 compute_89" or "lowered PTX 7.0" (see loadModule).
func (d *Device) PTXVariant() string { return d.k.variant }

// MemInfo returns the free and total device memory in bytes.
func (d *Device) MemInfo() (free, total uint64, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	defer d.enter()()
	err = d.a.check("cuMemGetInfo", d.a.cuMemGetInfo(unsafe.Pointer(&free), unsafe.Pointer(&total)))
	return free, total, err
}

// Close frees the work buffers, unloads the kernels and releases the
// context. It is safe to call twice.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	defer d.enter()()
	d.profileKernels(false)
	d.ws.free(d.a)
	var errs []error
	if err := d.k.unload(d.a); err != nil {
		errs = append(errs, err)
	}
	if err := d.a.check("cuStreamDestroy", d.a.cuStreamDestroy(d.stream)); err != nil {
		errs = append(errs, err)
	}
	if err := d.a.check("cuDevicePrimaryCtxRelease", d.a.cuDevicePrimaryCtxRelease(d.dev)); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}
