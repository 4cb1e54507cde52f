package cuda

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"unsafe"
)

// kernelFS holds the CUDA sources and the PTX `make ptx` generated from
// them (kernels/*.ptx, committed).
//
//go:embed kernels
var kernelFS embed.FS

// ptxDir, when set (only by the gpu tests' -ptxdir flag), is read instead
// of the embedded PTX, so freshly compiled kernels can be tested without
// rebuilding the test binary.
var ptxDir string

// forceLowered makes the loader use the lowered-version PTX even when the
// native one would load (tests of the fallback).
var forceLowered bool

// ErrNoPTX is wrapped when the binary carries no PTX for a module.
var ErrNoPTX = errors.New("cuda: no PTX for kernel module (run `make ptx` on a machine with nvcc)")

var moduleNames = []string{"project", "sort", "raster", "backward", "adam", "loss"}

type kernels struct {
	mods    []uintptr
	variant string
	fn      map[string]uintptr
}

func readPTX(name string) ([]byte, error) {
	if ptxDir != "" {
		return os.ReadFile(filepath.Join(ptxDir, name+".ptx"))
	}
	b, err := fs.ReadFile(kernelFS, "kernels/"+name+".ptx")
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNoPTX, name, err)
	}
	return b, nil
}

func loadKernels(a *api, log *slog.Logger) (*kernels, error) {
	k := &kernels{fn: map[string]uintptr{}, variant: "native"}
	for _, name := range moduleNames {
		src, err := readPTX(name)
		if err != nil {
			k.unload(a)
			return nil, err
		}
		mod, variant, err := loadModule(a, name, src)
		if err != nil {
			k.unload(a)
			return nil, err
		}
		if variant != "native" {
			k.variant = variant
			log.Warn("cuda: driver rejected the native PTX version; loaded the lowered one", "module", name)
		}
		k.mods = append(k.mods, mod)
		for _, fname := range kernelNames[name] {
			var f uintptr
			if err := a.check("cuModuleGetFunction("+fname+")", a.cuModuleGetFunction(unsafe.Pointer(&f), mod, fname)); err != nil {
				k.unload(a)
				return nil, err
			}
			k.fn[fname] = f
		}
	}
	return k, nil
}

var kernelNames = map[string][]string{
	"project":  {"preprocess", "depthKeys", "gatherCounts", "duplicateSorted", "tileRanges"},
	"sort":     {"scanExclusive", "scanAdd", "radixHistogram", "radixScatter"},
	"raster":   {"rasterForward"},
	"backward": {"rasterBackward", "gaussBackward"},
	"adam":     {"adamStep"},
	"loss":     {"ssimBlurH", "ssimMap", "ssimGradH", "lossGrad", "accumStats"},
}

// loadModule JIT-compiles one PTX text; if the driver rejects its ISA
// version it retries with the version lowered.
func loadModule(a *api, name string, src []byte) (uintptr, string, error) {
	if !forceLowered {
		mod, err := jitLoad(a, name, src)
		if err == nil {
			return mod, "native", nil
		}
		var de *DriverError
		if !errors.As(err, &de) || (de.Code != resultUnsupportedPTXVer && de.Code != resultInvalidPTX) {
			return 0, "", err
		}
	}
	low, err := lowerPTX(src, loweredPTXVersion)
	if err != nil {
		return 0, "", fmt.Errorf("cuda: module %s: %w", name, err)
	}
	mod, err := jitLoad(a, name, low)
	if err != nil {
		return 0, "", err
	}
	return mod, "lowered PTX " + loweredPTXVersion, nil
}

const (
	jitErrorLogBuffer     = 5
	jitErrorLogBufferSize = 6
)

func jitLoad(a *api, name string, src []byte) (uintptr, error) {
	img := append(append([]byte(nil), src...), 0)
	logBuf := make([]byte, 8192)
	opts := []int32{jitErrorLogBuffer, jitErrorLogBufferSize}
	vals := []uintptr{uintptr(unsafe.Pointer(&logBuf[0])), uintptr(len(logBuf))}
	var p runtime.Pinner
	p.Pin(&logBuf[0])
	defer p.Unpin()
	var mod uintptr
	code := a.cuModuleLoadDataEx(unsafe.Pointer(&mod), unsafe.Pointer(&img[0]), uint32(len(opts)),
		unsafe.Pointer(&opts[0]), unsafe.Pointer(&vals[0]))
	runtime.KeepAlive(img)
	if err := a.check("cuModuleLoadDataEx("+name+")", code); err != nil {
		if msg := cString(&logBuf[0], len(logBuf)); msg != "" {
			return 0, fmt.Errorf("%w: JIT log: %s", err, msg)
		}
		return 0, err
	}
	return mod, nil
}

func (k *kernels) unload(a *api) error {
	var first error
	for _, m := range k.mods {
		if err := a.check("cuModuleUnload", a.cuModuleUnload(m)); err != nil && first == nil {
			first = err
		}
	}
	k.mods = nil
	return first
}
