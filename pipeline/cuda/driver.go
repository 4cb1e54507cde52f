package cuda

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// ErrNoDriver is wrapped by the error Open and Discover return when the
// CUDA driver library cannot be loaded or bound.
var ErrNoDriver = errors.New("cuda: driver library not available")

// ErrNoDevice is wrapped when the driver works but has no such device.
var ErrNoDevice = errors.New("cuda: no such device")

// driverLibs are tried in order.
var driverLibs = []string{"libcuda.so.1", "libcuda.so"}

// api is the bound subset of the driver API. Every function returns a
// CUresult; pointers are passed as unsafe.Pointer, device pointers as
// uint64 (CUdeviceptr), handles as uintptr.
type api struct {
	cuInit                    func(flags uint32) int32
	cuDriverGetVersion        func(v unsafe.Pointer) int32
	cuDeviceGetCount          func(n unsafe.Pointer) int32
	cuDeviceGet               func(dev unsafe.Pointer, ordinal int32) int32
	cuDeviceGetName           func(name unsafe.Pointer, n int32, dev int32) int32
	cuDeviceGetAttribute      func(v unsafe.Pointer, attr int32, dev int32) int32
	cuDeviceTotalMem          func(bytes unsafe.Pointer, dev int32) int32
	cuDevicePrimaryCtxRetain  func(ctx unsafe.Pointer, dev int32) int32
	cuDevicePrimaryCtxRelease func(dev int32) int32
	cuCtxSetCurrent           func(ctx uintptr) int32
	cuModuleLoadDataEx        func(mod unsafe.Pointer, image unsafe.Pointer, nopt uint32, opts unsafe.Pointer, vals unsafe.Pointer) int32
	cuModuleUnload            func(mod uintptr) int32
	cuModuleGetFunction       func(fn unsafe.Pointer, mod uintptr, name string) int32
	cuMemAlloc                func(ptr unsafe.Pointer, size uint64) int32
	cuMemFree                 func(ptr uint64) int32
	cuMemcpyHtoD              func(dst uint64, src unsafe.Pointer, size uint64) int32
	cuMemcpyDtoH              func(dst unsafe.Pointer, src uint64, size uint64) int32
	cuMemcpyHtoDAsync         func(dst uint64, src unsafe.Pointer, size uint64, stream uintptr) int32
	cuMemcpyDtoHAsync         func(dst unsafe.Pointer, src uint64, size uint64, stream uintptr) int32
	cuMemsetD8Async           func(ptr uint64, v uint8, n uint64, stream uintptr) int32
	cuMemGetInfo              func(free, total unsafe.Pointer) int32
	cuLaunchKernel            func(fn uintptr, gx, gy, gz, bx, by, bz uint32, shared uint32, stream uintptr, params unsafe.Pointer, extra unsafe.Pointer) int32
	cuStreamCreate            func(s unsafe.Pointer, flags uint32) int32
	cuStreamSynchronize       func(s uintptr) int32
	cuStreamDestroy           func(s uintptr) int32
	cuEventCreate             func(e unsafe.Pointer, flags uint32) int32
	cuEventRecord             func(e uintptr, s uintptr) int32
	cuEventSynchronize        func(e uintptr) int32
	cuEventElapsedTime        func(ms unsafe.Pointer, start, end uintptr) int32
	cuEventDestroy            func(e uintptr) int32
	cuGetErrorName            func(code int32, name unsafe.Pointer) int32
}

// symbol names, tried in order (versioned names first).
func (a *api) table() []struct {
	fn    any
	names []string
} {
	return []struct {
		fn    any
		names []string
	}{
		{&a.cuInit, []string{"cuInit"}},
		{&a.cuDriverGetVersion, []string{"cuDriverGetVersion"}},
		{&a.cuDeviceGetCount, []string{"cuDeviceGetCount"}},
		{&a.cuDeviceGet, []string{"cuDeviceGet"}},
		{&a.cuDeviceGetName, []string{"cuDeviceGetName"}},
		{&a.cuDeviceGetAttribute, []string{"cuDeviceGetAttribute"}},
		{&a.cuDeviceTotalMem, []string{"cuDeviceTotalMem_v2"}},
		{&a.cuDevicePrimaryCtxRetain, []string{"cuDevicePrimaryCtxRetain"}},
		{&a.cuDevicePrimaryCtxRelease, []string{"cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease"}},
		{&a.cuCtxSetCurrent, []string{"cuCtxSetCurrent"}},
		{&a.cuModuleLoadDataEx, []string{"cuModuleLoadDataEx"}},
		{&a.cuModuleUnload, []string{"cuModuleUnload"}},
		{&a.cuModuleGetFunction, []string{"cuModuleGetFunction"}},
		{&a.cuMemAlloc, []string{"cuMemAlloc_v2"}},
		{&a.cuMemFree, []string{"cuMemFree_v2"}},
		{&a.cuMemcpyHtoD, []string{"cuMemcpyHtoD_v2"}},
		{&a.cuMemcpyDtoH, []string{"cuMemcpyDtoH_v2"}},
		{&a.cuMemcpyHtoDAsync, []string{"cuMemcpyHtoDAsync_v2"}},
		{&a.cuMemcpyDtoHAsync, []string{"cuMemcpyDtoHAsync_v2"}},
		{&a.cuMemsetD8Async, []string{"cuMemsetD8Async"}},
		{&a.cuMemGetInfo, []string{"cuMemGetInfo_v2"}},
		{&a.cuLaunchKernel, []string{"cuLaunchKernel"}},
		{&a.cuStreamCreate, []string{"cuStreamCreate"}},
		{&a.cuStreamSynchronize, []string{"cuStreamSynchronize"}},
		{&a.cuStreamDestroy, []string{"cuStreamDestroy_v2", "cuStreamDestroy"}},
		{&a.cuEventCreate, []string{"cuEventCreate"}},
		{&a.cuEventRecord, []string{"cuEventRecord"}},
		{&a.cuEventSynchronize, []string{"cuEventSynchronize"}},
		{&a.cuEventElapsedTime, []string{"cuEventElapsedTime_v2", "cuEventElapsedTime"}},
		{&a.cuEventDestroy, []string{"cuEventDestroy_v2", "cuEventDestroy"}},
		{&a.cuGetErrorName, []string{"cuGetErrorName"}},
	}
}

var (
	loadOnce sync.Once
	loaded   *api
	loadErr  error
)

// driver loads and binds libcuda once per process and runs cuInit.
func driver() (*api, error) {
	loadOnce.Do(func() { loaded, loadErr = loadDriver(driverLibs) })
	return loaded, loadErr
}

func loadDriver(libs []string) (*api, error) {
	var lib uintptr
	var errs []error
	for _, name := range libs {
		h, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err == nil {
			lib = h
			break
		}
		errs = append(errs, fmt.Errorf("%s: %w", name, err))
	}
	if lib == 0 {
		return nil, fmt.Errorf("%w: %w", ErrNoDriver, errors.Join(errs...))
	}
	a := new(api)
	for _, e := range a.table() {
		var sym uintptr
		var err error
		for _, n := range e.names {
			if sym, err = purego.Dlsym(lib, n); err == nil {
				break
			}
		}
		if sym == 0 {
			return nil, fmt.Errorf("%w: symbol %s missing: %w", ErrNoDriver, e.names[0], err)
		}
		purego.RegisterFunc(e.fn, sym)
	}
	if err := a.check("cuInit", a.cuInit(0)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoDriver, err)
	}
	return a, nil
}
