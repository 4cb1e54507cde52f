package ort

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/splatbench/splatbench/pipeline/ort/onnxtest"
)

func TestMismatches(t *testing.T) {
	t.Parallel()
	sig := &Signature{
		Path:    "m.onnx",
		Inputs:  []Tensor{T("input", Float16, 1, 3, 512, -1), T("extra", Int64, 1)},
		Outputs: []Tensor{T("output", Float32, 1, 1, 512, 512), T("side", Float32, 1)},
	}
	tests := []struct {
		name string
		spec Spec
		want []string
	}{
		{
			name: "fits: dynamic model dims and dtype sets",
			spec: Spec{
				Inputs:  []Tensor{T("input", Float32|Float16, 1, 3, 512, 512), T("extra", 0, -1)},
				Outputs: []Tensor{T("output", Float32, 1, 1, -1, -1)},
			},
		},
		{
			name: "every problem at once",
			spec: Spec{
				Inputs:  []Tensor{T("input", Float32, 1, 3, 1024, 1024), T("mask", Float32, 1)},
				Outputs: []Tensor{T("output", Float32, 1, 1, 512), T("alphas", Float32, 1)},
			},
			want: []string{
				`input "input": element type float16, want float32`,
				`input "input": dimension 2 is 512, want 1024 (shape [1 3 512 -1], want [1 3 1024 1024])`,
				`missing input "mask" (want float32 [1]); the model's inputs are ["input" "extra"]`,
				`output "output": rank 4 [1 1 512 512], want rank 3 [1 1 512]`,
				`missing output "alphas" (want float32 [1]); the model's outputs are ["output" "side"]`,
				`input "extra" (int64 [1]) is not one this stage feeds`,
			},
		},
		{
			name: "nil spec shape accepts any rank",
			spec: Spec{Inputs: []Tensor{{Name: "input"}, {Name: "extra"}}, Outputs: []Tensor{{Name: "side"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, sig.Mismatches(tt.spec)); diff != "" {
				t.Errorf("Mismatches (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMismatchErrorNamesFileOnEveryLine(t *testing.T) {
	t.Parallel()
	err := &MismatchError{Path: "dir/m.onnx", Problems: []string{"a", "b"}}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3: %q", len(lines), err)
	}
	for _, l := range lines {
		if !strings.Contains(l, "dir/m.onnx") {
			t.Errorf("line %q does not name the model", l)
		}
	}
}

func TestDTypeString(t *testing.T) {
	t.Parallel()
	for d, want := range map[DType]string{0: "any", Float32: "float32", Float32 | Float16: "float32|float16", Int64: "int64", 1 << 15: "dtype(0x8000)"} {
		if got := d.String(); got != want {
			t.Errorf("DType(%#x).String() = %q, want %q", uint16(d), got, want)
		}
	}
	if !(Float32 | Float16).Accepts(Float16) || Float32.Accepts(Float16) || !DType(0).Accepts(Int64) || Float32.Accepts(0) {
		t.Error("Accepts is wrong")
	}
}

func TestInspectBadFiles(t *testing.T) {
	rt := testRuntime(t)
	dir := t.TempDir()
	good := addModel(t, dir)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "none.onnx"), "file not found"},
		{"empty", write("empty.onnx", nil), "empty file"},
		{"text", write("text.onnx", []byte("this is a README, not a model\n")), "not a loadable ONNX model"},
		{"truncated", write("trunc.onnx", data[:len(data)*2/3]), "not a loadable ONNX model"},
		{"directory", dir, "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rt.Inspect(tt.path)
			if err == nil {
				t.Fatal("Inspect succeeded, want an error")
			}
			if msg := err.Error(); !strings.Contains(msg, tt.path) || !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line naming %s and saying %q", msg, tt.path, tt.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	rt := testRuntime(t)
	path := addModel(t, t.TempDir())
	sig, err := rt.Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Tensor{T("a", Float32, 1, 3, 4, 4), T("b", Float32, 1, 3, 4, 4)}
	if diff := cmp.Diff(want, sig.Inputs); diff != "" {
		t.Errorf("inputs (-want +got):\n%s", diff)
	}
	ok := Spec{Inputs: want, Outputs: []Tensor{T("prod", Float32, 1, 3, -1, -1)}}
	if err := rt.Check(path, ok); err != nil {
		t.Errorf("Check(fitting spec) = %v", err)
	}
	if err := Check(path, ok); err != nil {
		t.Errorf("package Check(fitting spec) = %v", err)
	}
	bad := Spec{Inputs: []Tensor{T("a", Float16, 1, 3, 8, 4)}, Outputs: []Tensor{T("out", Float32)}}
	err = rt.Check(path, bad)
	var me *MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("Check(bad spec) = %v, want a *MismatchError", err)
	}
	if len(me.Problems) != 4 { // dtype, dim 2, missing output, unfed input b
		t.Errorf("got %d problems, want 4:\n%v", len(me.Problems), err)
	}
}

// TestInspectNeedsGPU: a bfloat16 MatMul has no CPU kernel, so the CPU
// provider cannot even open the model to read its inputs (as BFL's bf16
// FLUX transformer); without a GPU provider the error says what is needed
// and which operator lacks a kernel.
// ONNX Runtime's words for a missing kernel, as its versions give them.
func TestLacksKernel(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want bool
	}{
		// 1.30, the CPU library (this workplace), on a contrib operator.
		{"Error loading temporary session: Could not find an implementation for GroupNorm(1) node with name 'GroupNorm_a'", true},
		// 1.29 with the CUDA provider (the GPU machine), on the same operator.
		{"Error loading temporary session: Failed to find kernel for com.microsoft.GroupNorm(1) (node:'groupnorm_0' ep:'CPUExecutionProvider'). Kernel not found", true},
		{"Error loading temporary session: Could not find an implementation for MatMul(13) node with name 'MatMul_a'", true},
		{"Load model from m.onnx failed: Protobuf parsing failed.", false},
	} {
		if got := lacksKernel(errors.New(tc.msg)); got != tc.want {
			t.Errorf("lacksKernel(%q) = %v, want %v", tc.msg, got, tc.want)
		}
	}
}

// A model with an operator only a GPU provider runs is inspected through
// that provider; without one, the error names the file and the operator.
// Two kinds: a standard operator of a type the CPU provider lacks, and a
// contrib operator it has no kernel for (the fused VAE's GroupNorm).
func TestInspectNeedsGPU(t *testing.T) {
	rt := testRuntime(t)
	if slices.Contains(rt.Providers(), CUDA) {
		t.Skip("this library has the CUDA provider")
	}
	for _, tc := range []struct {
		name string
		node onnxtest.Node
		typ  int
	}{
		{"bf16 MatMul", onnxtest.Node{Op: "MatMul", Inputs: []string{"a", "b"}, Outputs: []string{"c"}}, onnxtest.BFloat16},
		{"contrib GroupNorm", onnxtest.Node{Op: "GroupNorm", Domain: "com.microsoft", Inputs: []string{"a", "b", "b"}, Outputs: []string{"c"},
			Attrs: []onnxtest.Attr{{Name: "groups", Kind: "i", Int: 1}, {Name: "activation", Kind: "i", Int: 0}, {Name: "epsilon", Kind: "f", Float: 1e-5}}},
			onnxtest.Float},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := onnxtest.V("b", tc.typ, 2, 2)
			if tc.node.Op == "GroupNorm" { // NHWC input, per-channel gamma and beta
				b = onnxtest.V("b", tc.typ, 2)
			}
			path := onnxtest.Model{
				Inputs:  []onnxtest.Value{onnxtest.V("a", tc.typ, 1, 2, 2, 2), b},
				Outputs: []onnxtest.Value{onnxtest.V("c", tc.typ, 1, 2, 2, 2)},
				Nodes:   []onnxtest.Node{tc.node},
			}.Write(t, t.TempDir(), "gpu-only.onnx")
			_, err := rt.Inspect(path)
			if err == nil || !strings.Contains(err.Error(), "needs the CUDA provider") || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.node.Op) {
				t.Fatalf("Inspect = %v, want an error naming the file, the operator and saying it needs the CUDA provider", err)
			}
		})
	}
}
