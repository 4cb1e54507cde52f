package ort

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/splatbench/splatbench/pipeline/ort/onnxtest"
)

// staticSession opens the test model (prod and sum of a and b, all
// 1×3×4×4) on the CPU.
func staticSession(t *testing.T) *Session {
	t.Helper()
	rt := testRuntime(t)
	path := addModel(t, t.TempDir())
	spec := Spec{
		Inputs:  []Tensor{T("a", Float32, 1, 3, 4, 4), T("b", Float32, 1, 3, 4, 4)},
		Outputs: []Tensor{T("prod", Float32, 1, 3, 4, 4), T("sum", Float32, 1, 3, 4, 4)},
	}
	s, err := rt.NewSession(context.Background(), path, spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSessionRunStatic(t *testing.T) {
	s := staticSession(t)
	defer s.Close()
	if s.Provider() != CPU {
		t.Errorf("Provider() = %q, want cpu", s.Provider())
	}
	a, b := make([]float32, 48), make([]float32, 48)
	// Twice, to exercise the reused tensors.
	for round := range 2 {
		for i := range a {
			a[i], b[i] = float32(i+round), 0.5
		}
		out, err := s.Run(context.Background(), a, b)
		if err != nil {
			t.Fatal(err)
		}
		for i := range a {
			if out[0][i] != a[i]*0.5 || out[1][i] != a[i]+0.5 {
				t.Fatalf("round %d, element %d: prod %v sum %v, want %v %v", round, i, out[0][i], out[1][i], a[i]*0.5, a[i]+0.5)
			}
		}
	}
	// Results belong to the caller: a later run does not overwrite them.
	first, _ := s.Run(context.Background(), a, b)
	keep := first[0][3]
	a[3] = 1000
	if _, err := s.Run(context.Background(), a, b); err != nil {
		t.Fatal(err)
	}
	if first[0][3] != keep {
		t.Error("Run's result was overwritten by the next run")
	}
}

func TestSessionRunErrors(t *testing.T) {
	rt := testRuntime(t)
	path := addModel(t, t.TempDir())
	spec := Spec{Inputs: []Tensor{T("a", Float32), T("b", Float32)}, Outputs: []Tensor{T("sum", Float32)}}
	s, err := rt.NewSession(context.Background(), path, spec, []string{"cpu"})
	if err != nil {
		t.Fatal(err)
	}
	ok := make([]float32, 48)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		in   [][]float32
		want string
	}{
		{"too few inputs", context.Background(), [][]float32{ok}, "1 inputs given, the session takes 2"},
		{"wrong length", context.Background(), [][]float32{ok, ok[:47]}, `input "b": shape [1 3 4 4] holds 48 values, got 47`},
		{"cancelled", cancelled, [][]float32{ok, ok}, "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Run(tt.ctx, tt.in...)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("Run = %v, want an error naming %s and saying %q", err, path, tt.want)
			}
		})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(context.Background(), ok, ok); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Run after Close = %v, want 'closed'", err)
	}
}

func TestSessionConversions(t *testing.T) {
	rt := testRuntime(t)
	dir := t.TempDir()
	tests := []struct {
		name  string
		path  string
		spec  Spec
		in    []float32
		want  []float32
		dtype DType
	}{
		{
			name: "float16 in and out", dtype: Float16,
			path: identityModel(t, dir, "f16.onnx", onnxtest.Float16, 2, 3),
			spec: Spec{Inputs: []Tensor{T("x", Float32|Float16)}, Outputs: []Tensor{T("y", Float32|Float16)}},
			in:   []float32{1, -2.5, 1.0 / 3, 65504, 1e6, 1e-8},
			want: []float32{1, -2.5, 0.333251953125, 65504, float32Inf(), 0},
		},
		{
			name: "bfloat16 in and out", dtype: BFloat16,
			path: identityModel(t, dir, "bf16.onnx", onnxtest.BFloat16, 4),
			spec: Spec{Inputs: []Tensor{T("x", 0)}, Outputs: []Tensor{T("y", 0)}},
			in:   []float32{1, 1.0 / 3, 257, -3},
			want: []float32{1, 0.333984375, 256, -3},
		},
		{
			name: "uint8 rounds and clamps", dtype: Uint8,
			path: identityModel(t, dir, "u8.onnx", onnxtest.Uint8, 5),
			spec: Spec{Inputs: []Tensor{T("x", Uint8)}, Outputs: []Tensor{T("y", Uint8)}},
			in:   []float32{-3, 0.5, 1.5, 254.6, 300},
			want: []float32{0, 0, 2, 255, 255},
		},
		{
			name: "int64 token ids", dtype: Int64,
			path: castModel(t, dir),
			spec: Spec{Inputs: []Tensor{T("ids", Int64, 1, 5)}, Outputs: []Tensor{T("f", Float32, 1, 5)}},
			in:   []float32{49406, 320, 1125, 49407, 0},
			want: []float32{49406, 320, 1125, 49407, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := rt.NewSession(context.Background(), tt.path, tt.spec, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := s.Inputs()[0].DType; got != tt.dtype {
				t.Errorf("input dtype %v, want %v", got, tt.dtype)
			}
			out, err := s.Run(context.Background(), tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, out[0]); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSessionDynamicShapes(t *testing.T) {
	rt := testRuntime(t)
	path := dynamicModel(t, t.TempDir())
	s, err := rt.NewSession(context.Background(), path, Spec{Inputs: []Tensor{T("x", Float32, -1, 4)}, Outputs: []Tensor{T("y", Float32, -1, 4)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, rows := range []int64{1, 3} {
		in := make([]float32, 4*rows)
		for i := range in {
			in[i] = float32(i) - 2
		}
		out, err := s.RunData(context.Background(), []Data{{Shape: []int64{rows, 4}, Values: in}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]int64{rows, 4}, out[0].Shape); diff != "" {
			t.Errorf("shape (-want +got):\n%s", diff)
		}
		for i, v := range out[0].Values {
			if want := max(in[i], 0); v != want {
				t.Errorf("rows %d, element %d = %v, want %v", rows, i, v, want)
			}
		}
	}
	if _, err := s.Run(context.Background(), make([]float32, 4)); err == nil || !strings.Contains(err.Error(), "dynamic, give its size") {
		t.Errorf("Run without a shape on a dynamic input = %v", err)
	}
}

func TestSessionProviderFallback(t *testing.T) {
	rt := testRuntime(t)
	var logs bytes.Buffer
	saved := rt.log
	rt.log = slog.New(slog.NewTextHandler(&logs, nil))
	defer func() { rt.log = saved }()
	path := addModel(t, t.TempDir())
	spec := Spec{Inputs: []Tensor{T("a", Float32), T("b", Float32)}, Outputs: []Tensor{T("sum", Float32)}}
	var order []string
	for _, p := range []string{"tensorrt", "cuda", "rocm"} {
		if rt.Unavailable(p) != "" || p == "rocm" {
			order = append(order, p)
		}
	}
	s, err := rt.NewSession(context.Background(), path, spec, order)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Provider() != CPU {
		t.Errorf("Provider() = %q, want cpu after %v failed", s.Provider(), order)
	}
	for _, p := range order {
		if !strings.Contains(logs.String(), p+" unavailable") {
			t.Errorf("log does not say why %s was skipped:\n%s", p, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "using=cpu") {
		t.Errorf("log does not say cpu served:\n%s", logs.String())
	}
}

func TestNewSessionMismatch(t *testing.T) {
	rt := testRuntime(t)
	path := addModel(t, t.TempDir())
	_, err := rt.NewSession(context.Background(), path, Spec{Inputs: []Tensor{T("input", Float32)}}, nil)
	if err == nil || !strings.Contains(err.Error(), `missing input "input"`) {
		t.Errorf("NewSession with a wrong spec = %v", err)
	}
}

func TestSessionWarmUp(t *testing.T) {
	rt := testRuntime(t)
	dir := t.TempDir()
	static := Spec{
		Inputs:  []Tensor{T("a", Float32, 1, 3, 4, 4), T("b", Float32, 1, 3, 4, 4)},
		Outputs: []Tensor{T("sum", Float32, 1, 3, 4, 4)},
	}
	dynamic := Spec{Inputs: []Tensor{T("x", Float32, -1, 4)}, Outputs: []Tensor{T("y", Float32, -1, 4)}}
	for _, tc := range []struct {
		name    string
		path    string
		spec    Spec
		close   bool
		runs    int64  // the session's runs after the warm-up
		wantErr string // "" for none
	}{
		{"static", addModel(t, dir), static, false, 1, ""},
		{"dynamic", dynamicModel(t, dir), dynamic, false, 0, `input "x" has a dynamic shape [-1 4]`},
		{"closed", addModel(t, dir), static, true, 0, "warm-up: model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := rt.NewSession(t.Context(), tc.path, tc.spec, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if tc.close {
				s.Close()
			}
			err = s.WarmUp(t.Context())
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("WarmUp = %v, want error containing %q", err, tc.wantErr)
			}
			if got := s.runs.Load(); got != tc.runs {
				t.Errorf("runs after WarmUp = %d, want %d", got, tc.runs)
			}
		})
	}
}
