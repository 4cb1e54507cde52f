// Package onnxtest writes tiny ONNX models for tests: a hand-written
// protobuf encoder for the few ModelProto fields a small graph needs
// (opset import, graph inputs/outputs with shapes, nodes with int/float/ints
// attributes, float32 initializers). Models get the input and output
// signatures of the real ones with trivial bodies, so the code that loads,
// checks and runs them can be tested without the multi-gigabyte weights.
package onnxtest

import (
	"encoding/binary"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// ONNX TensorProto.DataType values.
const (
	Float    = 1
	Uint8    = 2
	Int8     = 3
	Int32    = 6
	Int64    = 7
	Bool     = 9
	Float16  = 10
	Double   = 11
	BFloat16 = 16
)

// Value is a graph input or output. A negative dimension is written as a
// symbolic (dynamic) one.
type Value struct {
	Name  string
	Type  int
	Shape []int64
}

// Attr is a node attribute: exactly one of Int, Float, Ints is used, as
// Kind says ("i", "f", "ints").
type Attr struct {
	Name  string
	Kind  string
	Int   int64
	Float float32
	Ints  []int64
}

// Node is one operator application. Domain "" is ONNX's own; any other
// (com.microsoft: ONNX Runtime's contrib operators) is imported at version 1.
type Node struct {
	Op      string
	Domain  string
	Inputs  []string
	Outputs []string
	Attrs   []Attr
}

// Init is an initializer (constant): float32 Values, or int64 Ints when
// Ints is not nil.
type Init struct {
	Name   string
	Shape  []int64
	Values []float32
	Ints   []int64
}

// Model is a single-graph ONNX model in the default domain.
type Model struct {
	Opset   int64 // default 17
	Inputs  []Value
	Outputs []Value
	Nodes   []Node
	Inits   []Init
	// Metadata is written as metadata_props, in key order.
	Metadata map[string]string
}

// Bytes encodes the model as ONNX protobuf (IR version 8).
func (m Model) Bytes() []byte {
	opset := m.Opset
	if opset == 0 {
		opset = 17
	}
	var g buf
	for i, n := range m.Nodes {
		var nb buf
		for _, in := range n.Inputs {
			nb.str(1, in)
		}
		for _, out := range n.Outputs {
			nb.str(2, out)
		}
		nb.str(3, n.Op+"_"+string(rune('a'+i%26)))
		nb.str(4, n.Op)
		for _, a := range n.Attrs {
			nb.msg(5, attr(a))
		}
		if n.Domain != "" {
			nb.str(7, n.Domain)
		}
		g.msg(1, nb)
	}
	g.str(2, "onnxtest")
	for _, in := range m.Inits {
		var tb buf
		for _, d := range in.Shape {
			tb.varint(1, uint64(d))
		}
		var raw []byte
		if in.Ints != nil {
			tb.varint(2, Int64)
			for _, v := range in.Ints {
				raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
			}
		} else {
			tb.varint(2, Float)
			for _, v := range in.Values {
				raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
			}
		}
		tb.str(8, in.Name)
		tb.bytes(9, raw)
		g.msg(5, tb)
	}
	for _, v := range m.Inputs {
		g.msg(11, valueInfo(v))
	}
	for _, v := range m.Outputs {
		g.msg(12, valueInfo(v))
	}
	var mb buf
	mb.varint(1, 8) // ir_version
	mb.str(2, "splatbench-onnxtest")
	mb.msg(7, g)
	var op buf
	op.str(1, "")
	op.varint(2, uint64(opset))
	mb.msg(8, op)
	var domains []string
	for _, n := range m.Nodes {
		if n.Domain != "" && !slices.Contains(domains, n.Domain) {
			domains = append(domains, n.Domain)
			var d buf
			d.str(1, n.Domain)
			d.varint(2, 1)
			mb.msg(8, d)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m.Metadata)) {
		var e buf
		e.str(1, k)
		e.str(2, m.Metadata[k])
		mb.msg(14, e)
	}
	return mb
}

// Write saves the model as dir/name and returns the path.
func (m Model) Write(t testing.TB, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, m.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func attr(a Attr) buf {
	var b buf
	b.str(1, a.Name)
	switch a.Kind {
	case "f":
		b.tag(2, 5)
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(a.Float))
		b.varint(20, 1)
	case "i":
		b.varint(3, uint64(a.Int))
		b.varint(20, 2)
	case "ints":
		for _, v := range a.Ints {
			b.varint(8, uint64(v))
		}
		b.varint(20, 7)
	}
	return b
}

func valueInfo(v Value) buf {
	var shape buf
	for i, d := range v.Shape {
		var dim buf
		if d >= 0 {
			dim.varint(1, uint64(d))
		} else {
			dim.str(2, v.Name+"_d"+string(rune('0'+i)))
		}
		shape.msg(1, dim)
	}
	var tensor buf
	tensor.varint(1, uint64(v.Type))
	tensor.msg(2, shape)
	var typ buf
	typ.msg(1, tensor)
	var vi buf
	vi.str(1, v.Name)
	vi.msg(2, typ)
	return vi
}

// buf is a protobuf writer for the wire types ONNX needs.
type buf []byte

func (b *buf) tag(field, wire int) { *b = binary.AppendUvarint(*b, uint64(field<<3|wire)) }

func (b *buf) varint(field int, v uint64) {
	b.tag(field, 0)
	*b = binary.AppendUvarint(*b, v)
}

func (b *buf) bytes(field int, v []byte) {
	b.tag(field, 2)
	*b = binary.AppendUvarint(*b, uint64(len(v)))
	*b = append(*b, v...)
}

func (b *buf) str(field int, s string) { b.bytes(field, []byte(s)) }
func (b *buf) msg(field int, m buf)    { b.bytes(field, m) }

// V builds a Value: V("input", Float, 1, 3, 1024, 1024).
func V(name string, typ int, shape ...int64) Value {
	return Value{Name: name, Type: typ, Shape: shape}
}

// Signature returns a model with the given inputs and outputs whose float32
// outputs are zeros made by ConstantOfShape (dynamic dimensions become 1);
// the inputs are declared and unused. An output with dynamic dimensions gets
// its shape from an initializer that is also a graph input (ONNX Runtime
// lists it with the overridable initializers, not the inputs), so that it
// stays dynamic. It stands in for a real model when
// only the signature matters.
func Signature(inputs, outputs []Value) Model {
	m := Model{Inputs: inputs, Outputs: outputs}
	for _, o := range outputs {
		shape := make([]int64, len(o.Shape))
		for i, d := range o.Shape {
			shape[i] = max(d, 1)
		}
		m.Inits = append(m.Inits, Init{Name: o.Name + "_shape", Shape: []int64{int64(len(shape))}, Ints: shape})
		if slices.ContainsFunc(o.Shape, func(d int64) bool { return d < 0 }) {
			// An initializer that is also a graph input may be overridden,
			// so shape inference cannot fix the output's dynamic dims.
			m.Inputs = append(m.Inputs, V(o.Name+"_shape", Int64, int64(len(shape))))
		}
		m.Nodes = append(m.Nodes, Node{Op: "ConstantOfShape", Inputs: []string{o.Name + "_shape"}, Outputs: []string{o.Name}})
	}
	return m
}
