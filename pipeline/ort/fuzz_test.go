package ort

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splatbench/splatbench/pipeline/ort/onnxtest"
)

// FuzzInspect feeds arbitrary bytes to Inspect as a model file: it must
// return a signature or an error naming the file, never crash.
func FuzzInspect(f *testing.F) {
	valid := onnxtest.Model{
		Inputs:  []onnxtest.Value{onnxtest.V("x", onnxtest.Float, 1, 4)},
		Outputs: []onnxtest.Value{onnxtest.V("y", onnxtest.Float, 1, 4)},
		Nodes:   []onnxtest.Node{{Op: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}}},
	}.Bytes()
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte("not a model"))
	f.Add([]byte{0x08, 0x08, 0x3a, 0x02, 0x12, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		rt := testRuntime(t)
		path := filepath.Join(t.TempDir(), "m.onnx")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		sig, err := rt.Inspect(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		_ = sig.Mismatches(Spec{Inputs: []Tensor{T("x", Float32, 1, 4)}})
	})
}
