package ort

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"unsafe"
)

// DeviceMemory is one device's memory, where a bound session's inputs and
// outputs live: cuda.Context for the CUDA provider. Addresses are the
// device's.
type DeviceMemory interface {
	Alloc(bytes uint64) (uint64, error)
	Free(ptr uint64) error
	// CopyIn and CopyOut return when the copy is complete.
	CopyIn(dst uint64, src []byte) error
	CopyOut(dst []byte, src uint64) error
}

// boundConfig asks for a bound session when provider serves the model.
type boundConfig struct {
	provider string
	mem      DeviceMemory
	graph    bool // CUDA graphs (the CUDA provider's enable_cuda_graph)
}

// WithCUDAGraph runs the session, when the CUDA provider serves it, as a
// CUDA graph: its inputs and outputs live in mem, the same GPU's memory,
// bound once, and ONNX Runtime captures the kernels of the third run and
// replays them on every later one, instead of launching them one by one
// from the host. A model that cannot be bound (a dynamic shape) or whose
// graph ONNX Runtime refuses (a copy between host and GPU inside the run)
// runs unbound on the same provider, with a warning.
func WithCUDAGraph(mem DeviceMemory) SessionOption {
	return func(c *sessionConfig) { c.bound = &boundConfig{provider: CUDA, mem: mem, graph: true} }
}

// bound is a session made through the C API (capi) whose tensors live in a
// DeviceMemory and are bound to it once.
type bound struct {
	c       *capi
	mem     DeviceMemory
	sess    uintptr
	runOpts uintptr
	binding uintptr
	info    uintptr // the memory's OrtMemoryInfo
	in, out []boundTensor
}

// boundTensor is one input or output: its device buffer, the OrtValue over
// it, and the host bytes it is copied through.
type boundTensor struct {
	slot
	ptr   uint64
	value uintptr
	host  []byte
}

// newBound creates path's session on provider with every tensor of ins and
// outs (which must be static) in cfg.mem.
func (rt *Runtime) newBound(path string, ins, outs []slot, provider string, cfg sessionConfig) (_ *bound, err error) {
	for _, sl := range append(slices.Clone(ins), outs...) {
		if !static(sl.Shape) {
			return nil, fmt.Errorf("tensor %q has dynamic shape %v: a bound session needs static shapes", sl.Name, sl.Shape)
		}
	}
	c, err := cAPI(rt.path)
	if err != nil {
		return nil, err
	}
	b := &bound{c: c, mem: cfg.bound.mem}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	var so uintptr
	if err := c.check(c.createSessionOpts(unsafe.Pointer(&so))); err != nil {
		return nil, err
	}
	defer c.releaseSessionOpts(so)
	if cfg.intraThreads > 0 {
		if err := c.check(c.setIntraOpThreads(so, int32(cfg.intraThreads))); err != nil {
			return nil, err
		}
	}
	memName := "Cpu"
	switch provider {
	case CPU:
	case CUDA:
		memName = "Cuda"
		opts, err := cudaOptions(cfg.cuda) // a new map every call
		if err != nil {
			return nil, err
		}
		if _, set := opts["enable_cuda_graph"]; !set && cfg.bound.graph {
			opts["enable_cuda_graph"] = "1"
		}
		if err := c.appendCUDAProvider(so, opts); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("a bound session runs on cpu or cuda, not %s", provider)
	}
	if err := c.check(c.createSession(c.env, path, so, unsafe.Pointer(&b.sess))); err != nil {
		return nil, err
	}
	if err := c.check(c.createMemoryInfo(memName, 0 /* device allocator */, 0, 0 /* default memory */, unsafe.Pointer(&b.info))); err != nil {
		return nil, err
	}
	if err := c.check(c.createRunOptions(unsafe.Pointer(&b.runOpts))); err != nil {
		return nil, err
	}
	if err := c.check(c.createIoBinding(b.sess, unsafe.Pointer(&b.binding))); err != nil {
		return nil, err
	}
	for _, side := range []struct {
		slots []slot
		dst   *[]boundTensor
		bind  func(b uintptr, name string, v uintptr) uintptr
	}{{ins, &b.in, c.bindInput}, {outs, &b.out, c.bindOutput}} {
		for _, sl := range side.slots {
			t, err := b.tensor(sl)
			*side.dst = append(*side.dst, t)
			if err != nil {
				return nil, fmt.Errorf("tensor %q %v: %w", sl.Name, sl.Shape, err)
			}
			if err := c.check(side.bind(b.binding, sl.Name, t.value)); err != nil {
				return nil, fmt.Errorf("binding %q: %w", sl.Name, err)
			}
		}
	}
	return b, nil
}

// tensor allocates sl's buffer in the memory and makes its OrtValue. On an
// error the returned tensor holds what was made, for close.
func (b *bound) tensor(sl slot) (boundTensor, error) {
	n := uint64(sl.DType.size())
	for _, d := range sl.Shape {
		n *= uint64(d)
	}
	t := boundTensor{slot: sl, host: make([]byte, n)}
	var err error
	if t.ptr, err = b.mem.Alloc(max(n, 1)); err != nil {
		return t, err
	}
	shape := slices.Clone(sl.Shape)
	err = b.c.check(b.c.createTensorOver(b.info, uintptr(t.ptr), n, unsafe.Pointer(&shape[0]), uint64(len(shape)),
		int32(sl.DType.ort()), unsafe.Pointer(&t.value)))
	runtime.KeepAlive(shape)
	return t, err
}

// run copies inputs in, runs the session and copies the outputs out.
func (b *bound) run(ctx context.Context, path, provider string, thread *osThread, inputs []Data) ([]Data, error) {
	for i, t := range b.in {
		shape := inputs[i].Shape
		if shape == nil {
			shape = t.Shape
		}
		if err := checkShape(t.slot, shape, len(inputs[i].Values)); err != nil {
			return nil, fmt.Errorf("model %s: input %q: %w", path, t.Name, err)
		}
		encode(t.DType, t.host, inputs[i].Values)
		if err := b.mem.CopyIn(t.ptr, t.host); err != nil {
			return nil, fmt.Errorf("model %s: input %q: copy to the device: %w", path, t.Name, err)
		}
	}
	err := watched(ctx, path, provider, thread,
		func() error { return b.c.check(b.c.runSetTerminate(b.runOpts)) },
		func() error { return b.c.check(b.c.runUnsetTerminate(b.runOpts)) },
		func() error { return b.c.check(b.c.runWithBinding(b.sess, b.runOpts, b.binding)) })
	if err != nil {
		return nil, err
	}
	res := make([]Data, len(b.out))
	for i, t := range b.out {
		if err := b.mem.CopyOut(t.host, t.ptr); err != nil {
			return nil, fmt.Errorf("model %s: output %q: copy from the device: %w", path, t.Name, err)
		}
		res[i] = Data{Shape: slices.Clone(t.Shape), Values: decode(t.DType, t.host)}
	}
	return res, nil
}

// close releases everything newBound made (b may be partly made).
func (b *bound) close() error {
	var errs []error
	c := b.c
	if b.binding != 0 {
		c.releaseIoBinding(b.binding)
	}
	for _, t := range append(b.in, b.out...) {
		if t.value != 0 {
			c.releaseValue(t.value)
		}
		if t.ptr != 0 {
			errs = append(errs, b.mem.Free(t.ptr))
		}
	}
	if b.runOpts != 0 {
		c.releaseRunOptions(b.runOpts)
	}
	if b.info != 0 {
		c.releaseMemoryInfo(b.info)
	}
	if b.sess != 0 {
		c.releaseSession(b.sess)
	}
	*b = bound{c: c}
	return errors.Join(errs...)
}
