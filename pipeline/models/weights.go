package models

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
)

// Weights is what a model's initializers (its weights) occupy once loaded:
// each initializer's element count times its element type's size, as the
// ONNX file declares them (dims and data_type), whether the bytes sit in
// the file or in external-data files beside it. ONNX Runtime keeps
// initializers in their stored type, so this is the weights' share of
// device memory on a GPU provider.
type Weights struct {
	Bytes    int64            // all initializers
	External int64            // of Bytes, stored in external-data files
	Tensors  int              // initializers counted
	ByType   map[string]int64 // bytes per element type ("float16", ...)
}

// Dominant is the element type holding most of the bytes ("" when none).
func (w Weights) Dominant() string {
	best, n := "", int64(-1)
	keys := make([]string, 0, len(w.ByType))
	for k := range w.ByType {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if w.ByType[k] > n {
			best, n = k, w.ByType[k]
		}
	}
	return best
}

// String is "23.7 GB (float16 100%)" style, for people.
func (w Weights) String() string {
	d := w.Dominant()
	if d == "" {
		return fmt.Sprintf("%.2f GB", float64(w.Bytes)/1e9)
	}
	return fmt.Sprintf("%.2f GB (%s %.0f%%)", float64(w.Bytes)/1e9, d, 100*float64(w.ByType[d])/float64(max(w.Bytes, 1)))
}

// ReadWeights reads the initializers' declared sizes from the ONNX model at
// path without loading the weights: a graph file of a few MB with tens of
// GB of external data is read in milliseconds.
func ReadWeights(path string) (Weights, error) {
	f, err := os.Open(path)
	if err != nil {
		return Weights{}, fmt.Errorf("model weights: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Weights{}, fmt.Errorf("model weights: %w", err)
	}
	w, err := readWeights(f, fi.Size())
	if err != nil {
		return Weights{}, fmt.Errorf("model weights: %s: %w", path, err)
	}
	return w, nil
}

// ONNX TensorProto.DataType: element size in bits (0: not counted).
var onnxTypes = map[uint64]struct {
	name string
	bits int64
}{
	1: {"float32", 32}, 2: {"uint8", 8}, 3: {"int8", 8}, 4: {"uint16", 16}, 5: {"int16", 16},
	6: {"int32", 32}, 7: {"int64", 64}, 8: {"string", 0}, 9: {"bool", 8}, 10: {"float16", 16},
	11: {"float64", 64}, 12: {"uint32", 32}, 13: {"uint64", 64}, 14: {"complex64", 64},
	15: {"complex128", 128}, 16: {"bfloat16", 16}, 17: {"float8e4m3fn", 8}, 18: {"float8e4m3fnuz", 8},
	19: {"float8e5m2", 8}, 20: {"float8e5m2fnuz", 8}, 21: {"uint4", 4}, 22: {"int4", 4},
	23: {"float4e2m1", 4},
}

// maxElements bounds one initializer (2^48 elements: far beyond any
// model, far below int64 overflow after multiplying by 16 bytes).
const maxElements = 1 << 48

// Field numbers of the ONNX protobuf messages read here (onnx.proto).
const (
	modelGraph        = 7  // ModelProto.graph
	graphInitializer  = 5  // GraphProto.initializer
	tensorDims        = 1  // TensorProto.dims
	tensorDataType    = 2  // TensorProto.data_type
	tensorName        = 8  // TensorProto.name
	tensorDataLoc     = 14 // TensorProto.data_location (1: EXTERNAL)
	wireVarint        = 0
	wireFixed64       = 1
	wireBytes         = 2
	wireFixed32       = 5
	maxNameForErrors  = 200
	readerWindowBytes = 64 << 10
)

var errTruncated = errors.New("truncated protobuf")

// readWeights walks ModelProto → graph → initializer, skipping everything
// else by length (raw weight bytes are never read).
func readWeights(r io.ReaderAt, size int64) (Weights, error) {
	p := &pbReader{r: r}
	w := Weights{ByType: map[string]int64{}}
	graphs := 0
	err := p.fields(0, size, func(num, wire uint64, start, end int64) error {
		if num != modelGraph || wire != wireBytes {
			return nil
		}
		graphs++
		return p.fields(start, end, func(num, wire uint64, start, end int64) error {
			if num != graphInitializer || wire != wireBytes {
				return nil
			}
			return p.tensor(&w, start, end)
		})
	})
	if err != nil {
		return Weights{}, err
	}
	if graphs == 0 {
		return Weights{}, errors.New("no graph: not an ONNX model")
	}
	return w, nil
}

// tensor adds one TensorProto's declared size to w.
func (p *pbReader) tensor(w *Weights, start, end int64) error {
	elems, dtype, external := int64(1), uint64(0), false
	name := ""
	addDim := func(d uint64) error {
		if d > maxElements || (d != 0 && elems > maxElements/int64(d)) {
			return fmt.Errorf("initializer %q: more than 2^48 elements", name)
		}
		elems *= int64(d)
		return nil
	}
	err := p.fields(start, end, func(num, wire uint64, s, e int64) error {
		switch {
		case num == tensorDims && wire == wireVarint:
			return addDim(p.last)
		case num == tensorDims && wire == wireBytes: // packed
			for at := s; at < e; {
				v, next, err := p.varint(at, e)
				if err != nil {
					return err
				}
				if err := addDim(v); err != nil {
					return err
				}
				at = next
			}
		case num == tensorDataType && wire == wireVarint:
			dtype = p.last
		case num == tensorDataLoc && wire == wireVarint:
			external = p.last == 1
		case num == tensorName && wire == wireBytes:
			b, err := p.bytes(s, min(e, s+maxNameForErrors))
			if err != nil {
				return err
			}
			name = strings.ToValidUTF8(string(b), "?")
		}
		return nil
	})
	if err != nil {
		return err
	}
	t, ok := onnxTypes[dtype]
	if !ok {
		return fmt.Errorf("initializer %q: data_type %d is not an ONNX element type", name, dtype)
	}
	n := (elems*t.bits + 7) / 8
	w.Tensors++
	w.Bytes += n
	w.ByType[t.name] += n
	if external {
		w.External += n
	}
	if w.Bytes < 0 || w.Bytes > math.MaxInt64/2 {
		return errors.New("initializers overflow")
	}
	return nil
}

// pbReader reads protobuf wire data at absolute offsets through a small
// window, so skipping a field costs nothing.
type pbReader struct {
	r           io.ReaderAt
	buf         [readerWindowBytes]byte
	bufAt, bufN int64
	last        uint64 // value of the last varint field handed to fields' callback
}

func (p *pbReader) byteAt(at int64) (byte, error) {
	if at < p.bufAt || at >= p.bufAt+p.bufN {
		n, err := p.r.ReadAt(p.buf[:], at)
		if n == 0 {
			if err == nil || err == io.EOF {
				err = errTruncated
			}
			return 0, err
		}
		p.bufAt, p.bufN = at, int64(n)
	}
	return p.buf[at-p.bufAt], nil
}

func (p *pbReader) bytes(start, end int64) ([]byte, error) {
	out := make([]byte, 0, end-start)
	for at := start; at < end; at++ {
		b, err := p.byteAt(at)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// varint decodes a base-128 varint at at, which must end before end.
func (p *pbReader) varint(at, end int64) (uint64, int64, error) {
	var v uint64
	for i := 0; i < 10; i++ {
		if at >= end {
			return 0, 0, errTruncated
		}
		b, err := p.byteAt(at)
		if err != nil {
			return 0, 0, err
		}
		at++
		if i == 9 && b > 1 {
			return 0, 0, errors.New("varint overflows 64 bits")
		}
		v |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			return v, at, nil
		}
	}
	return 0, 0, errors.New("varint longer than 10 bytes")
}

// fields calls fn for every field of the message in [start, end): for
// length-delimited fields with the payload's range, for varints with
// p.last set (and an empty range).
func (p *pbReader) fields(start, end int64, fn func(num, wire uint64, s, e int64) error) error {
	for at := start; at < end; {
		key, next, err := p.varint(at, end)
		if err != nil {
			return err
		}
		num, wire := key>>3, key&7
		if num == 0 {
			return fmt.Errorf("field number 0 at byte %d", at)
		}
		at = next
		switch wire {
		case wireVarint:
			v, next, err := p.varint(at, end)
			if err != nil {
				return err
			}
			p.last, at = v, next
			if err := fn(num, wire, at, at); err != nil {
				return err
			}
		case wireFixed64, wireFixed32:
			n := int64(8)
			if wire == wireFixed32 {
				n = 4
			}
			if end-at < n {
				return errTruncated
			}
			at += n
		case wireBytes:
			n, next, err := p.varint(at, end)
			if err != nil {
				return err
			}
			if n > uint64(end-next) {
				return fmt.Errorf("field %d at byte %d: length %d runs past its message: %w", num, at, n, errTruncated)
			}
			s, e := next, next+int64(n)
			if err := fn(num, wire, s, e); err != nil {
				return err
			}
			at = e
		default:
			return fmt.Errorf("field %d at byte %d: wire type %d not supported", num, at, wire)
		}
	}
	return nil
}
