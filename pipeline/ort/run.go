package ort

import (
	"context"
	"fmt"
	"math"
	"slices"
	"unsafe"

	onnx "github.com/yalue/onnxruntime_go"
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

// RunData is Run with shapes: an input with a nil Shape takes the session's
// (static) shape; dynamic dimensions must be given. Outputs carry the shapes
// the model produced. Cancelling ctx terminates a run in progress.
func (s *Session) RunData(ctx context.Context, inputs []Data) ([]Data, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sess == nil {
		return nil, fmt.Errorf("model %s: session is closed", s.path)
	}
	if len(inputs) != len(s.inputs) {
		return nil, fmt.Errorf("model %s: %d inputs given, the session takes %d (%v)", s.path, len(inputs), len(s.inputs), names(s.inputs))
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("model %s: %w", s.path, err)
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
	if ctx.Done() != nil {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-ctx.Done():
				s.runOpts.Terminate()
			case <-done:
			}
		}()
	}
	err := s.sess.RunWithOptions(ins, outs, s.runOpts)
	if cerr := ctx.Err(); cerr != nil {
		s.runOpts.UnsetTerminate()
		return fmt.Errorf("model %s: run cancelled: %w", s.path, cerr)
	}
	if err != nil {
		return fmt.Errorf("model %s: run on %s: %s", s.path, s.provider, oneLine(err))
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
	switch t := v.(type) {
	case *onnx.Tensor[float32]:
		copy(t.GetData(), src)
	case *onnx.Tensor[float64]:
		d := t.GetData()
		for i, x := range src {
			d[i] = float64(x)
		}
	case *onnx.Tensor[uint8]:
		fillInt(t.GetData(), src, 0, math.MaxUint8)
	case *onnx.Tensor[int8]:
		fillInt(t.GetData(), src, math.MinInt8, math.MaxInt8)
	case *onnx.Tensor[int32]:
		fillInt(t.GetData(), src, math.MinInt32, math.MaxInt32)
	case *onnx.Tensor[int64]:
		fillInt(t.GetData(), src, -(1 << 62), 1<<62) // float64(MaxInt64) would overflow
	case *onnx.Tensor[bool]:
		d := t.GetData()
		for i, x := range src {
			d[i] = x != 0
		}
	case *onnx.CustomDataTensor:
		d := halves(t.GetData())[:len(src)]
		if customDType(t) == BFloat16 {
			for i, x := range src {
				d[i] = BFloat16Bits(x)
			}
			return
		}
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

// halves views a float16 or bfloat16 tensor's bytes as its 16-bit values,
// in the machine's byte order, as ONNX Runtime keeps them.
func halves(b []byte) []uint16 {
	if len(b) < 2 {
		return nil
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), len(b)/2)
}

func fillInt[T int8 | uint8 | int32 | int64](dst []T, src []float32, lo, hi float64) {
	for i, x := range src {
		dst[i] = T(max(lo, min(hi, math.RoundToEven(float64(x)))))
	}
}

// read converts a tensor's values to float32.
func read(v onnx.Value) ([]float32, error) {
	switch t := v.(type) {
	case *onnx.Tensor[float32]:
		return slices.Clone(t.GetData()), nil
	case *onnx.Tensor[float64]:
		return convert(t.GetData()), nil
	case *onnx.Tensor[uint8]:
		return convert(t.GetData()), nil
	case *onnx.Tensor[int8]:
		return convert(t.GetData()), nil
	case *onnx.Tensor[int32]:
		return convert(t.GetData()), nil
	case *onnx.Tensor[int64]:
		return convert(t.GetData()), nil
	case *onnx.Tensor[bool]:
		d := t.GetData()
		out := make([]float32, len(d))
		for i, b := range d {
			if b {
				out[i] = 1
			}
		}
		return out, nil
	case *onnx.CustomDataTensor:
		dt := customDType(t)
		if dt != Float16 && dt != BFloat16 {
			return nil, fmt.Errorf("element type %v is not supported", t.DataType())
		}
		d := halves(t.GetData())
		out := make([]float32, len(d))
		if dt == BFloat16 {
			for i, h := range d {
				out[i] = BFloat16Value(h)
			}
			return out, nil
		}
		for i, h := range d {
			out[i] = float16Table[h]
		}
		return out, nil
	}
	return nil, fmt.Errorf("value of type %T is not a supported tensor", v)
}

func convert[T int8 | uint8 | int32 | int64 | float64](d []T) []float32 {
	out := make([]float32, len(d))
	for i, x := range d {
		out[i] = float32(x)
	}
	return out
}

// customDType gives the DType of a custom-data tensor.
func customDType(t *onnx.CustomDataTensor) DType {
	d, _ := fromORT(onnx.TensorElementDataType(t.DataType()))
	return d
}
