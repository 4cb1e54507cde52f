package ort

import (
	"fmt"
	"math"
	"strings"

	onnx "github.com/yalue/onnxruntime_go"
)

// DType is a set of tensor element types. A Spec may accept several
// (Float32|Float16); a model's tensor has exactly one. Zero means "any" in a
// Spec and "a type splatbench does not handle" in a Signature.
type DType uint16

// Element types splatbench feeds or reads.
const (
	Float32 DType = 1 << iota
	Float16
	BFloat16
	Float64
	Uint8
	Int8
	Int32
	Int64
	Bool
)

var dtypeNames = []struct {
	d    DType
	name string
	ort  onnx.TensorElementDataType
	size int
}{
	{Float32, "float32", onnx.TensorElementDataTypeFloat, 4},
	{Float16, "float16", onnx.TensorElementDataTypeFloat16, 2},
	{BFloat16, "bfloat16", onnx.TensorElementDataTypeBFloat16, 2},
	{Float64, "float64", onnx.TensorElementDataTypeDouble, 8},
	{Uint8, "uint8", onnx.TensorElementDataTypeUint8, 1},
	{Int8, "int8", onnx.TensorElementDataTypeInt8, 1},
	{Int32, "int32", onnx.TensorElementDataTypeInt32, 4},
	{Int64, "int64", onnx.TensorElementDataTypeInt64, 8},
	{Bool, "bool", onnx.TensorElementDataTypeBool, 1},
}

// String names the types in the set, "float32|float16"; "any" for zero.
func (d DType) String() string {
	if d == 0 {
		return "any"
	}
	var parts []string
	for _, n := range dtypeNames {
		if d&n.d != 0 {
			parts = append(parts, n.name)
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("dtype(%#x)", uint16(d))
	}
	return strings.Join(parts, "|")
}

// Accepts reports whether a model tensor of type m fits the set d.
func (d DType) Accepts(m DType) bool { return d == 0 || (m != 0 && d&m == m) }

// size is the byte width of a single type (0 for sets and unknowns).
func (d DType) size() int {
	for _, n := range dtypeNames {
		if n.d == d {
			return n.size
		}
	}
	return 0
}

func (d DType) ort() onnx.TensorElementDataType {
	for _, n := range dtypeNames {
		if n.d == d {
			return n.ort
		}
	}
	return onnx.TensorElementDataTypeUndefined
}

// fromORT maps an ORT element type to a DType; unknown types give 0 and the
// ORT name for messages.
func fromORT(t onnx.TensorElementDataType) (DType, string) {
	for _, n := range dtypeNames {
		if n.ort == t {
			return n.d, n.name
		}
	}
	return 0, strings.ToLower(strings.TrimPrefix(t.String(), "ONNX_TENSOR_ELEMENT_DATA_TYPE_"))
}

// Float16Bits converts f to IEEE 754 binary16, rounding to nearest even;
// values beyond the range become ±Inf, NaN stays NaN. The normal range is
// a few integer operations with no branch on the dropped bits, small
// enough to inline: a million values convert in about a millisecond.
func Float16Bits(f float32) uint16 {
	b := math.Float32bits(f)
	if h, ok := float16Normal(b); ok {
		return h
	}
	return float16Edge(b)
}

// float16Normal converts float32 bits in binary16's normal range, 2^-14 <=
// |f| < 65536 (ok false elsewhere): rebias the exponent (−112 << 23) and
// round the 13 dropped bits to nearest even by adding 0xfff plus the kept
// mantissa's lowest bit; a carry may reach the exponent, up to Inf from
// 65520 on: correct. Inlined, also in fill's loop.
func float16Normal(b uint32) (uint16, bool) {
	abs := b & 0x7fffffff
	return uint16(b>>16)&0x8000 | uint16((abs+0xc8000fff+(abs>>13)&1)>>13), abs-0x38800000 < 0x47800000-0x38800000
}

// float16Edge is Float16Bits outside the normal range.
func float16Edge(b uint32) uint16 {
	sign := uint16(b>>16) & 0x8000
	abs := b & 0x7fffffff
	switch {
	case abs > 0x7f800000: // NaN
		return sign | 0x7e00
	case abs >= 0x47800000: // 65536 and beyond, Inf
		return sign | 0x7c00
	}
	// Under 2^-14: a subnormal half (or 0). Adding 0.5, whose float32
	// spacing is 2^-24, the half's subnormal step, rounds to nearest even in
	// the FPU; what is left above 0.5 is the half's mantissa (1024: the
	// smallest normal, 0x0400).
	return sign | uint16(math.Float32bits(math.Float32frombits(abs)+0.5)-0x3f000000)
}

// float16Table holds the float32 value of every binary16 bit pattern
// (256 KiB): a lookup is faster than decoding.
var float16Table = func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for h := range t {
		t[h] = float16Value(uint16(h))
	}
	return &t
}()

// Float16Value converts IEEE 754 binary16 bits to float32 (exactly).
func Float16Value(h uint16) float32 { return float16Table[h] }

func float16Value(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+127-15)<<23 | man<<13)
	case man == 0:
		return math.Float32frombits(sign)
	}
	// subnormal: man * 2^-24
	f := float32(man) * (1.0 / (1 << 24))
	if sign != 0 {
		f = -f
	}
	return f
}

// BFloat16Bits converts f to bfloat16, rounding to nearest even.
func BFloat16Bits(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 { // NaN: keep it quiet and NaN
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// BFloat16Value converts bfloat16 bits to float32 (exactly).
func BFloat16Value(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }
