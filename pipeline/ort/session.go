package ort

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	onnx "github.com/yalue/onnxruntime_go"
)

// SessionOption tunes a session.
type SessionOption func(*sessionConfig)

type sessionConfig struct {
	intraThreads int
	bound        *boundConfig
	cuda         map[string]string // the CUDA provider's options (WithCUDAOptions)
}

// WithIntraOpThreads sets ORT's intra-op thread count (0: ORT's default, one
// per core).
func WithIntraOpThreads(n int) SessionOption {
	return func(c *sessionConfig) { c.intraThreads = n }
}

// WithCUDAOptions gives the session's CUDA provider these options (its own
// keys, e.g. prefer_nhwc=1); $SPLATBENCH_CUDA_OPTIONS overrides them key by
// key.
func WithCUDAOptions(opts map[string]string) SessionOption {
	return func(c *sessionConfig) { c.cuda = maps.Clone(opts) }
}

// Session is a loaded model bound to one execution provider. Tensors whose
// shapes are fully static are allocated once and reused by every Run. A
// Session is safe for concurrent use; runs are serialised.
type Session struct {
	path     string
	provider string
	sess     *onnx.DynamicAdvancedSession
	bound    *bound    // instead of sess: a session with bound device tensors (WithCUDAGraph)
	thread   *osThread // every run goes through it
	runOpts  *onnx.RunOptions
	inputs   []slot
	outputs  []slot
	log      *slog.Logger
	rt       *Runtime

	mu    sync.Mutex
	runs  atomic.Int64 // successful runs
	shape [][]int64    // the last run's input shapes, under mu

	probeOnce sync.Once
	placement *Placement
	probeErr  error
}

// slot is one input or output: its resolved type and shape and, when the
// shape is static, its preallocated tensor.
type slot struct {
	Tensor
	value onnx.Value
}

// NewSession loads the model at path for a stage that expects spec. It tries
// the providers in order (cpu is always tried last, whether listed or not),
// logs why each one that fails was skipped, and uses the first that creates
// a session; Provider says which. The model must fit spec (see Check).
func (rt *Runtime) NewSession(ctx context.Context, path string, spec Spec, providers []string, opts ...SessionOption) (*Session, error) {
	var cfg sessionConfig
	for _, o := range opts {
		o(&cfg)
	}
	sig, err := rt.Inspect(path)
	if err != nil {
		return nil, err
	}
	if p := sig.Mismatches(spec); len(p) > 0 {
		return nil, &MismatchError{Path: path, Problems: p}
	}
	s := &Session{path: path, log: rt.log, rt: rt}
	s.inputs = resolve(sig.Inputs, spec.Inputs)
	s.outputs = resolve(sig.Outputs, spec.Outputs)
	for _, sl := range append(slices.Clone(s.inputs), s.outputs...) {
		if sl.DType.size() == 0 {
			return nil, fmt.Errorf("model %s: tensor %q has element type %s, which splatbench cannot convert", path, sl.Name, sl.DType)
		}
	}
	order := make([]string, 0, len(providers)+1)
	for _, p := range providers {
		if p = NormalizeProvider(p); !slices.Contains(order, p) {
			order = append(order, p)
		}
	}
	if !slices.Contains(order, CPU) {
		order = append(order, CPU)
	}
	var reasons []string
	level := slog.LevelInfo // a provider this library build lacks is expected
	for _, p := range order {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("model %s: %w", path, err)
		}
		var err error
		if cfg.bound != nil && cfg.bound.provider == p {
			if s.bound, err = rt.newBound(path, s.inputs, s.outputs, p, cfg); err == nil {
				s.provider = p
				break
			}
			rt.log.Warn("running the model without bound device tensors (no CUDA graph)", "model", path, "provider", p, "why", oneLine(err))
		}
		if s.sess, err = rt.create(path, names(s.inputs), names(s.outputs), p, cfg); err == nil {
			s.provider = p
			break
		}
		reasons = append(reasons, fmt.Sprintf("%s unavailable: %s", p, oneLine(err)))
		if slices.Contains(rt.providers, p) {
			level = slog.LevelWarn // the build has it, yet it failed
		}
	}
	if s.sess == nil && s.bound == nil {
		return nil, fmt.Errorf("model %s: no execution provider could load it: %s", path, strings.Join(reasons, "; "))
	}
	if len(reasons) > 0 {
		rt.log.Log(ctx, level, "execution provider fallback", "model", path, "using", s.provider, "why", strings.Join(reasons, "; "))
	}
	if s.sess != nil {
		if err := s.allocate(); err != nil {
			s.Close()
			return nil, fmt.Errorf("model %s: %w", path, err)
		}
		var err error
		if s.runOpts, err = onnx.NewRunOptions(); err != nil {
			s.Close()
			return nil, fmt.Errorf("model %s: run options: %w", path, err)
		}
	}
	s.thread = newOSThread()
	rt.openMu.Lock()
	rt.open = append(rt.open, s)
	first := sig.RandomWeights() && !rt.random[path]
	if first {
		if rt.random == nil {
			rt.random = map[string]bool{}
		}
		rt.random[path] = true
	}
	rt.openMu.Unlock()
	if first {
		// A server or miner on such a model hands out noise: say so once.
		rt.log.Warn("model weights are random: its speed is real, its outputs are noise", "model", path, WeightsKey, RandomWeights)
	}
	rt.log.Debug("session ready", "model", path, "provider", s.provider, "bound", s.bound != nil, "thread", s.thread.tid, "cuda_options", cfg.cuda, "inputs", s.inputs, "outputs", s.outputs)
	return s, nil
}

func (rt *Runtime) create(path string, in, out []string, provider string, cfg sessionConfig) (*onnx.DynamicAdvancedSession, error) {
	so, err := onnx.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	if cfg.intraThreads > 0 {
		if err := so.SetIntraOpNumThreads(cfg.intraThreads); err != nil {
			return nil, err
		}
	}
	if prefix, err := profilePrefix(path); err != nil {
		return nil, err
	} else if prefix != "" {
		if err := so.EnableProfiling(prefix); err != nil {
			return nil, fmt.Errorf("$%s: %w", EnvProfile, err)
		}
	}
	if provider != CPU {
		// ORT logs a failed provider load at error level; the caller logs
		// the reason once, as a fallback.
		_ = onnx.SetEnvironmentLogLevel(onnx.LoggingLevelFatal)
		defer onnx.SetEnvironmentLogLevel(onnx.LoggingLevelError)
	}
	if err := appendProvider(so, provider, cfg.cuda); err != nil {
		return nil, err
	}
	return onnx.NewDynamicAdvancedSession(path, in, out, so)
}

// resolve pairs each wanted tensor with the model's declaration: the model's
// element type, and a shape with the Spec's sizes filled in where the model
// leaves a dimension dynamic.
func resolve(have, want []Tensor) []slot {
	out := make([]slot, len(want))
	for i, w := range want {
		m := have[slices.IndexFunc(have, func(m Tensor) bool { return m.Name == w.Name })]
		shape := slices.Clone(m.Shape)
		for d := range shape {
			if shape[d] < 0 && d < len(w.Shape) {
				shape[d] = w.Shape[d]
			}
		}
		out[i] = slot{Tensor: Tensor{Name: w.Name, DType: m.DType, Shape: shape}}
	}
	return out
}

func names(ss []slot) []string {
	n := make([]string, len(ss))
	for i, s := range ss {
		n[i] = s.Name
	}
	return n
}

func static(shape []int64) bool {
	return len(shape) > 0 && !slices.ContainsFunc(shape, func(d int64) bool { return d < 0 })
}

// allocate creates the tensors of every static slot.
func (s *Session) allocate() error {
	for _, ss := range [][]slot{s.inputs, s.outputs} {
		for i := range ss {
			if !static(ss[i].Shape) {
				continue
			}
			v, err := newValue(ss[i].DType, ss[i].Shape)
			if err != nil {
				return fmt.Errorf("tensor %q %v: %w", ss[i].Name, ss[i].Shape, err)
			}
			ss[i].value = v
		}
	}
	return nil
}

// Provider is the execution provider that serves this session.
func (s *Session) Provider() string { return s.provider }

// Bound says whether the session's tensors are bound in device memory
// (WithCUDAGraph), so that ONNX Runtime may replay it as a CUDA graph.
func (s *Session) Bound() bool { return s.bound != nil }

// Runner names what runs the session: its provider, with "+graph" when it
// is bound for CUDA graphs ("cuda+graph").
func (s *Session) Runner() string {
	if s.bound != nil && s.provider == CUDA {
		return s.provider + "+graph"
	}
	return s.provider
}

// Path is the model file.
func (s *Session) Path() string { return s.path }

// Inputs and Outputs describe the session's tensors as the model has them
// (element type) with the Spec's sizes where the model is dynamic.
func (s *Session) Inputs() []Tensor  { return tensors(s.inputs) }
func (s *Session) Outputs() []Tensor { return tensors(s.outputs) }

func tensors(ss []slot) []Tensor {
	t := make([]Tensor, len(ss))
	for i, s := range ss {
		t[i] = Tensor{Name: s.Name, DType: s.DType, Shape: slices.Clone(s.Shape)}
	}
	return t
}

// Close releases the session and its tensors.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, ss := range [][]slot{s.inputs, s.outputs} {
		for i := range ss {
			if ss[i].value != nil {
				errs = append(errs, ss[i].value.Destroy())
				ss[i].value = nil
			}
		}
	}
	if s.runOpts != nil {
		errs = append(errs, s.runOpts.Destroy())
		s.runOpts = nil
	}
	if s.sess != nil {
		errs = append(errs, s.sess.Destroy())
		s.sess = nil
	}
	if s.bound != nil {
		errs = append(errs, s.bound.close())
		s.bound = nil
	}
	if s.thread != nil {
		s.thread.close()
		s.thread = nil
	}
	if s.rt != nil {
		s.rt.openMu.Lock()
		s.rt.open = slices.DeleteFunc(s.rt.open, func(o *Session) bool { return o == s })
		s.rt.openMu.Unlock()
	}
	return errors.Join(errs...)
}
