package ort

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	onnx "github.com/yalue/onnxruntime_go"
)

// Placement is where ONNX Runtime ran a model's nodes, read from the profile
// of one run: how many kernel launches each execution provider did and how
// long they took, which operator types took the time, and which ran on the
// CPU.
type Placement struct {
	Model    string                   // the model file
	Provider string                   // the provider the session asked for first
	Nodes    map[string]int           // provider (cpu, cuda, ...) -> nodes run
	Time     map[string]time.Duration // provider -> summed kernel time
	OpTime   map[string]time.Duration // operator type -> summed kernel time, every provider
	CPUOps   map[string]int           // operator type -> nodes run on the CPU
	// CPUWork counts, by operator type, the CPU nodes that moved at least
	// WorkBytes (inputs plus outputs): real work, not shape arithmetic.
	CPUWork map[string]int
	// FLOPs and Bytes are the run's work by operator type, from the shapes
	// and sizes in the profile: the floating-point operations of the matrix
	// products, convolutions and fused attention (a multiply-add is 2; other
	// operators count none), and the bytes every node read and wrote (ORT's
	// activation, parameter and output sizes; none for views such as
	// Reshape).
	FLOPs map[string]float64
	Bytes map[string]int64
	work  []NodeWork // per node, in run order
	// Runs is how many times the session had run when Placements was
	// asked (0 from Probe): with it a caller scales one run's work.
	Runs int64
}

// NodeWork is one node's work in a profiled run: its name and operator
// type, its FLOPs and the bytes it read and wrote (see Placement.FLOPs).
type NodeWork struct {
	Name, Op string
	FLOPs    float64
	Bytes    int64
}

// WorkBytes is the data a CPU node of a GPU session must touch to count as
// work that fell back. ORT puts shape arithmetic on the CPU on purpose (a
// few int64 scalars); an activation tensor is far larger than this.
const WorkBytes = 64 << 10

// CPUNodes is the number of nodes that ran on the CPU provider.
func (p *Placement) CPUNodes() int { return p.Nodes[CPU] }

// CPUShare is the CPU's share of the run's summed kernel time (0..1).
func (p *Placement) CPUShare() float64 {
	total := sum(p.Time)
	if total <= 0 {
		return 0
	}
	return float64(p.Time[CPU]) / float64(total)
}

// Fallback reports a silent CPU fallback: the session asked for a GPU
// provider, yet a CPU node moved a tensor of WorkBytes or more, or every
// node ran on the CPU. (The CPU's share of the profile's kernel time is no
// test: a GPU node's time there is its launch on the host.)
func (p *Placement) Fallback() bool {
	if p.Provider == CPU || p.CPUNodes() == 0 {
		return false
	}
	return len(p.CPUWork) > 0 || p.CPUNodes() == sum(p.Nodes)
}

// sum adds up a map's values.
func sum[V ~int | ~int64 | ~float64](m map[string]V) V {
	var n V
	for _, v := range m {
		n += v
	}
	return n
}

// String is one line: "cuda 812 nodes 41.2 ms, cpu 14 nodes 0.05 ms (cpu 0.1%
// of host time: Gather×6 Shape×8); host time by operator: MatMul 61%
// Softmax 18% …". ORT's profile times each node on the host: a CPU node's
// time is its kernel's, a GPU node's mostly its launch (or a wait for the
// stream), so for a GPU session the shares say where the host waited, not
// where the GPU spent its time. Only the CPU provider's is "kernel time".
func (p *Placement) String() string {
	what := "host time"
	if p.Provider == CPU {
		what = "kernel time"
	}
	provs := slices.Sorted(maps.Keys(p.Nodes))
	// The asked provider first, the CPU last.
	slices.SortStableFunc(provs, func(a, b string) int { return rank(a, p.Provider) - rank(b, p.Provider) })
	var parts []string
	for _, pr := range provs {
		parts = append(parts, fmt.Sprintf("%s %d nodes %.2f ms", pr, p.Nodes[pr], float64(p.Time[pr])/1e6))
	}
	s := strings.Join(parts, ", ")
	if len(parts) == 0 {
		s = "no nodes ran"
	}
	if p.CPUNodes() > 0 && p.Provider != CPU {
		ops := slices.Sorted(maps.Keys(p.CPUOps))
		slices.SortStableFunc(ops, func(a, b string) int { return p.CPUOps[b] - p.CPUOps[a] })
		var list []string
		for i, op := range ops {
			if i == 8 {
				list = append(list, fmt.Sprintf("+%d more types", len(ops)-i))
				break
			}
			list = append(list, fmt.Sprintf("%s×%d", op, p.CPUOps[op]))
		}
		s += fmt.Sprintf(" (cpu %.1f%% of %s: %s)", 100*p.CPUShare(), what, strings.Join(list, " "))
		if len(p.CPUWork) > 0 {
			var work []string
			for _, op := range slices.Sorted(maps.Keys(p.CPUWork)) {
				work = append(work, fmt.Sprintf("%s×%d", op, p.CPUWork[op]))
			}
			s += fmt.Sprintf("; tensors of %d KiB or more on the cpu: %s", WorkBytes>>10, strings.Join(work, " "))
		}
	}
	if top := p.topOps(5); top != "" {
		s += "; " + what + " by operator: " + top
	}
	if w := p.workString(); w != "" {
		s += "; " + w
	}
	return s
}

// topOps names the n operator types that took the most kernel time, with
// their shares: "MatMul 61% Softmax 18% +7 more types".
func (p *Placement) topOps(n int) string { return shares(p.OpTime, n, 0, true) }

func rank(p, asked string) int {
	switch p {
	case asked:
		return 0
	case CPU:
		return 2
	}
	return 1
}

// maxProfileBytes bounds what ParseProfile reads: a profile of one run of a
// 10k-node graph is a few megabytes.
const maxProfileBytes = 256 << 20

// profileEvent is one entry of ORT's Chrome-trace profile.
type profileEvent struct {
	Cat  string  `json:"cat"`
	Name string  `json:"name"`
	Ts   float64 `json:"ts"`  // microseconds since the profile's start
	Dur  float64 `json:"dur"` // microseconds
	Args struct {
		OpName     string       `json:"op_name"`
		Provider   string       `json:"provider"`
		Activation byteCount    `json:"activation_size"`
		Param      byteCount    `json:"parameter_size"`
		Output     byteCount    `json:"output_size"`
		In         []typedShape `json:"input_type_shape"`
		Out        []typedShape `json:"output_type_shape"`
	} `json:"args"`
}

// typedShape is one entry of a profile's input_type_shape or
// output_type_shape, {"float": [1, 256, 32]}: the dimensions, nil for
// anything else.
type typedShape []int64

func (t *typedShape) UnmarshalJSON(data []byte) error {
	var m map[string][]int64
	*t = nil
	if json.Unmarshal(data, &m) == nil && len(m) == 1 {
		for _, dims := range m {
			if !slices.ContainsFunc(dims, func(d int64) bool { return d < 0 }) {
				*t = dims
			}
		}
	}
	return nil
}

// maxTensorBytes is the largest size a profile's byte count is believed:
// 1 TiB, beyond any device's memory; sums of a few stay far from overflow.
const maxTensorBytes = 1 << 40

// byteCount is a size ORT writes as a decimal string ("384"); a number is
// taken too, anything else counts as 0.
type byteCount int64

func (b *byteCount) UnmarshalJSON(data []byte) error {
	n, err := strconv.ParseInt(strings.Trim(string(data), `"`), 10, 64)
	if err != nil || n < 0 || n > maxTensorBytes {
		n = 0
	}
	*b = byteCount(n)
	return nil
}

// ParseProfile reads an ONNX Runtime profile (the JSON array of trace events
// a session with profiling writes) and counts the kernel-time events of
// every node by provider and operator type. Of a profile of several runs
// only the last run's nodes count. provider is the provider the session
// asked for.
func ParseProfile(r io.Reader, provider string) (*Placement, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxProfileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxProfileBytes {
		return nil, fmt.Errorf("profile is over %d MiB", maxProfileBytes>>20)
	}
	var events []profileEvent
	if err := json.Unmarshal(data, &events); err != nil {
		return nil, fmt.Errorf("not an ONNX Runtime profile (a JSON array of trace events): %w", err)
	}
	p := &Placement{Provider: NormalizeProvider(provider), Nodes: map[string]int{}, Time: map[string]time.Duration{},
		OpTime: map[string]time.Duration{}, CPUOps: map[string]int{}, CPUWork: map[string]int{},
		FLOPs: map[string]float64{}, Bytes: map[string]int64{}}
	from, runs := math.Inf(-1), 0
	for _, ev := range events {
		if ev.Cat == "Session" && ev.Name == "model_run" {
			if runs++; runs > 1 {
				from = max(from, ev.Ts)
			}
		}
	}
	// In the order the nodes started (Work's order).
	slices.SortStableFunc(events, func(a, b profileEvent) int { return cmp.Compare(a.Ts, b.Ts) })
	for _, ev := range events {
		if ev.Cat != "Node" || !strings.HasSuffix(ev.Name, "_kernel_time") || ev.Args.Provider == "" || ev.Ts < from {
			continue
		}
		if ev.Dur < 0 || ev.Dur > 1e9 { // over 16 minutes for one node: not a profile
			return nil, fmt.Errorf("node %q: duration %g µs out of range", ev.Name, ev.Dur)
		}
		pr := NormalizeProvider(ev.Args.Provider)
		op := cmp.Or(ev.Args.OpName, "?")
		d := time.Duration(ev.Dur * 1e3)
		p.Nodes[pr]++
		p.Time[pr] += d
		p.OpTime[op] += d
		w := NodeWork{Name: strings.TrimSuffix(ev.Name, "_kernel_time"), Op: op, FLOPs: nodeFLOPs(op, ev.Args.In, ev.Args.Out)}
		if !views[op] {
			w.Bytes = int64(ev.Args.Activation) + int64(ev.Args.Param) + int64(ev.Args.Output)
		}
		p.work = append(p.work, w)
		p.FLOPs[op] += w.FLOPs
		p.Bytes[op] += w.Bytes
		if pr == CPU {
			p.CPUOps[op]++
			if int64(ev.Args.Activation) >= WorkBytes || int64(ev.Args.Output) >= WorkBytes {
				p.CPUWork[op]++
			}
		}
	}
	return p, nil
}

// Probe runs the model at path twice on provider (no fallback) with zeroed
// inputs of the given concrete shapes, with ORT's profiler on, and returns
// where the second run's nodes ran and how long they took (the first pays
// for cuDNN's algorithm searches and the arenas' growth). It loads the
// model a second time: call it once per model, not per run. inputs name
// every model input with its shape (dtype is read from the model); outputs
// name the outputs to ask for.
func (rt *Runtime) Probe(ctx context.Context, path string, inputs []Tensor, outputs []string, provider string) (*Placement, error) {
	provider = NormalizeProvider(provider)
	sig, err := rt.Inspect(path)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "splatbench-profile-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	runErr := rt.profiledRun(ctx, path, sig, inputs, outputs, provider, filepath.Join(dir, "p"))
	var re *runError
	if runErr != nil && !errors.As(runErr, &re) {
		return nil, runErr
	}
	files, _ := filepath.Glob(filepath.Join(dir, "p*.json"))
	if len(files) != 1 {
		if runErr != nil {
			return nil, runErr
		}
		return nil, fmt.Errorf("model %s: ONNX Runtime wrote %d profile files, want 1", path, len(files))
	}
	f, err := os.Open(files[0])
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := ParseProfile(f, provider)
	if err != nil {
		return nil, fmt.Errorf("model %s: profile %s: %w", path, files[0], err)
	}
	if runErr != nil && sum(p.Nodes) == 0 {
		return nil, runErr // the run itself failed
	}
	p.Model = path
	return p, nil
}

// profiledRun creates the profiled session, runs it probeRuns times and
// destroys it (ORT writes the profile when the session ends).
func (rt *Runtime) profiledRun(ctx context.Context, path string, sig *Signature, inputs []Tensor, outputs []string, provider, prefix string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	so, err := onnx.NewSessionOptions()
	if err != nil {
		return err
	}
	defer so.Destroy()
	if err := so.EnableProfiling(prefix); err != nil {
		return fmt.Errorf("model %s: profiling: %w", path, err)
	}
	if provider != CPU {
		// The caller gets the reason; ORT would also log it at error level.
		_ = onnx.SetEnvironmentLogLevel(onnx.LoggingLevelFatal)
		defer onnx.SetEnvironmentLogLevel(onnx.LoggingLevelError)
	}
	if err := appendProvider(so, provider, nil); err != nil {
		return fmt.Errorf("model %s: provider %s: %s", path, provider, oneLine(err))
	}
	in := make([]string, len(inputs))
	vals := make([]onnx.Value, len(inputs))
	defer func() {
		for _, v := range vals {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for i, t := range inputs {
		j := slices.IndexFunc(sig.Inputs, func(m Tensor) bool { return m.Name == t.Name })
		if j < 0 {
			return fmt.Errorf("model %s: no input %q", path, t.Name)
		}
		if slices.ContainsFunc(t.Shape, func(d int64) bool { return d < 0 }) {
			return fmt.Errorf("model %s: input %q: shape %v is not concrete", path, t.Name, t.Shape)
		}
		in[i] = t.Name
		if vals[i], err = newValue(sig.Inputs[j].DType, t.Shape); err != nil {
			return fmt.Errorf("model %s: input %q %v: %w", path, t.Name, t.Shape, err)
		}
	}
	sess, err := onnx.NewDynamicAdvancedSession(path, in, outputs, so)
	if err != nil {
		return fmt.Errorf("model %s on %s: %s", path, provider, oneLine(err))
	}
	var runErr error
	for range probeRuns {
		outs := make([]onnx.Value, len(outputs))
		runErr = sess.Run(vals, outs)
		for _, v := range outs {
			// onnxruntime_go leaves a typed nil where it could not convert an
			// output it allocated (float16 and bfloat16 ones).
			if v != nil && !reflect.ValueOf(v).IsNil() {
				v.Destroy()
			}
		}
		if runErr != nil || ctx.Err() != nil {
			break
		}
	}
	if err := sess.Destroy(); err != nil {
		return errors.Join(runErr, err)
	}
	if runErr != nil {
		return &runError{fmt.Errorf("model %s on %s: run: %s", path, provider, oneLine(runErr))}
	}
	return nil
}

// probeRuns is how many times Probe runs a model; the profile's last run
// counts.
const probeRuns = 2

// runError is a failed Run of a probe session. The run may have happened
// and only the Go binding's conversion of an output failed: the profile
// then holds the nodes, and Probe uses it.
type runError struct{ error }

// ProbeShapes returns the session's inputs with the shapes of its last run,
// or, before the first, with every dynamic dimension set to 1, for Probe.
func (s *Session) ProbeShapes() []Tensor {
	in := s.Inputs()
	s.mu.Lock()
	last := s.shape
	s.mu.Unlock()
	for i := range in {
		if i < len(last) {
			in[i].Shape = slices.Clone(last[i])
			continue
		}
		for d, v := range in[i].Shape {
			if v < 0 {
				in[i].Shape[d] = 1
			}
		}
	}
	return in
}

// OutputNames lists the outputs the session reads.
func (s *Session) OutputNames() []string { return names(s.outputs) }

// Placements probes every open session that runs on a provider other than
// the CPU (once per session, with its last run's shapes; later calls return
// the first answer with the session's run count now), in the order the
// sessions were created.
func (rt *Runtime) Placements(ctx context.Context) ([]*Placement, error) {
	rt.openMu.Lock()
	open := slices.Clone(rt.open)
	rt.openMu.Unlock()
	var out []*Placement
	for _, s := range open {
		if s.provider == CPU {
			continue
		}
		pl, err := rt.placementOf(ctx, s)
		if err != nil {
			return out, err
		}
		out = append(out, pl)
	}
	return out, nil
}

// placementOf probes s once and returns a copy of the answer with the
// session's run count now.
func (rt *Runtime) placementOf(ctx context.Context, s *Session) (*Placement, error) {
	s.probeOnce.Do(func() {
		s.placement, s.probeErr = rt.Probe(ctx, s.path, s.ProbeShapes(), s.OutputNames(), s.provider)
	})
	if s.probeErr != nil {
		return nil, s.probeErr
	}
	pl := *s.placement
	pl.Runs = s.runs.Load()
	return &pl, nil
}
