package ort

import (
	"testing"

	"github.com/splatbench/splatbench/pipeline/ort/onnxtest"
)

// Tiny models for the tests, written into t.TempDir() by onnxtest.

func addModel(t testing.TB, dir string) string {
	shape := []int64{1, 3, 4, 4}
	return onnxtest.Model{
		Inputs:  []onnxtest.Value{onnxtest.V("a", onnxtest.Float, shape...), onnxtest.V("b", onnxtest.Float, shape...)},
		Outputs: []onnxtest.Value{onnxtest.V("sum", onnxtest.Float, shape...), onnxtest.V("prod", onnxtest.Float, shape...)},
		Nodes: []onnxtest.Node{
			{Op: "Add", Inputs: []string{"a", "b"}, Outputs: []string{"sum"}},
			{Op: "Mul", Inputs: []string{"a", "b"}, Outputs: []string{"prod"}},
		},
	}.Write(t, dir, "add.onnx")
}

func identityModel(t testing.TB, dir, name string, typ int, shape ...int64) string {
	return onnxtest.Model{
		Inputs:  []onnxtest.Value{onnxtest.V("x", typ, shape...)},
		Outputs: []onnxtest.Value{onnxtest.V("y", typ, shape...)},
		Nodes:   []onnxtest.Node{{Op: "Identity", Inputs: []string{"x"}, Outputs: []string{"y"}}},
	}.Write(t, dir, name)
}

func castModel(t testing.TB, dir string) string {
	return onnxtest.Model{
		Inputs:  []onnxtest.Value{onnxtest.V("ids", onnxtest.Int64, 1, 5)},
		Outputs: []onnxtest.Value{onnxtest.V("f", onnxtest.Float, 1, 5)},
		Nodes: []onnxtest.Node{{Op: "Cast", Inputs: []string{"ids"}, Outputs: []string{"f"},
			Attrs: []onnxtest.Attr{{Name: "to", Kind: "i", Int: onnxtest.Float}}}},
	}.Write(t, dir, "cast.onnx")
}

func dynamicModel(t testing.TB, dir string) string {
	return onnxtest.Model{
		Inputs:  []onnxtest.Value{onnxtest.V("x", onnxtest.Float, -1, 4)},
		Outputs: []onnxtest.Value{onnxtest.V("y", onnxtest.Float, -1, 4)},
		Nodes:   []onnxtest.Node{{Op: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}}},
	}.Write(t, dir, "relu.onnx")
}
