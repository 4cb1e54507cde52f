package ort

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"
	"unsafe"

	onnx "github.com/yalue/onnxruntime_go"

	"github.com/splatbench/splatbench/internal/parallel"
)

// Data is one tensor's values, as float32 whatever the model's element type,
// with its shape. Integer tensors (token ids, ...) travel as float32 too:
// every integer up to 2^24 is exact.
type Data struct {
	Shape  []int64
	Values []float32
}

// Run feeds one float32 slice per Spec input (in Spec order) to a session
// whose tensors all have static shapes, and returns one slice per Spec
// output. Values are converted to and from the model's element types
// (float16 and bfloat16 round to nearest even; integer types round and
// clamp). The returned slices are the caller's.
func (s *Session) Run(ctx context.Context, inputs ...[]float32) ([][]float32, error) {
	in := make([]Data, len(inputs))
	for i, v := range inputs {
		in[i].Values = v
	}
	out, err := s.RunData(ctx, in)
	if err != nil {
		return nil, err
	}
	vals := make([][]float32, len(out))
	for i, d := range out {
		vals[i] = d.Values
	}
	return vals, nil
}

// WarmUp runs the session once on zeros at its inputs' shapes, which must all
// be static. A GPU provider's first run pays one-time costs (cuDNN's
// algorithm searches, the arenas' growth): 1.9 s for ISNet medium on an H100,
// whose runs then take 36 ms. A stage that warms its sessions at load keeps
// that out of its first job. The CPU provider has no such cost.
func (s *Session) WarmUp(ctx context.Context) error {
	in := make([][]float32, len(s.inputs))
	for i, sl := range s.inputs {
		n := int64(1)
		for _, d := range sl.Shape {
			if d < 0 {
				return fmt.Errorf("model %s: warm-up: input %q has a dynamic shape %v", s.path, sl.Name, sl.Shape)
			}
			n *= d
		}
		in[i] = make([]float32, n)
	}
	t0 := time.Now()
	if _, err := s.Run(ctx, in...); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	s.log.Info("model warmed up", "model", s.path, "provider", s.Runner(), "seconds", time.Since(t0).Seconds())
	return nil
}

// RunData is Run with shapes: an input with a nil Shape takes the session's
// (static) shape; dynamic dimensions must be given. Outputs carry the shapes
// the model produced. Cancelling ctx terminates a run in progress.
func (s *Session) RunData(ctx context.Context, inputs []Data) ([]Data, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sess == nil && s.bound == nil {
		return nil, fmt.Errorf("model %s: session is closed", s.path)
	}
	if len(inputs) != len(s.inputs) {
		return nil, fmt.Errorf("model %s: %d inputs given, the session takes %d (%v)", s.path, len(inputs), len(s.inputs), names(s.inputs))
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("model %s: %w", s.path, err)
	}
	if s.bound != nil {
		res, err := s.bound.run(ctx, s.path, s.provider, s.thread, inputs)
		if err == nil {
			s.runs.Add(1) // its shapes are static: ProbeShapes has them
		}
		return res, err
	}
	var temps []onnx.Value
	defer func() {
		for _, v := range temps {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	ins := make([]onnx.Value, len(s.inputs))
	shapes := make([][]int64, len(s.inputs))
	for i, sl := range s.inputs {
		shape := inputs[i].Shape
		if shape == nil {
			shape = sl.Shape
		}
		shapes[i] = slices.Clone(shape)
		if err := checkShape(sl, shape, len(inputs[i].Values)); err != nil {
			return nil, fmt.Errorf("model %s: input %q: %w", s.path, sl.Name, err)
		}
		v := sl.value
		if v == nil || !slices.Equal(shape, sl.Shape) {
			var err error
			if v, err = newValue(sl.DType, shape); err != nil {
				return nil, fmt.Errorf("model %s: input %q %v: %w", s.path, sl.Name, shape, err)
			}
			temps = append(temps, v)
		}
		fill(v, inputs[i].Values)
		ins[i] = v
	}
	outs := make([]onnx.Value, len(s.outputs))
	for i, sl := range s.outputs {
		if sl.value != nil {
			outs[i] = sl.value
		} else if sl.DType == Float16 || sl.DType == BFloat16 {
			// onnxruntime_go v1.27.0 copies one byte per element of an
			// output it allocates for a type it has no Go type for.
			return nil, fmt.Errorf("model %s: output %q is %s with dynamic shape %v, which onnxruntime_go cannot return intact; export it with a static shape or as float32", s.path, sl.Name, sl.DType, sl.Shape)
		}
	}
	if err := s.runWatched(ctx, ins, outs); err != nil {
		for i, sl := range s.outputs {
			if sl.value == nil && outs[i] != nil {
				temps = append(temps, outs[i])
			}
		}
		return nil, err
	}
	res := make([]Data, len(outs))
	for i, v := range outs {
		if s.outputs[i].value == nil {
			temps = append(temps, v)
		}
		vals, err := read(v)
		if err != nil {
			return nil, fmt.Errorf("model %s: output %q: %w", s.path, s.outputs[i].Name, err)
		}
		res[i] = Data{Shape: slices.Clone([]int64(v.GetShape())), Values: vals}
	}
	s.runs.Add(1)
	s.shape = shapes
	return res, nil
}

// runWatched runs the session, terminating it if ctx is cancelled.
func (s *Session) runWatched(ctx context.Context, ins, outs []onnx.Value) error {
	return watched(ctx, s.path, s.provider, s.thread, s.runOpts.Terminate, s.runOpts.UnsetTerminate,
		func() error { return s.sess.RunWithOptions(ins, outs, s.runOpts) })
}

// watched calls run on thread, and terminate if ctx is cancelled while it
// runs (then unset, so that the next run may go on).
func watched(ctx context.Context, path, provider string, thread *osThread, terminate, unset, run func() error) error {
	if ctx.Done() != nil {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-ctx.Done():
				_ = terminate()
			case <-done:
			}
		}()
	}
	err := thread.do(run)
	if cerr := ctx.Err(); cerr != nil {
		_ = unset()
		return fmt.Errorf("model %s: run cancelled: %w", path, cerr)
	}
	if err != nil {
		return fmt.Errorf("model %s: run on %s: %s", path, provider, oneLine(err))
	}
	return nil
}

// checkShape validates a caller's shape against a slot and a value count.
func checkShape(sl slot, shape []int64, n int) error {
	if len(shape) != len(sl.Shape) {
		return fmt.Errorf("shape %v has rank %d, want %d (%v)", shape, len(shape), len(sl.Shape), sl.Shape)
	}
	count := int64(1)
	for d, v := range shape {
		if v < 0 {
			return fmt.Errorf("shape %v: dimension %d is dynamic, give its size", shape, d)
		}
		if sl.Shape[d] >= 0 && v != sl.Shape[d] {
			return fmt.Errorf("shape %v: dimension %d must be %d", shape, d, sl.Shape[d])
		}
		count *= v
	}
	if count != int64(n) {
		return fmt.Errorf("shape %v holds %d values, got %d", shape, count, n)
	}
	return nil
}

// newValue allocates a zeroed tensor of a single element type.
func newValue(dt DType, shape []int64) (onnx.Value, error) {
	s := onnx.NewShape(shape...)
	switch dt {
	case Float32:
		return onnx.NewEmptyTensor[float32](s)
	case Float64:
		return onnx.NewEmptyTensor[float64](s)
	case Uint8:
		return onnx.NewEmptyTensor[uint8](s)
	case Int8:
		return onnx.NewEmptyTensor[int8](s)
	case Int32:
		return onnx.NewEmptyTensor[int32](s)
	case Int64:
		return onnx.NewEmptyTensor[int64](s)
	case Bool:
		return onnx.NewEmptyTensor[bool](s)
	case Float16, BFloat16:
		return onnx.NewCustomDataTensor(s, make([]byte, 2*s.FlattenedSize()), dt.ort())
	}
	return nil, fmt.Errorf("element type %s is not supported", dt)
}

// fill converts src into the tensor's element type.
func fill(v onnx.Value, src []float32) {
	encode(valueDType(v), valueBytes(v), src)
}

// read converts a tensor's values to float32.
func read(v onnx.Value) ([]float32, error) {
	dt := valueDType(v)
	if dt.size() == 0 {
		return nil, fmt.Errorf("value of type %T (%v) is not a supported tensor", v, v.DataType())
	}
	return decode(dt, valueBytes(v)), nil
}

// valueDType is the element type of a tensor newValue made (0: another).
func valueDType(v onnx.Value) DType {
	d, _ := fromORT(onnx.TensorElementDataType(v.DataType()))
	return d
}

// valueBytes is a tensor's data as ONNX Runtime holds it.
func valueBytes(v onnx.Value) []byte {
	switch t := v.(type) {
	case *onnx.Tensor[float32]:
		return asBytes(t.GetData())
	case *onnx.Tensor[float64]:
		return asBytes(t.GetData())
	case *onnx.Tensor[uint8]:
		return t.GetData()
	case *onnx.Tensor[int8]:
		return asBytes(t.GetData())
	case *onnx.Tensor[int32]:
		return asBytes(t.GetData())
	case *onnx.Tensor[int64]:
		return asBytes(t.GetData())
	case *onnx.Tensor[bool]:
		return asBytes(t.GetData())
	case *onnx.CustomDataTensor:
		return t.GetData()
	}
	return nil
}

// asBytes views a slice's memory as bytes.
func asBytes[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(s[0])))
}

// as views bytes as a slice of T, in the machine's byte order, as ONNX
// Runtime keeps tensors.
func as[T any](b []byte) []T {
	var zero T
	n := len(b) / int(unsafe.Sizeof(zero))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
}

// convertChunk is how many elements one goroutine converts at least: a
// FLUX run converts millions (the T5 context into every step, the VAE's
// picture out), which one core took tens of milliseconds a job for.
const convertChunk = 1 << 16

// chunked runs fn over [0, n) in pieces on several goroutines when n is
// large, in one call otherwise.
func chunked(n int, fn func(lo, hi int)) {
	if n < 2*convertChunk {
		fn(0, n)
		return
	}
	parallel.For(n, min(runtime.GOMAXPROCS(0), n/convertChunk), fn)
}

// encode converts src into dst, a tensor's bytes of element type dt:
// float16 and bfloat16 round to nearest even, integers round and clamp.
func encode(dt DType, dst []byte, src []float32) {
	size := dt.size()
	chunked(len(src), func(lo, hi int) { encodeSerial(dt, dst[lo*size:hi*size], src[lo:hi]) })
}

// encodeSerial is encode on the calling goroutine.
func encodeSerial(dt DType, dst []byte, src []float32) {
	switch dt {
	case Float32:
		copy(as[float32](dst), src)
	case Float64:
		d := as[float64](dst)
		for i, x := range src {
			d[i] = float64(x)
		}
	case Uint8:
		fillInt(dst, src, 0, math.MaxUint8)
	case Int8:
		fillInt(as[int8](dst), src, math.MinInt8, math.MaxInt8)
	case Int32:
		fillInt(as[int32](dst), src, math.MinInt32, math.MaxInt32)
	case Int64:
		fillInt(as[int64](dst), src, -(1 << 62), 1<<62) // float64(MaxInt64) would overflow
	case Bool:
		for i, x := range src {
			dst[i] = 0
			if x != 0 {
				dst[i] = 1
			}
		}
	case BFloat16:
		d := as[uint16](dst)
		for i, x := range src {
			d[i] = BFloat16Bits(x)
		}
	case Float16:
		d := as[uint16](dst)
		for i, x := range src {
			b := math.Float32bits(x)
			h, ok := float16Normal(b)
			if !ok {
				h = float16Edge(b)
			}
			d[i] = h
		}
	}
}

func fillInt[T int8 | uint8 | int32 | int64](dst []T, src []float32, lo, hi float64) {
	for i, x := range src {
		dst[i] = T(max(lo, min(hi, math.RoundToEven(float64(x)))))
	}
}

// decode converts a tensor's bytes of element type dt to float32.
func decode(dt DType, b []byte) []float32 {
	size := dt.size()
	if size == 0 {
		return nil
	}
	out := make([]float32, len(b)/size)
	chunked(len(out), func(lo, hi int) { decodeSerial(dt, out[lo:hi], b[lo*size:hi*size]) })
	return out
}

// decodeSerial is decode into out on the calling goroutine.
func decodeSerial(dt DType, out []float32, b []byte) {
	switch dt {
	case Float32:
		copy(out, as[float32](b))
	case Float64:
		convert(out, as[float64](b))
	case Uint8:
		convert(out, b)
	case Int8:
		convert(out, as[int8](b))
	case Int32:
		convert(out, as[int32](b))
	case Int64:
		convert(out, as[int64](b))
	case Bool:
		for i, x := range b {
			out[i] = 0
			if x != 0 {
				out[i] = 1
			}
		}
	case BFloat16:
		for i, h := range as[uint16](b) {
			out[i] = BFloat16Value(h)
		}
	case Float16:
		for i, h := range as[uint16](b) {
			out[i] = float16Table[h]
		}
	}
}

func convert[T int8 | uint8 | int32 | int64 | float64](out []float32, d []T) {
	for i, x := range d {
		out[i] = float32(x)
	}
}
