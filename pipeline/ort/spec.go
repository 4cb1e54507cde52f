package ort

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	onnx "github.com/yalue/onnxruntime_go"
)

// Tensor describes one input or output: its name, element type(s) and shape.
// In a Spec, -1 in Shape is a dimension of any size and DType 0 any type; in
// a Signature (what a model file declares), -1 is a dynamic dimension.
type Tensor struct {
	Name  string
	DType DType
	Shape []int64
}

// T builds a Tensor: T("input", Float32, 1, 3, 1024, 1024).
func T(name string, dtype DType, shape ...int64) Tensor {
	return Tensor{Name: name, DType: dtype, Shape: shape}
}

func (t Tensor) String() string {
	return fmt.Sprintf("%s %s %v", t.Name, t.DType, t.Shape)
}

// Spec is what a stage expects of a model: the inputs it feeds (in the order
// Session.Run takes them) and the outputs it reads (in the order Run returns
// them). A model may have more outputs than a Spec names, never more inputs.
type Spec struct {
	Inputs  []Tensor
	Outputs []Tensor
}

// Signature is what a model file declares.
type Signature struct {
	Path    string
	Inputs  []Tensor
	Outputs []Tensor
	// Metadata is the model's metadata_props (ReadMetadata); nil when the
	// file has none or they could not be read.
	Metadata map[string]string
	// typeNames holds the ORT names of element types DType cannot hold.
	typeNames map[string]string
}

// MismatchError lists every way a model differs from a Spec.
type MismatchError struct {
	Path     string
	Problems []string
}

func (e *MismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "model %s does not fit the expected signature (%d problem", e.Path, len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteString("s")
	}
	b.WriteString("):")
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", e.Path, p)
	}
	return b.String()
}

// Inspect reads the inputs and outputs a model file declares. ONNX Runtime
// parses the whole file (weights too) with graph optimisation off, so this
// costs about one model load. Missing, empty and unparsable files give an
// error naming the file.
func (rt *Runtime) Inspect(path string) (*Signature, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("model %s: file not found", path)
	case err != nil:
		return nil, fmt.Errorf("model %s: %w", path, err)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("model %s: not a regular file", path)
	case fi.Size() == 0:
		return nil, fmt.Errorf("model %s: empty file", path)
	}
	opts, err := onnx.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("model %s: session options: %w", path, err)
	}
	defer opts.Destroy()
	_ = opts.SetGraphOptimizationLevel(onnx.GraphOptimizationLevelDisableAll)
	_ = opts.SetIntraOpNumThreads(1)
	ins, outs, err := onnx.GetInputOutputInfoWithOptions(path, opts)
	if lacksKernel(err) {
		// Operators without a CPU kernel (a bfloat16 MatMul: BFL's bf16
		// transformer) load only with a provider that has them.
		ins, outs, err = rt.inspectOnGPU(path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("model %s: not a loadable ONNX model (%d bytes): %s", path, fi.Size(), oneLine(err))
	}
	sig := &Signature{Path: path, typeNames: map[string]string{}}
	conv := func(infos []onnx.InputOutputInfo, kind string) []Tensor {
		ts := make([]Tensor, 0, len(infos))
		for _, in := range infos {
			t := Tensor{Name: in.Name}
			if in.OrtValueType != onnx.ONNXTypeTensor {
				sig.typeNames[kind+":"+in.Name] = strings.ToLower(in.OrtValueType.String())
			} else {
				var name string
				t.DType, name = fromORT(in.DataType)
				if t.DType == 0 {
					sig.typeNames[kind+":"+in.Name] = name
				}
				t.Shape = slices.Clone([]int64(in.Dimensions))
			}
			ts = append(ts, t)
		}
		return ts
	}
	sig.Inputs = conv(ins, "input")
	sig.Outputs = conv(outs, "output")
	// ONNX Runtime has parsed the file, so its top level is well formed;
	// the metadata only informs, and a read error leaves it nil.
	if md, err := ReadMetadata(path); err == nil && len(md) > 0 {
		sig.Metadata = md
	}
	return sig, nil
}

// RandomWeights reports whether the model's producer marked its weights
// random (WeightsKey): its speed is real, its outputs are noise.
func (s *Signature) RandomWeights() bool { return s.Metadata[WeightsKey] == RandomWeights }

// lacksKernel reports whether err is ORT saying that no provider of a
// session has a kernel for one of the model's operators. Its versions word
// it in two ways (TestLacksKernel).
func lacksKernel(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "Could not find an implementation") ||
		strings.Contains(err.Error(), "Failed to find kernel for"))
}

// inspectOnGPU reads the model's inputs and outputs through a session with
// the first GPU provider this library has; without one, the error says that
// the model needs one, and which operator the CPU provider lacks (cpuErr).
func (rt *Runtime) inspectOnGPU(path string, cpuErr error) ([]onnx.InputOutputInfo, []onnx.InputOutputInfo, error) {
	for _, p := range []string{CUDA, TensorRT} {
		if !slices.Contains(rt.providers, p) {
			continue
		}
		opts, err := onnx.NewSessionOptions()
		if err != nil {
			return nil, nil, err
		}
		defer opts.Destroy()
		_ = opts.SetGraphOptimizationLevel(onnx.GraphOptimizationLevelDisableAll)
		if err := appendProvider(opts, p, nil); err != nil {
			continue
		}
		return onnx.GetInputOutputInfoWithOptions(path, opts)
	}
	return nil, nil, fmt.Errorf("the CPU provider has no kernel for one of its operators (%s) and this ONNX Runtime has no GPU provider (providers %v); it needs the CUDA provider (make setup-gpu, docs/gpu.md)", oneLine(cpuErr), rt.providers)
}

// typeName names a model tensor's element type for messages.
func (s *Signature) typeName(kind string, t Tensor) string {
	if n, ok := s.typeNames[kind+":"+t.Name]; ok {
		return n
	}
	return t.DType.String()
}

// Mismatches compares the signature with spec and returns every problem, one
// line each (without the file name): missing or extra inputs, missing
// outputs, element types, ranks and dimensions.
func (s *Signature) Mismatches(spec Spec) []string {
	var probs []string
	probs = append(probs, s.compare("input", s.Inputs, spec.Inputs)...)
	probs = append(probs, s.compare("output", s.Outputs, spec.Outputs)...)
	for _, m := range s.Inputs {
		if !slices.ContainsFunc(spec.Inputs, func(w Tensor) bool { return w.Name == m.Name }) {
			probs = append(probs, fmt.Sprintf("input %q (%s %v) is not one this stage feeds", m.Name, s.typeName("input", m), m.Shape))
		}
	}
	return probs
}

func (s *Signature) compare(kind string, have, want []Tensor) []string {
	var probs []string
	for _, w := range want {
		i := slices.IndexFunc(have, func(m Tensor) bool { return m.Name == w.Name })
		if i < 0 {
			names := make([]string, len(have))
			for j, m := range have {
				names[j] = m.Name
			}
			probs = append(probs, fmt.Sprintf("missing %s %q (want %s %v); the model's %ss are %q", kind, w.Name, w.DType, w.Shape, kind, names))
			continue
		}
		m := have[i]
		if !w.DType.Accepts(m.DType) {
			probs = append(probs, fmt.Sprintf("%s %q: element type %s, want %s", kind, w.Name, s.typeName(kind, m), w.DType))
		}
		if w.Shape == nil {
			continue
		}
		if len(m.Shape) != len(w.Shape) {
			probs = append(probs, fmt.Sprintf("%s %q: rank %d %v, want rank %d %v", kind, w.Name, len(m.Shape), m.Shape, len(w.Shape), w.Shape))
			continue
		}
		for d := range w.Shape {
			if w.Shape[d] >= 0 && m.Shape[d] >= 0 && w.Shape[d] != m.Shape[d] {
				probs = append(probs, fmt.Sprintf("%s %q: dimension %d is %d, want %d (shape %v, want %v)", kind, w.Name, d, m.Shape[d], w.Shape[d], m.Shape, w.Shape))
			}
		}
	}
	return probs
}

// Check inspects the model at path and returns a *MismatchError listing
// every difference from spec, or nil when it fits.
func (rt *Runtime) Check(path string, spec Spec) error {
	sig, err := rt.Inspect(path)
	if err != nil {
		return err
	}
	if p := sig.Mismatches(spec); len(p) > 0 {
		return &MismatchError{Path: path, Problems: p}
	}
	return nil
}

// Check is Runtime.Check on the process's Runtime; it fails before Init.
func Check(path string, spec Spec) error {
	rt, err := Current()
	if err != nil {
		return fmt.Errorf("model %s: %w", path, err)
	}
	return rt.Check(path, spec)
}
