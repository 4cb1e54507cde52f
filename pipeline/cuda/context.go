package cuda

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// Context is a GPU's primary context without the rasteriser's kernels: raw
// device memory and copies, for another library that works in the same
// context. ONNX Runtime's CUDA provider does (it uses the CUDA runtime,
// which takes the primary context), so a Context's memory can be bound to
// its sessions (ort.DeviceMemory). Safe for concurrent use.
type Context struct {
	mu     sync.Mutex
	a      *api
	dev    int32
	ctx    uintptr
	stream uintptr
	index  int
}

// Retain opens device index's primary context and a stream for copies.
func Retain(index int) (*Context, error) {
	a, dev, ctx, err := primary(index)
	if err != nil {
		return nil, err
	}
	c := &Context{a: a, dev: dev, ctx: ctx, index: index}
	defer c.enter()()
	if err := a.check("cuStreamCreate", a.cuStreamCreate(unsafe.Pointer(&c.stream), 1 /* non-blocking */)); err != nil {
		a.cuDevicePrimaryCtxRelease(c.dev)
		return nil, err
	}
	return c, nil
}

// Index is the device's ordinal.
func (c *Context) Index() int { return c.index }

// enter locks the caller to its OS thread with the context current there.
func (c *Context) enter() func() {
	runtime.LockOSThread()
	c.a.cuCtxSetCurrent(c.ctx)
	return runtime.UnlockOSThread
}

// Alloc allocates bytes of device memory.
func (c *Context) Alloc(bytes uint64) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.enter()()
	var p uint64
	if err := c.a.check("cuMemAlloc", c.a.cuMemAlloc(unsafe.Pointer(&p), bytes)); err != nil {
		return 0, fmt.Errorf("cuda: device %d: %d bytes: %w", c.index, bytes, err)
	}
	return p, nil
}

// Free releases memory Alloc gave.
func (c *Context) Free(ptr uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.enter()()
	return c.a.check("cuMemFree", c.a.cuMemFree(ptr))
}

// CopyIn copies src to device address dst and waits until it is there.
func (c *Context) CopyIn(dst uint64, src []byte) error {
	if len(src) == 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.enter()()
	err := c.a.check("cuMemcpyHtoDAsync", c.a.cuMemcpyHtoDAsync(dst, unsafe.Pointer(&src[0]), uint64(len(src)), c.stream))
	if err == nil {
		err = c.a.check("cuStreamSynchronize", c.a.cuStreamSynchronize(c.stream))
	}
	runtime.KeepAlive(src)
	return err
}

// CopyOut copies len(dst) bytes from device address src into dst.
func (c *Context) CopyOut(dst []byte, src uint64) error {
	if len(dst) == 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.enter()()
	err := c.a.check("cuMemcpyDtoHAsync", c.a.cuMemcpyDtoHAsync(unsafe.Pointer(&dst[0]), src, uint64(len(dst)), c.stream))
	if err == nil {
		err = c.a.check("cuStreamSynchronize", c.a.cuStreamSynchronize(c.stream))
	}
	runtime.KeepAlive(dst)
	return err
}

// Release destroys the stream and releases the primary context (memory not
// freed stays allocated while the context lives).
func (c *Context) Release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stream == 0 {
		return
	}
	unlock := c.enter()
	c.a.cuStreamDestroy(c.stream)
	unlock()
	c.stream = 0
	c.a.cuDevicePrimaryCtxRelease(c.dev)
}
