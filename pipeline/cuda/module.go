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

// ErrNoPTX is wrapped when the binary carries no PTX for a module.
var ErrNoPTX = errors.New("cuda: no PTX for kernel module (run `make ptx`)")

var moduleNames = []string{"project", "sort", "raster", "chunk", "backward", "adam", "loss"}

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

func loadKernels(a *api, inf Info, log *slog.Logger) (*kernels, error) {
	k := &kernels{fn: map[string]uintptr{}}
	for _, name := range moduleNames {
		src, err := readPTX(name)
		if err != nil {
			k.unload(a)
			return nil, err
		}
		mod, variant, err := loadModule(a, inf, name, src, log)
		if err != nil {
			k.unload(a)
			return nil, err
		}
		k.variant = variant
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
	"project":  {"preprocess", "depthKeys", "gatherCounts", "duplicateSorted", "tileRanges", "tileDepthSort"},
	"sort":     {"scanExclusive", "radixHistogram", "radixScatter"},
	"raster":   {"rasterForward"},
	"chunk":    {"chunkPlan", "rasterChunk", "rasterStops", "rasterRewalk", "rasterMerge"},
	"backward": {"rasterBackward", "gaussBackward"},
	"adam":     {"adamStep"},
	"loss":     {"ssimBlurH", "ssimMap", "ssimGradH", "lossGrad", "accumStats"},
}

// Kernel sources the loader may force (tests of the fallbacks).
const (
	sourceAuto    = ""
	sourceNVRTC   = "nvrtc"
	sourceLowered = "lowered"
)

var forceSource = sourceAuto

// loadModule JIT-compiles one module, trying in turn: the embedded PTX; if
// the driver rejects its ISA version, the module's CUDA C compiled at run
// time by the NVRTC found on the machine (whose PTX its own toolkit's
// drivers accept) for the device's architecture; then the embedded PTX
// with its .version line lowered to loweredPTXVersion. It returns the
// module and a description of what loaded.
func loadModule(a *api, inf Info, name string, src []byte, log *slog.Logger) (uintptr, string, error) {
	if forceSource == sourceAuto {
		mod, err := jitLoad(a, name, src)
		if err == nil {
			major, minor, _ := ptxVersion(src)
			return mod, fmt.Sprintf("embedded PTX %d.%d", major, minor), nil
		}
		var de *DriverError
		if !errors.As(err, &de) || (de.Code != resultUnsupportedPTXVer && de.Code != resultInvalidPTX) {
			return 0, "", err
		}
		log.Warn("cuda: the driver rejected the embedded PTX; trying NVRTC", "module", name, "err", err)
	}
	if forceSource != sourceLowered {
		mod, variant, err := loadCompiled(a, inf, name)
		if err == nil {
			return mod, variant, nil
		}
		if forceSource == sourceNVRTC {
			return 0, "", err
		}
		log.Warn("cuda: NVRTC path failed; trying the lowered PTX", "module", name, "err", err)
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

// loadCompiled compiles module name for the device's compute capability with
// the machine's NVRTC and loads it.
func loadCompiled(a *api, inf Info, name string) (uintptr, string, error) {
	n, err := OpenNVRTC()
	if err != nil {
		return 0, "", err
	}
	arch := fmt.Sprintf("compute_%d%d", inf.CCMajor, inf.CCMinor)
	ptx, err := compileModule(n, name, arch)
	if err != nil {
		return 0, "", err
	}
	mod, err := jitLoad(a, name, ptx)
	if err != nil {
		return 0, "", err
	}
	return mod, fmt.Sprintf("NVRTC %s %s", n.Version(), arch), nil
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
