package cuda

import (
	"fmt"
	"math"
	"runtime"
	"unsafe"
)

// devBuf is a device allocation.
type devBuf struct {
	ptr  uint64
	size uint64
}

// ensure makes b at least size bytes (reallocating, contents lost).
func (d *Device) ensure(b *devBuf, size uint64, what string) error {
	if size == 0 {
		size = 4
	}
	if b.size >= size {
		return nil
	}
	if b.ptr != 0 {
		if err := d.a.check("cuMemFree", d.a.cuMemFree(b.ptr)); err != nil {
			return err
		}
		*b = devBuf{}
	}
	var p uint64
	if err := d.a.check("cuMemAlloc", d.a.cuMemAlloc(unsafe.Pointer(&p), size)); err != nil {
		return fmt.Errorf("%s (%d bytes): %w", what, size, err)
	}
	*b = devBuf{ptr: p, size: size}
	return nil
}

func (d *Device) freeBuf(b *devBuf) {
	if b.ptr != 0 {
		d.a.cuMemFree(b.ptr)
	}
	*b = devBuf{}
}

// upload copies src to device pointer dst on the device's stream; the host
// slice is pinned until the next sync.
func upload[T any](d *Device, dst uint64, src []T) error {
	if len(src) == 0 {
		return nil
	}
	d.pin.Pin(&src[0])
	n := uint64(len(src)) * uint64(unsafe.Sizeof(src[0]))
	return d.a.check("cuMemcpyHtoDAsync", d.a.cuMemcpyHtoDAsync(dst, unsafe.Pointer(&src[0]), n, d.stream))
}

// download copies into dst from device pointer src; valid after sync.
func download[T any](d *Device, dst []T, src uint64) error {
	if len(dst) == 0 {
		return nil
	}
	d.pin.Pin(&dst[0])
	n := uint64(len(dst)) * uint64(unsafe.Sizeof(dst[0]))
	return d.a.check("cuMemcpyDtoHAsync", d.a.cuMemcpyDtoHAsync(unsafe.Pointer(&dst[0]), src, n, d.stream))
}

func (d *Device) memset0(p uint64, bytes uint64) error {
	if bytes == 0 {
		return nil
	}
	return d.a.check("cuMemsetD8Async", d.a.cuMemsetD8Async(p, 0, bytes, d.stream))
}

// sync waits for the stream and releases the pinned host memory.
func (d *Device) sync() error {
	err := d.a.check("cuStreamSynchronize", d.a.cuStreamSynchronize(d.stream))
	d.pin.Unpin()
	if err == nil && d.kprof != nil {
		d.kprof.collect(d.a)
	}
	return err
}

// launch starts kernel name with grid × block threads. Arguments are
// uint64 (device pointers), int32, uint32 or float32; each is stored in an
// 8-byte slot whose address goes in the parameter array, all pinned for
// the call (cuLaunchKernel copies them before it returns).
func (d *Device) launch(name string, grid, block [3]uint32, args ...any) error {
	fn, ok := d.k.fn[name]
	if !ok {
		return fmt.Errorf("cuda: kernel %s not loaded", name)
	}
	if grid[0] == 0 || grid[1] == 0 || grid[2] == 0 {
		return nil
	}
	vals := make([]uint64, len(args))
	ptrs := make([]unsafe.Pointer, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case uint64:
			vals[i] = v
		case int32:
			vals[i] = uint64(uint32(v))
		case uint32:
			vals[i] = uint64(v)
		case float32:
			vals[i] = uint64(math.Float32bits(v))
		default:
			return fmt.Errorf("cuda: kernel %s argument %d has unsupported type %T", name, i, a)
		}
	}
	var p runtime.Pinner
	defer p.Unpin()
	if len(args) > 0 {
		p.Pin(&vals[0])
		for i := range vals {
			ptrs[i] = unsafe.Pointer(&vals[i])
		}
		p.Pin(&ptrs[0])
	}
	var params unsafe.Pointer
	if len(args) > 0 {
		params = unsafe.Pointer(&ptrs[0])
	}
	ev := d.kernelStart()
	code := d.a.cuLaunchKernel(fn, grid[0], grid[1], grid[2], block[0], block[1], block[2], 0, d.stream, params, nil)
	d.kernelEnd(name, ev)
	return d.a.check("cuLaunchKernel("+name+")", code)
}

func cdiv(a, b int) uint32 { return uint32((a + b - 1) / b) }
