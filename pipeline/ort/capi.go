package ort

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// capi is the part of ONNX Runtime's C API that onnxruntime_go v1.27 does
// not reach: a tensor over memory the caller owns on a device, inputs and
// outputs bound once to a session (OrtIoBinding), and CUDA provider options
// per session. CUDA graphs need all three: a captured graph replays on the
// same device addresses every run.
//
// Each function is found by its index in the OrtApi table that
// OrtGetApiBase()->GetApi returns. ONNX Runtime only appends to that table,
// so the indices hold for every later version. TestBoundMatchesSession and
// TestBoundTerminate run all but the CUDA provider's four against the
// library; those ran on an H200 (docs/perf/ort-gpu.md, session 14).
type capi struct {
	getErrorMessage    func(st uintptr) string
	releaseStatus      func(st uintptr)
	createEnv          func(level int32, logID string, out unsafe.Pointer) uintptr
	createSession      func(env uintptr, path string, opts uintptr, out unsafe.Pointer) uintptr
	createSessionOpts  func(out unsafe.Pointer) uintptr
	setIntraOpThreads  func(opts uintptr, n int32) uintptr
	createRunOptions   func(out unsafe.Pointer) uintptr
	runSetTerminate    func(ro uintptr) uintptr
	runUnsetTerminate  func(ro uintptr) uintptr
	createTensorOver   func(info uintptr, data uintptr, bytes uint64, shape unsafe.Pointer, rank uint64, dtype int32, out unsafe.Pointer) uintptr
	createMemoryInfo   func(name string, allocator, device, memType int32, out unsafe.Pointer) uintptr
	releaseMemoryInfo  func(info uintptr)
	releaseSession     func(s uintptr)
	releaseValue       func(v uintptr)
	releaseRunOptions  func(ro uintptr)
	releaseSessionOpts func(opts uintptr)
	runWithBinding     func(s, ro, b uintptr) uintptr
	createIoBinding    func(s uintptr, out unsafe.Pointer) uintptr
	releaseIoBinding   func(b uintptr)
	bindInput          func(b uintptr, name string, v uintptr) uintptr
	bindOutput         func(b uintptr, name string, v uintptr) uintptr
	appendCUDA         func(opts, cuda uintptr) uintptr
	createCUDAOpts     func(out unsafe.Pointer) uintptr
	updateCUDAOpts     func(cuda uintptr, keys, values unsafe.Pointer, n uint64) uintptr
	releaseCUDAOpts    func(cuda uintptr)

	env uintptr // the process's OrtEnv (ORT keeps one; onnxruntime_go made it)
}

// capiVersion is the OrtApi version asked for: 16 (ONNX Runtime 1.16) has
// every function below.
const capiVersion = 16

// table pairs each function with its OrtApi index.
func (c *capi) table() []struct {
	fn    any
	index int
} {
	return []struct {
		fn    any
		index int
	}{
		{&c.getErrorMessage, 2}, {&c.createEnv, 3}, {&c.createSession, 7}, {&c.createSessionOpts, 10},
		{&c.setIntraOpThreads, 24}, {&c.createRunOptions, 39}, {&c.runSetTerminate, 46}, {&c.runUnsetTerminate, 47},
		{&c.createTensorOver, 49}, {&c.createMemoryInfo, 68}, {&c.releaseStatus, 93},
		{&c.releaseMemoryInfo, 94}, {&c.releaseSession, 95}, {&c.releaseValue, 96}, {&c.releaseRunOptions, 97},
		{&c.releaseSessionOpts, 100}, {&c.runWithBinding, 133}, {&c.createIoBinding, 134}, {&c.releaseIoBinding, 135},
		{&c.bindInput, 136}, {&c.bindOutput, 137}, {&c.appendCUDA, 204}, {&c.createCUDAOpts, 205},
		{&c.updateCUDAOpts, 206}, {&c.releaseCUDAOpts, 208},
	}
}

var (
	capiMu     sync.Mutex
	capiLoaded = map[string]*capi{}
)

// cAPI binds the C API of the library at path, which Init has loaded (so
// dlopen returns the same library, and CreateEnv ORT's one environment).
func cAPI(path string) (*capi, error) {
	capiMu.Lock()
	defer capiMu.Unlock()
	if c := capiLoaded[path]; c != nil {
		return c, nil
	}
	lib, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("onnx runtime library %s: %w", path, err)
	}
	base, err := purego.Dlsym(lib, "OrtGetApiBase")
	if err != nil {
		return nil, fmt.Errorf("onnx runtime library %s: %w", path, err)
	}
	var getAPIBase func() unsafe.Pointer
	purego.RegisterFunc(&getAPIBase, base)
	// OrtApiBase is {GetApi, GetVersionString}.
	var getAPI func(version uint32) unsafe.Pointer
	purego.RegisterFunc(&getAPI, *(*uintptr)(getAPIBase()))
	table := getAPI(capiVersion)
	if table == nil {
		return nil, fmt.Errorf("onnx runtime library %s: has no C API version %d", path, capiVersion)
	}
	c := new(capi)
	for _, e := range c.table() {
		fn := *(*uintptr)(unsafe.Add(table, e.index*int(unsafe.Sizeof(uintptr(0)))))
		if fn == 0 {
			return nil, fmt.Errorf("onnx runtime library %s: C API function %d is missing", path, e.index)
		}
		purego.RegisterFunc(e.fn, fn)
	}
	if err := c.check(c.createEnv(3 /* error */, "splatbench", unsafe.Pointer(&c.env))); err != nil {
		return nil, fmt.Errorf("onnx runtime library %s: environment: %w", path, err)
	}
	capiLoaded[path] = c
	return c, nil
}

// check turns an OrtStatus into an error (nil status: nil) and releases it.
func (c *capi) check(st uintptr) error {
	if st == 0 {
		return nil
	}
	defer c.releaseStatus(st)
	return errors.New(c.getErrorMessage(st))
}

// appendCUDAProvider appends the CUDA provider with opts to the session
// options so.
func (c *capi) appendCUDAProvider(so uintptr, opts map[string]string) error {
	var co uintptr
	if err := c.check(c.createCUDAOpts(unsafe.Pointer(&co))); err != nil {
		return err
	}
	defer c.releaseCUDAOpts(co)
	if len(opts) > 0 {
		keys, vals := make([]*byte, 0, len(opts)), make([]*byte, 0, len(opts))
		for k, v := range opts {
			keys, vals = append(keys, cString(k)), append(vals, cString(v))
		}
		var pin runtime.Pinner
		for i := range keys {
			pin.Pin(keys[i])
			pin.Pin(vals[i])
		}
		err := c.check(c.updateCUDAOpts(co, unsafe.Pointer(&keys[0]), unsafe.Pointer(&vals[0]), uint64(len(keys))))
		pin.Unpin()
		if err != nil {
			return err
		}
	}
	return c.check(c.appendCUDA(so, co))
}

// cString is s with a NUL after it, as C reads it.
func cString(s string) *byte {
	b := append([]byte(s), 0)
	return &b[0]
}
