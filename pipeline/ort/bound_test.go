package ort

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"github.com/splatbench/splatbench/pipeline/ort/onnxtest"
)

// hostMemory is DeviceMemory in the host's memory: the CPU provider reads
// and writes it as the CUDA provider does a GPU's, so the bound path's C API
// calls, bindings and conversions run on any machine.
type hostMemory struct {
	mu     sync.Mutex
	bufs   map[uint64][]byte
	failIn bool // CopyIn fails
}

func (h *hostMemory) Alloc(n uint64) (uint64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.bufs == nil {
		h.bufs = map[uint64][]byte{}
	}
	b := make([]byte, n)
	p := uint64(uintptr(unsafe.Pointer(&b[0])))
	h.bufs[p] = b
	return p, nil
}

func (h *hostMemory) buf(p uint64, n int) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	b, ok := h.bufs[p]
	if !ok || len(b) < n {
		return nil, fmt.Errorf("no buffer of %d bytes at %#x", n, p)
	}
	return b, nil
}

func (h *hostMemory) Free(p uint64) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.bufs[p]; !ok {
		return fmt.Errorf("free of %#x, not allocated", p)
	}
	delete(h.bufs, p)
	return nil
}

func (h *hostMemory) CopyIn(dst uint64, src []byte) error {
	if h.failIn {
		return errors.New("device lost")
	}
	b, err := h.buf(dst, len(src))
	copy(b, src)
	return err
}

func (h *hostMemory) CopyOut(dst []byte, src uint64) error {
	b, err := h.buf(src, len(dst))
	copy(dst, b)
	return err
}

func (h *hostMemory) live() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bufs)
}

// boundOn binds a session's tensors to mem on the CPU provider.
func boundOn(mem DeviceMemory) SessionOption {
	return func(c *sessionConfig) { c.bound = &boundConfig{provider: CPU, mem: mem} }
}

// mixedModel has an input and an output of each kind the FLUX models use:
// float16 and bfloat16 passed through, int64 ids cast to float32, and a
// float32 computed.
func mixedModel(t testing.TB, dir string) (string, Spec) {
	m := onnxtest.Model{
		Inputs: []onnxtest.Value{
			onnxtest.V("h", onnxtest.Float16, 1, 4, 3), onnxtest.V("ids", onnxtest.Int64, 1, 5),
			onnxtest.V("b", onnxtest.BFloat16, 6), onnxtest.V("x", onnxtest.Float, 2, 2),
		},
		Outputs: []onnxtest.Value{
			onnxtest.V("h_out", onnxtest.Float16, 1, 4, 3), onnxtest.V("ids_f", onnxtest.Float, 1, 5),
			onnxtest.V("b_out", onnxtest.BFloat16, 6), onnxtest.V("relu", onnxtest.Float, 2, 2),
		},
		Nodes: []onnxtest.Node{
			{Op: "Identity", Inputs: []string{"h"}, Outputs: []string{"h_out"}},
			{Op: "Cast", Inputs: []string{"ids"}, Outputs: []string{"ids_f"}, Attrs: []onnxtest.Attr{{Name: "to", Kind: "i", Int: onnxtest.Float}}},
			{Op: "Identity", Inputs: []string{"b"}, Outputs: []string{"b_out"}},
			{Op: "Relu", Inputs: []string{"x"}, Outputs: []string{"relu"}},
		},
	}
	var sp Spec
	for _, v := range m.Inputs {
		sp.Inputs = append(sp.Inputs, Tensor{Name: v.Name, Shape: v.Shape})
	}
	for _, v := range m.Outputs {
		sp.Outputs = append(sp.Outputs, Tensor{Name: v.Name, Shape: v.Shape})
	}
	return m.Write(t, dir, "mixed.onnx"), sp
}

// TestBoundMatchesSession runs one model through the C API with bound
// tensors and through onnxruntime_go, on the same inputs, several times (a
// bound session reuses its buffers), and wants the same outputs.
func TestBoundMatchesSession(t *testing.T) {
	rt := testRuntime(t)
	path, sp := mixedModel(t, t.TempDir())
	ctx := context.Background()
	ref, err := rt.NewSession(ctx, path, sp, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	mem := &hostMemory{}
	s, err := rt.NewSession(ctx, path, sp, nil, boundOn(mem))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Bound() || s.Provider() != CPU || s.Runner() != CPU {
		t.Fatalf("bound %v, provider %s, runner %s: want a bound cpu session (no graph on the CPU)", s.Bound(), s.Provider(), s.Runner())
	}
	if got := mem.live(); got != 8 {
		t.Errorf("%d buffers allocated, want one per tensor (8)", got)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for run := range 3 {
		in := make([][]float32, len(sp.Inputs))
		for i, ts := range sp.Inputs {
			n := 1
			for _, d := range ts.Shape {
				n *= int(d)
			}
			in[i] = make([]float32, n)
			for j := range in[i] {
				in[i][j] = float32(rng.NormFloat64() * 100)
			}
		}
		want, err := ref.Run(ctx, in...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Run(ctx, in...)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("run %d: bound outputs differ from onnxruntime_go's (-want +got):\n%s", run, diff)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := mem.live(); got != 0 {
		t.Errorf("%d buffers live after Close, want 0", got)
	}
	if _, err := s.Run(ctx, nil, nil, nil, nil); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("run after Close: %v, want a closed-session error", err)
	}
}

// TestBoundErrors: a model a bound session cannot take runs unbound; a
// failed copy and a wrong input name the tensor; nothing leaks.
func TestBoundErrors(t *testing.T) {
	rt := testRuntime(t)
	dir := t.TempDir()
	ctx := context.Background()

	// A dynamic model cannot be bound: it runs unbound on the same provider.
	mem := &hostMemory{}
	dyn, err := rt.NewSession(ctx, dynamicModel(t, dir), Spec{Inputs: []Tensor{{Name: "x", Shape: []int64{-1, 4}}}, Outputs: []Tensor{{Name: "y", Shape: []int64{-1, 4}}}},
		nil, boundOn(mem))
	if err != nil {
		t.Fatal(err)
	}
	if dyn.bound != nil || dyn.sess == nil || dyn.Provider() != CPU || mem.live() != 0 {
		t.Errorf("dynamic model: bound %v, unbound %v, provider %s, %d buffers: want it unbound on cpu, nothing allocated",
			dyn.bound != nil, dyn.sess != nil, dyn.Provider(), mem.live())
	}
	dyn.Close()

	path, sp := mixedModel(t, dir)
	mem = &hostMemory{failIn: true}
	s, err := rt.NewSession(ctx, path, sp, nil, boundOn(mem))
	if err != nil {
		t.Fatal(err)
	}
	in := [][]float32{make([]float32, 12), make([]float32, 5), make([]float32, 6), make([]float32, 4)}
	if _, err := s.Run(ctx, in...); err == nil || !strings.Contains(err.Error(), `input "h"`) || !strings.Contains(err.Error(), "device lost") {
		t.Errorf("failing copy: %v, want an error naming input h and the cause", err)
	}
	in[1] = make([]float32, 4)
	mem.failIn = false
	if _, err := s.Run(ctx, in...); err == nil || !strings.Contains(err.Error(), `input "ids"`) {
		t.Errorf("short input: %v, want an error naming input ids", err)
	}
	s.Close()
	if got := mem.live(); got != 0 {
		t.Errorf("%d buffers live after Close, want 0", got)
	}
}

// TestBoundTerminate: the run options' terminate flag, which a cancelled
// context sets, stops a bound run, and unset lets the next one go on (so
// the two C API functions are the ones meant).
func TestBoundTerminate(t *testing.T) {
	rt := testRuntime(t)
	path, sp := mixedModel(t, t.TempDir())
	ctx := context.Background()
	s, err := rt.NewSession(ctx, path, sp, nil, boundOn(&hostMemory{}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in := [][]float32{make([]float32, 12), make([]float32, 5), make([]float32, 6), make([]float32, 4)}
	b := s.bound
	if err := b.c.check(b.c.runSetTerminate(b.runOpts)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(ctx, in...); err == nil || !strings.Contains(err.Error(), "terminate") {
		t.Errorf("run with the terminate flag set: %v, want ONNX Runtime's terminate error", err)
	}
	if err := b.c.check(b.c.runUnsetTerminate(b.runOpts)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(ctx, in...); err != nil {
		t.Errorf("run after unset: %v", err)
	}
}
