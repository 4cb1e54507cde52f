package ort

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/splatbench/splatbench/pipeline/ort/onnxtest"
)

// A profile in ONNX Runtime's format (the fields it writes for a session
// with a CUDA provider): session events are ignored, node kernel times are
// counted by provider.
const cudaProfile = `[
{"cat":"Session","pid":1,"tid":1,"dur":90000,"ts":1,"ph":"X","name":"model_loading_uri","args":{}},
{"cat":"Node","pid":1,"tid":1,"dur":3,"ts":10,"ph":"X","name":"/Shape_fence_before","args":{"op_name":"Shape"}},
{"cat":"Node","pid":1,"tid":1,"dur":2,"ts":10,"ph":"X","name":"/Shape_kernel_time","args":{"op_name":"Shape","provider":"CPUExecutionProvider","activation_size":"8192","output_size":"24","thread_scheduling_stats":""}},
{"cat":"Node","pid":1,"tid":1,"dur":4,"ts":12,"ph":"X","name":"/Gather_kernel_time","args":{"op_name":"Gather","provider":"CPUExecutionProvider","activation_size":"32","output_size":"8"}},
{"cat":"Node","pid":1,"tid":1,"dur":5000,"ts":20,"ph":"X","name":"/MatMul_kernel_time","args":{"op_name":"MatMul","provider":"CUDAExecutionProvider",
  "input_type_shape":[{"float16":[1,1024,3072]},{"float16":[3072,3072]}],"output_type_shape":[{"float16":[1,1024,3072]}],
  "activation_size":"6291456","parameter_size":"18874368","output_size":"6291456"}},
{"cat":"Node","pid":1,"tid":1,"dur":994,"ts":30,"ph":"X","name":"/Softmax_kernel_time","args":{"op_name":"Softmax","provider":"CUDAExecutionProvider"}},
{"cat":"Session","pid":1,"tid":1,"dur":7000,"ts":40,"ph":"X","name":"model_run","args":{}}
]`

func TestParseProfile(t *testing.T) {
	tests := []struct {
		name      string
		profile   string
		provider  string
		want      *Placement
		fallback  bool
		wantShare float64
		wantErr   string
	}{
		{name: "shape ops on the cpu", profile: cudaProfile, provider: "CUDAExecutionProvider",
			want: &Placement{Provider: CUDA, Nodes: map[string]int{CPU: 2, CUDA: 2},
				Time:   map[string]time.Duration{CPU: 6 * time.Microsecond, CUDA: 5994 * time.Microsecond},
				OpTime: map[string]time.Duration{"Shape": 2 * time.Microsecond, "Gather": 4 * time.Microsecond, "MatMul": 5 * time.Millisecond, "Softmax": 994 * time.Microsecond},
				CPUOps: map[string]int{"Shape": 1, "Gather": 1}, CPUWork: map[string]int{}},
			wantShare: 0.001},
		{name: "of two runs the last counts", provider: CUDA,
			profile: `[{"cat":"Session","ts":100,"dur":50,"name":"model_run","args":{}},
			           {"cat":"Node","ts":110,"dur":40,"name":"m_kernel_time","args":{"op_name":"MatMul","provider":"CUDAExecutionProvider"}},
			           {"cat":"Session","ts":200,"dur":20,"name":"model_run","args":{}},
			           {"cat":"Node","ts":205,"dur":10,"name":"m_kernel_time","args":{"op_name":"MatMul","provider":"CUDAExecutionProvider"}},
			           {"cat":"Node","ts":215,"dur":2,"name":"s_kernel_time","args":{"op_name":"Shape","provider":"CPUExecutionProvider"}}]`,
			want: &Placement{Provider: CUDA, Nodes: map[string]int{CPU: 1, CUDA: 1},
				Time:   map[string]time.Duration{CPU: 2 * time.Microsecond, CUDA: 10 * time.Microsecond},
				OpTime: map[string]time.Duration{"MatMul": 10 * time.Microsecond, "Shape": 2 * time.Microsecond},
				CPUOps: map[string]int{"Shape": 1}, CPUWork: map[string]int{}},
			wantShare: 2.0 / 12},
		{name: "real work on the cpu", provider: CUDA,
			profile: `[{"cat":"Node","dur":900,"name":"c_kernel_time","args":{"op_name":"Conv","provider":"CPUExecutionProvider","activation_size":"4194304","output_size":"4194304"}},
			           {"cat":"Node","dur":1,"name":"q_kernel_time","args":{"op_name":"DequantizeLinear","provider":"CPUExecutionProvider","activation_size":12,"output_size":"65536"}},
			           {"cat":"Node","dur":100,"name":"m_kernel_time","args":{"op_name":"MatMul","provider":"CUDAExecutionProvider"}}]`,
			want: &Placement{Provider: CUDA, Nodes: map[string]int{CPU: 2, CUDA: 1},
				Time:   map[string]time.Duration{CPU: 901 * time.Microsecond, CUDA: 100 * time.Microsecond},
				OpTime: map[string]time.Duration{"Conv": 900 * time.Microsecond, "DequantizeLinear": time.Microsecond, "MatMul": 100 * time.Microsecond},
				CPUOps: map[string]int{"Conv": 1, "DequantizeLinear": 1}, CPUWork: map[string]int{"Conv": 1, "DequantizeLinear": 1}},
			fallback: true, wantShare: 901.0 / 1001},
		{name: "a large share of small nodes is no fallback", provider: CUDA,
			profile: `[{"cat":"Node","dur":900,"name":"g_kernel_time","args":{"op_name":"Gather","provider":"CPUExecutionProvider","activation_size":"oops","output_size":"65535"}},
			           {"cat":"Node","dur":100,"name":"m_kernel_time","args":{"op_name":"MatMul","provider":"CUDAExecutionProvider"}}]`,
			want: &Placement{Provider: CUDA, Nodes: map[string]int{CPU: 1, CUDA: 1},
				Time:   map[string]time.Duration{CPU: 900 * time.Microsecond, CUDA: 100 * time.Microsecond},
				OpTime: map[string]time.Duration{"Gather": 900 * time.Microsecond, "MatMul": 100 * time.Microsecond},
				CPUOps: map[string]int{"Gather": 1}, CPUWork: map[string]int{}},
			wantShare: 0.9},
		{name: "all on the cpu though cuda was asked", provider: CUDA,
			profile: `[{"cat":"Node","dur":0,"name":"a_kernel_time","args":{"op_name":"Add","provider":"CPUExecutionProvider"}}]`,
			want: &Placement{Provider: CUDA, Nodes: map[string]int{CPU: 1},
				Time: map[string]time.Duration{CPU: 0}, OpTime: map[string]time.Duration{"Add": 0}, CPUOps: map[string]int{"Add": 1}, CPUWork: map[string]int{}},
			fallback: true},
		{name: "cpu session", provider: CPU,
			profile: `[{"cat":"Node","dur":5,"name":"a_kernel_time","args":{"op_name":"Add","provider":"CPUExecutionProvider"}}]`,
			want: &Placement{Provider: CPU, Nodes: map[string]int{CPU: 1},
				Time: map[string]time.Duration{CPU: 5 * time.Microsecond}, OpTime: map[string]time.Duration{"Add": 5 * time.Microsecond},
				CPUOps: map[string]int{"Add": 1}, CPUWork: map[string]int{}},
			wantShare: 1},
		{name: "not json", profile: `{"cat":`, wantErr: "not an ONNX Runtime profile"},
		{name: "object not array", profile: `{"cat":"Node"}`, wantErr: "not an ONNX Runtime profile"},
		{name: "negative duration", profile: `[{"cat":"Node","dur":-1,"name":"a_kernel_time","args":{"provider":"CPUExecutionProvider"}}]`, wantErr: "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProfile(strings.NewReader(tt.profile), tt.provider)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// TestProfileWork checks the work.
			ignoreWork := cmpopts.IgnoreFields(Placement{}, "FLOPs", "Bytes", "work")
			if d := cmp.Diff(tt.want, got, ignoreWork); d != "" {
				t.Errorf("placement (-want +got):\n%s", d)
			}
			if got.Fallback() != tt.fallback {
				t.Errorf("Fallback() = %v, want %v (%s)", got.Fallback(), tt.fallback, got)
			}
			if s := got.CPUShare(); s < tt.wantShare-1e-9 || s > tt.wantShare+1e-9 {
				t.Errorf("CPUShare() = %g, want %g", s, tt.wantShare)
			}
		})
	}
}

// TestPlacementString: a GPU session's node times are host times (launches),
// a CPU session's are its kernels'.
func TestPlacementString(t *testing.T) {
	tests := []struct {
		provider, want string
	}{
		{CUDA, "cuda 2 nodes 5.99 ms, cpu 2 nodes 0.01 ms (cpu 0.1% of host time: Gather×1 Shape×1); " +
			"host time by operator: MatMul 83% Softmax 17% Gather 0% Shape 0%; " +
			"work 19.3 GFLOP (MatMul 100%), 31.5 MB moved (MatMul 100%)"},
		{CPU, "cpu 2 nodes 0.01 ms, cuda 2 nodes 5.99 ms; " +
			"kernel time by operator: MatMul 83% Softmax 17% Gather 0% Shape 0%; " +
			"work 19.3 GFLOP (MatMul 100%), 31.5 MB moved (MatMul 100%)"},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			p, err := ParseProfile(strings.NewReader(cudaProfile), tt.provider)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.String(); got != tt.want {
				t.Errorf("String() =\n  %q\nwant\n  %q", got, tt.want)
			}
		})
	}
}

// TestProbeCPU profiles a real run: the profile ONNX Runtime writes is the
// reference for the parser.
func TestProbeCPU(t *testing.T) {
	rt := testRuntime(t)
	path := addModel(t, t.TempDir())
	in := []Tensor{T("a", Float32, 1, 3, 4, 4), T("b", Float32, 1, 3, 4, 4)}
	p, err := rt.Probe(context.Background(), path, in, []string{"sum", "prod"}, "cpu")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{CPU: 2}
	if d := cmp.Diff(want, p.Nodes); d != "" {
		t.Errorf("nodes (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]int{"Add": 1, "Mul": 1}, p.CPUOps); d != "" {
		t.Errorf("cpu ops (-want +got):\n%s", d)
	}
	if p.Model != path || p.Fallback() {
		t.Errorf("Model %q Fallback %v, want %q false", p.Model, p.Fallback(), path)
	}
	if len(p.CPUWork) != 0 {
		t.Errorf("CPUWork %v for 192-byte tensors, want none", p.CPUWork)
	}
	// ORT's own sizes: a 256 KiB tensor is work.
	big := identityModel(t, t.TempDir(), "big.onnx", onnxtest.Float, 1, 65536)
	p, err = rt.Probe(context.Background(), big, []Tensor{T("x", 0, 1, 65536)}, []string{"y"}, CPU)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]int{"Identity": 1}, p.CPUWork); d != "" {
		t.Errorf("CPUWork (-want +got):\n%s", d)
	}
}

// TestProbeHalfOutputs: a float16 output of dynamic shape is one the Go
// binding cannot hand back (it returned a typed nil and an error, and the
// probe crashed on the H200); the run happened, so the profile answers.
func TestProbeHalfOutputs(t *testing.T) {
	rt := testRuntime(t)
	dir := t.TempDir()
	for _, typ := range []int{onnxtest.Float16, onnxtest.BFloat16} {
		path := identityModel(t, dir, fmt.Sprintf("id%d.onnx", typ), typ, -1, 4)
		p, err := rt.Probe(context.Background(), path, []Tensor{T("x", 0, 3, 4)}, []string{"y"}, CPU)
		if err != nil {
			t.Fatalf("type %d: %v", typ, err)
		}
		if p.Nodes[CPU] != 1 {
			t.Errorf("type %d: nodes %v, want one on the cpu", typ, p.Nodes)
		}
	}
}

func TestProbeErrors(t *testing.T) {
	rt := testRuntime(t)
	path := addModel(t, t.TempDir())
	in := []Tensor{T("a", Float32, 1, 3, 4, 4), T("b", Float32, 1, 3, 4, 4)}
	tests := []struct {
		name     string
		in       []Tensor
		provider string
		want     string
	}{
		{"unknown input", []Tensor{T("zz", Float32, 1)}, CPU, `no input "zz"`},
		{"dynamic shape", []Tensor{T("a", Float32, -1, 3, 4, 4), in[1]}, CPU, "not concrete"},
		{"wrong shape", []Tensor{T("a", Float32, 2, 3, 4, 4), in[1]}, CPU, "run"},
		{"unknown provider", in, "tpu", "unknown execution provider"},
	}
	if !contains(rt.Providers(), CUDA) {
		tests = append(tests, struct {
			name     string
			in       []Tensor
			provider string
			want     string
		}{"cuda missing from this build", in, CUDA, "provider cuda"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rt.Probe(context.Background(), path, tt.in, []string{"sum"}, tt.provider)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want one naming %s and containing %q", err, path, tt.want)
			}
		})
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestPlacementsSkipCPUSessions: a CPU session needs no probe, and a closed
// session leaves the runtime's list.
func TestPlacementsSkipCPUSessions(t *testing.T) {
	rt := testRuntime(t)
	path := addModel(t, t.TempDir())
	spec := Spec{Inputs: []Tensor{T("a", Float32, 1, 3, 4, 4), T("b", Float32, 1, 3, 4, 4)}, Outputs: []Tensor{T("sum", Float32, 1, 3, 4, 4)}}
	s, err := rt.NewSession(context.Background(), path, spec, []string{CPU})
	if err != nil {
		t.Fatal(err)
	}
	if !rt.isOpen(s) {
		t.Error("a new session is not in the runtime's open list")
	}
	ps, err := rt.Placements(context.Background())
	if err != nil || len(ps) != 0 {
		t.Errorf("Placements = %v, %v; want none for a CPU session", ps, err)
	}
	s.Close()
	if rt.isOpen(s) {
		t.Error("a closed session is still in the runtime's open list")
	}
}

// TestPlacementOfLastRun: the probe runs a session's model with the shapes
// of its last run (a dynamic dimension of 5, not 1), and the answer carries
// the session's run count.
func TestPlacementOfLastRun(t *testing.T) {
	rt := testRuntime(t)
	f := onnxtest.Float
	path := onnxtest.Model{
		Inputs:  []onnxtest.Value{onnxtest.V("a", f, -1, 16), onnxtest.V("b", f, 16, 32)},
		Outputs: []onnxtest.Value{onnxtest.V("y", f, -1, 32)},
		Nodes:   []onnxtest.Node{{Op: "MatMul", Inputs: []string{"a", "b"}, Outputs: []string{"y"}}},
	}.Write(t, t.TempDir(), "mm.onnx")
	spec := Spec{Inputs: []Tensor{T("a", Float32, -1, 16), T("b", Float32, 16, 32)}, Outputs: []Tensor{T("y", Float32, -1, 32)}}
	s, err := rt.NewSession(context.Background(), path, spec, []string{CPU})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.ProbeShapes()[0].Shape; !slices.Equal(got, []int64{1, 16}) {
		t.Errorf("before a run: probe shape %v, want [1 16]", got)
	}
	for _, m := range []int64{3, 5} {
		in := []Data{{Shape: []int64{m, 16}, Values: make([]float32, m*16)}, {Values: make([]float32, 16*32)}}
		if _, err := s.RunData(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	p, err := rt.placementOf(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if p.Runs != 2 || p.TotalFLOPs() != 2*5*32*16 {
		t.Errorf("Runs %d, FLOPs %g; want 2 and %d (the last run's 5 rows)", p.Runs, p.TotalFLOPs(), 2*5*32*16)
	}
}

func (rt *Runtime) isOpen(s *Session) bool {
	rt.openMu.Lock()
	defer rt.openMu.Unlock()
	for _, o := range rt.open {
		if o == s {
			return true
		}
	}
	return false
}

func FuzzParseProfile(f *testing.F) {
	f.Add([]byte(cudaProfile), "cuda")
	f.Add([]byte(`[]`), "cpu")
	f.Add([]byte(`[{"cat":"Node","dur":1e300,"name":"x_kernel_time","args":{"provider":"X"}}]`), "cuda")
	f.Add([]byte(`[{"cat":"Node","dur":1,"name":"m_kernel_time","args":{"op_name":"MatMul","provider":"X",
		"input_type_shape":[{"float":[1099511627776,1099511627776,1099511627776]}],"output_type_shape":[{"float":[9,9]}],
		"activation_size":"1099511627776","output_size":"7"}}]`), "cuda")
	f.Fuzz(func(t *testing.T, data []byte, provider string) {
		p, err := ParseProfile(strings.NewReader(string(data)), provider)
		if err != nil {
			return
		}
		if s := p.CPUShare(); s < 0 || s > 1 {
			t.Fatalf("CPUShare %g out of [0,1]", s)
		}
		_ = p.String()
		_ = p.Fallback()
		if f := p.TotalFLOPs(); f < 0 || math.IsNaN(f) || p.TotalBytes() < 0 {
			t.Fatalf("work %g FLOP, %d bytes", f, p.TotalBytes())
		}
		if c, r := p.Floor(1e12, 1e9); c < 0 || r < c {
			t.Fatalf("Floor = %v, %v: want 0 <= compute <= roofline", c, r)
		}
	})
}

// TestProbeWork counts a real run's work from ORT's own profile: a matrix
// product, a convolution and an addition, whose FLOPs and bytes follow from
// their shapes by hand.
func TestProbeWork(t *testing.T) {
	rt := testRuntime(t)
	f := onnxtest.Float
	path := onnxtest.Model{
		Inputs: []onnxtest.Value{onnxtest.V("a", f, 2, 8, 16), onnxtest.V("b", f, 16, 32),
			onnxtest.V("x", f, 1, 3, 8, 8), onnxtest.V("w", f, 4, 3, 3, 3)},
		Outputs: []onnxtest.Value{onnxtest.V("y", f, 2, 8, 32), onnxtest.V("c", f, 1, 4, 8, 8), onnxtest.V("s", f, 2, 8, 16)},
		Nodes: []onnxtest.Node{
			{Op: "MatMul", Inputs: []string{"a", "b"}, Outputs: []string{"y"}},
			{Op: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"c"},
				Attrs: []onnxtest.Attr{{Name: "pads", Kind: "ints", Ints: []int64{1, 1, 1, 1}}}},
			{Op: "Add", Inputs: []string{"a", "a"}, Outputs: []string{"s"}},
		},
	}.Write(t, t.TempDir(), "work.onnx")
	in := []Tensor{T("a", Float32, 2, 8, 16), T("b", Float32, 16, 32), T("x", Float32, 1, 3, 8, 8), T("w", Float32, 4, 3, 3, 3)}
	p, err := rt.Probe(context.Background(), path, in, []string{"y", "c", "s"}, CPU)
	if err != nil {
		t.Fatal(err)
	}
	// MatMul: 2·(2·8·32)·16; Conv: 2·(4·8·8)·(3·3·3) with padding 1.
	if d := cmp.Diff(map[string]float64{"MatMul": 16384, "Conv": 13824, "Add": 0}, p.FLOPs); d != "" {
		t.Errorf("FLOPs (-want +got):\n%s", d)
	}
	// float32 inputs plus output: (256+512)·4+512·4, (192+108)·4+256·4,
	// (256+256)·4+256·4 (an input given twice counts twice).
	wantBytes := map[string]int64{"MatMul": 5120, "Conv": 2224, "Add": 3072}
	if d := cmp.Diff(wantBytes, p.Bytes); d != "" {
		t.Errorf("bytes (-want +got):\n%s", d)
	}
	// At 1 GFLOP/s and 1 GB/s the product and the convolution are
	// compute-bound (16.4 and 13.8 µs) and the addition memory-bound.
	compute, roof := p.Floor(1e9, 1e9)
	if compute != 30208*time.Nanosecond || roof != compute+time.Duration(wantBytes["Add"]) {
		t.Errorf("Floor = %v, %v; want 30.208µs and %v", compute, roof, 30208*time.Nanosecond+time.Duration(wantBytes["Add"]))
	}
	if s := p.String(); !strings.Contains(s, "work 30.2 kFLOP (MatMul 54% Conv 46%)") {
		t.Errorf("String() = %q, want the work named", s)
	}
}

// TestProfileWork reads the shapes of ORT's profile as its CUDA provider
// writes them (weights among the inputs, transposed products, fused
// attention) and counts the FLOPs by hand.
func TestProfileWork(t *testing.T) {
	node := func(op, in, out string, bytes int) string {
		return fmt.Sprintf(`{"cat":"Node","dur":1,"name":"n_kernel_time","args":{"op_name":%q,"provider":"CUDAExecutionProvider",
			"input_type_shape":%s,"output_type_shape":%s,"activation_size":"%d","parameter_size":"1","output_size":"1"}}`, op, in, out, bytes-2)
	}
	tests := []struct {
		name      string
		node      string
		wantFLOPs float64
	}{
		{"matmul with its weight", node("MatMul", `[{"float16":[1,4352,3072]},{"float16":[3072,12288]}]`, `[{"float16":[1,4352,12288]}]`, 100),
			2 * 4352 * 12288 * 3072},
		{"fused matmul, first input transposed", node("FusedMatMul", `[{"float16":[24,128,4352]},{"float16":[24,128,4352]}]`, `[{"float16":[24,4352,4352]}]`, 100),
			2 * 24 * 4352 * 4352 * 128},
		{"batched scores q·kᵀ", node("MatMul", `[{"float16":[1,24,4352,128]},{"float16":[1,24,128,4352]}]`, `[{"float16":[1,24,4352,4352]}]`, 100),
			2 * 24 * 4352 * 4352 * 128},
		{"gemm", node("Gemm", `[{"float":[256,3]},{"float":[32,3]},{"float":[32]}]`, `[{"float":[256,32]}]`, 100), 2 * 256 * 32 * 3},
		{"conv 3×3", node("Conv", `[{"float16":[1,128,1024,1024]},{"float16":[128,128,3,3]},{"float16":[128]}]`, `[{"float16":[1,128,1024,1024]}]`, 100),
			2 * 128 * 1024 * 1024 * 128 * 9},
		{"grouped conv, NHWC", node("NhwcConv", `[{"float16":[1,64,64,32]},{"float16":[32,3,3,1]}]`, `[{"float16":[1,64,64,32]}]`, 100),
			2 * 64 * 64 * 32 * 9},
		{"conv transpose 2×", node("ConvTranspose", `[{"float":[1,8,16,16]},{"float":[8,4,2,2]}]`, `[{"float":[1,4,32,32]}]`, 100),
			2 * 8 * 16 * 16 * 4 * 4},
		{"fused attention, 3-d key", node("MultiHeadAttention", `[{"float16":[1,4352,3072]},{"float16":[1,4352,3072]},{"float16":[1,4352,3072]}]`, `[{"float16":[1,4352,3072]}]`, 100),
			4 * 4352 * 4352 * 3072},
		{"fused attention, 4-d key", node("MultiHeadAttention", `[{"float16":[1,1280,3072]},{"float16":[1,24,1024,128]},{"float16":[1,24,1024,128]}]`, `[{"float16":[1,1280,3072]}]`, 100),
			4 * 1280 * 1024 * 3072},
		{"fused attention, packed key and value", node("MultiHeadAttention", `[{"float16":[1,1280,3072]},{"float16":[1,1024,24,2,128]}]`, `[{"float16":[1,1280,3072]}]`, 100),
			4 * 1280 * 1024 * 3072},
		{"elementwise", node("Mul", `[{"float16":[1,4352,3072]},{"float16":[3072]}]`, `[{"float16":[1,4352,3072]}]`, 100), 0},
		{"conv without its weight (pre-packed on the cpu)", node("Conv", `[{"float":[1,3,8,8]}]`, `[{"float":[1,4,8,8]}]`, 100), 0},
		{"negative dimension", node("MatMul", `[{"float":[-1,4]}]`, `[{"float":[2,4]}]`, 100), 0},
		{"shape of strings", node("MatMul", `[{"float":["a"]}]`, `[{"float":[2]}]`, 100), 0},
		{"no shapes", node("MatMul", `[]`, `null`, 100), 0},
		{"a view moves nothing", node("Reshape", `[{"float16":[1,4352,3072]},{"int64":[4]}]`, `[{"float16":[1,4352,24,128]}]`, 100), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseProfile(strings.NewReader("["+tt.node+"]"), CUDA)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.TotalFLOPs(); got != tt.wantFLOPs {
				t.Errorf("FLOPs = %g, want %g", got, tt.wantFLOPs)
			}
			want := int64(100) // activation, parameter and output sizes
			if strings.Contains(tt.name, "view") {
				want = 0
			}
			if got := p.TotalBytes(); got != want {
				t.Errorf("bytes = %d, want %d", got, want)
			}
		})
	}
}

// TestWorkPerJob weights each model's run by its runs a job: a transformer
// run 4 times a job and an encoder run once over 2 jobs (a cached prompt).
func TestWorkPerJob(t *testing.T) {
	mm := `[{"cat":"Node","dur":1,"name":"m_kernel_time","args":{"op_name":"MatMul","provider":"CUDAExecutionProvider",
		"input_type_shape":[{"float16":[1000,1000]}],"output_type_shape":[{"float16":[1000,1000]}],
		"activation_size":"1000000","parameter_size":"0","output_size":"0"}}]`
	var ps []*Placement
	for _, runs := range []int64{8, 1, 0} {
		p, err := ParseProfile(strings.NewReader(mm), CUDA)
		if err != nil {
			t.Fatal(err)
		}
		p.Runs = runs
		ps = append(ps, p)
	}
	// One run: 2 GFLOP (1 ms at 2 TFLOP/s) and 1 MB (2 ms at 0.5 GB/s);
	// 4.5 runs a job.
	got := WorkPerJob(ps, 2, 2e12, 0.5e9)
	want := JobWork{FLOPs: 4.5 * 2e9, Bytes: 4.5 * 1e6, Compute: 4500 * time.Microsecond, Roofline: 9 * time.Millisecond, Models: 2}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("WorkPerJob (-want +got):\n%s", d)
	}
	if got := WorkPerJob(ps, 0, 2e12, 2e9); got != (JobWork{}) {
		t.Errorf("no jobs: %+v, want zero", got)
	}
}
