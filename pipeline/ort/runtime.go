package ort

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	onnx "github.com/yalue/onnxruntime_go"
)

// Execution provider names as profiles spell them.
const (
	CPU      = "cpu"
	CUDA     = "cuda"
	TensorRT = "tensorrt"
)

// Runtime is the process's ONNX Runtime: the loaded library, its version and
// the execution providers it was built with. There is at most one per process.
type Runtime struct {
	path        string
	version     string
	providers   []string
	unavailable map[string]string
	log         *slog.Logger

	openMu sync.Mutex
	open   []*Session      // sessions not yet closed, in creation order
	random map[string]bool // every model opened whose weights are random (Signature.RandomWeights)
}

var (
	initMu  sync.Mutex
	current *Runtime
)

// Init loads the ONNX Runtime shared library at path and creates the ORT
// environment. It runs once per process: a later Init with the same library
// returns the same Runtime, one with another library is an error. A failed
// Init (missing, truncated or foreign file) leaves nothing loaded, returns a
// one-line error naming the path, and may be retried with another path.
func Init(path string, log *slog.Logger) (*Runtime, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("onnx runtime library %s: %w", path, err)
	}
	initMu.Lock()
	defer initMu.Unlock()
	if current != nil {
		if current.path != abs {
			return nil, fmt.Errorf("onnx runtime library %s: this process already loaded %s (one library per process)", abs, current.path)
		}
		return current, nil
	}
	if err := checkELF(abs); err != nil {
		return nil, err
	}
	onnx.SetSharedLibraryPath(abs)
	if err := onnx.InitializeEnvironment(onnx.WithLogLevelError()); err != nil {
		return nil, fmt.Errorf("onnx runtime library %s: cannot load: %s", abs, oneLine(err))
	}
	rt := &Runtime{path: abs, version: onnx.GetVersion(), log: log}
	rt.providers, rt.unavailable = probeProviders()
	log.Info("onnx runtime loaded", "path", abs, "version", rt.version, "providers", rt.providers)
	for p, why := range rt.unavailable {
		log.Debug("execution provider not in this build", "provider", p, "reason", why)
	}
	current = rt
	return rt, nil
}

// checkELF rejects files that cannot be a loadable shared library before
// dlopen sees them: dlopen of a truncated library dies with SIGBUS when it
// touches a segment past the end of the file, and its messages for foreign
// files are cryptic.
func checkELF(path string) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("onnx runtime library %s: "+format, append([]any{path}, args...)...)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("onnx runtime library %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return fail("not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("onnx runtime library %s: %w", path, err)
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil || !bytes.Equal(magic[:], []byte(elf.ELFMAG)) {
		return fail("not a shared library (no ELF header, %d bytes); run make setup", fi.Size())
	}
	ef, err := elf.NewFile(f)
	if err != nil {
		return fail("damaged or truncated ELF file (%d bytes): %s; run make setup", fi.Size(), oneLine(err))
	}
	if ef.Type != elf.ET_DYN {
		return fail("ELF type %v, want a shared library (ET_DYN)", ef.Type)
	}
	if want, ok := elfMachine[runtime.GOARCH]; ok && ef.Machine != want {
		return fail("built for %v, this machine is %s", ef.Machine, runtime.GOARCH)
	}
	for i, p := range ef.Progs {
		if p.Type == elf.PT_LOAD && p.Off+p.Filesz > uint64(fi.Size()) {
			return fail("truncated: segment %d ends at byte %d, the file has %d; run make setup", i, p.Off+p.Filesz, fi.Size())
		}
	}
	return nil
}

var elfMachine = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}

// oneLine squeezes a multi-line library message onto one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// probeProviders finds out which execution providers the loaded library
// has, by appending each to a throwaway SessionOptions. CPU is always there.
// A provider that appends may still fail at session creation (no device):
// NewSession falls back then.
func probeProviders() ([]string, map[string]string) {
	have := []string{CPU}
	missing := map[string]string{}
	// ORT logs each failed provider load at error level; the reason is kept
	// in missing instead.
	_ = onnx.SetEnvironmentLogLevel(onnx.LoggingLevelFatal)
	defer onnx.SetEnvironmentLogLevel(onnx.LoggingLevelError)
	for _, p := range []string{CUDA, TensorRT} {
		opts, err := onnx.NewSessionOptions()
		if err == nil {
			err = appendProvider(opts, p, nil)
			opts.Destroy()
		}
		if err != nil {
			missing[p] = oneLine(err)
			continue
		}
		have = append(have, p)
	}
	return have, missing
}

// appendProvider adds execution provider p (CUDA or TensorRT; CPU needs
// nothing) to opts; cuda are the session's own CUDA options (nil: none).
func appendProvider(opts *onnx.SessionOptions, p string, cuda map[string]string) error {
	switch p {
	case CPU:
		return nil
	case CUDA:
		extra, err := cudaOptions(cuda)
		if err != nil {
			return err
		}
		o, err := onnx.NewCUDAProviderOptions()
		if err != nil {
			return err
		}
		defer o.Destroy()
		if err := o.Update(extra); err != nil {
			return fmt.Errorf("CUDA provider options %v (the session's, then $%s): %w", extra, EnvCUDAOptions, err)
		}
		return opts.AppendExecutionProviderCUDA(o)
	case TensorRT:
		o, err := onnx.NewTensorRTProviderOptions()
		if err != nil {
			return err
		}
		defer o.Destroy()
		return opts.AppendExecutionProviderTensorRT(o)
	}
	return fmt.Errorf("unknown execution provider %q (want cpu, cuda or tensorrt)", p)
}

// NormalizeProvider maps the spellings people use ("CUDA",
// "CUDAExecutionProvider", "trt") onto cpu, cuda or tensorrt; it returns the
// lower-cased input when it knows no such provider.
func NormalizeProvider(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.TrimSuffix(n, "executionprovider")
	switch n {
	case "trt":
		return TensorRT
	}
	return n
}

// Path is the absolute path of the loaded library.
func (rt *Runtime) Path() string { return rt.path }

// Version is the library's ORT version, e.g. "1.30.0".
func (rt *Runtime) Version() string { return rt.version }

// Providers lists the execution providers this library build has, cpu first.
func (rt *Runtime) Providers() []string { return append([]string(nil), rt.providers...) }

// Unavailable says why a provider is not in Providers ("" when it is, or
// when the name is unknown).
func (rt *Runtime) Unavailable(provider string) string {
	return rt.unavailable[NormalizeProvider(provider)]
}

// errNotInit is returned by package functions used before Init.
var errNotInit = errors.New("onnx runtime not initialised (call ort.Init first)")

// Current returns the Runtime Init made, or an error before that.
func Current() (*Runtime, error) {
	initMu.Lock()
	defer initMu.Unlock()
	if current == nil {
		return nil, errNotInit
	}
	return current, nil
}

// RandomWeightModels lists, sorted, every model this runtime opened a
// session for whose producer marked its weights random (WeightsKey).
func (rt *Runtime) RandomWeightModels() []string {
	rt.openMu.Lock()
	defer rt.openMu.Unlock()
	return slices.Sorted(maps.Keys(rt.random))
}

// RandomWeightsCaveat is the sentence a table, report or log gives when
// models with random weights ran in this process (RandomWeightModels), ""
// when none did: their times are real, their outputs and every score
// made from them are noise.
func (rt *Runtime) RandomWeightsCaveat() string {
	ms := rt.RandomWeightModels()
	if len(ms) == 0 {
		return ""
	}
	return fmt.Sprintf("Random weights (%s=%s, the mark tools/make_gpu_models.py and make_tiny_models.py write): %s. "+
		"The times are real; the pictures, mattes and CLIP scores made with them are noise.", WeightsKey, RandomWeights, strings.Join(ms, ", "))
}
