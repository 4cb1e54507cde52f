package cuda

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// ErrNoNVRTC is wrapped when no NVRTC library (libnvrtc) can be loaded.
var ErrNoNVRTC = errors.New("cuda: NVRTC library not available")

// NVRTCEnv names the environment variable that points at a libnvrtc
// shared object; it is tried before the system's.
const NVRTCEnv = "SPLATBENCH_NVRTC"

// nvrtcSonames are tried after NVRTCEnv, newest first. NVRTC 11.x keeps the
// soname libnvrtc.so.11.2 for every 11.2+ release.
var nvrtcSonames = []string{"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"}

// nvrtcGlobs are searched last: toolkit installs that are not on the
// loader's path.
var nvrtcGlobs = []string{"/usr/local/cuda/lib64/libnvrtc.so.*", "/usr/local/cuda-*/lib64/libnvrtc.so.*"}

// NVRTC is a loaded runtime-compilation library: it turns the kernels'
// CUDA C into PTX without nvcc, a host compiler or a GPU.
type NVRTC struct {
	Path         string
	Major, Minor int

	version        func(major, minor unsafe.Pointer) int32
	createProgram  func(prog unsafe.Pointer, src, name unsafe.Pointer, nHeaders int32, headers, includeNames unsafe.Pointer) int32
	compileProgram func(prog uintptr, nOpts int32, opts unsafe.Pointer) int32
	logSize        func(prog uintptr, size unsafe.Pointer) int32
	getLog         func(prog uintptr, buf unsafe.Pointer) int32
	ptxSize        func(prog uintptr, size unsafe.Pointer) int32
	getPTX         func(prog uintptr, buf unsafe.Pointer) int32
	destroyProgram func(prog unsafe.Pointer) int32
	errorString    func(code int32) string
}

var (
	nvrtcOnce sync.Once
	nvrtcLib  *NVRTC
	nvrtcErr  error
)

// OpenNVRTC loads libnvrtc once per process: the file NVRTCEnv names, then
// the sonames of CUDA 13, 12 and 11, then the toolkit folders under
// /usr/local. The error wraps ErrNoNVRTC and lists every attempt.
func OpenNVRTC() (*NVRTC, error) {
	nvrtcOnce.Do(func() {
		var cands []string
		if p := os.Getenv(NVRTCEnv); p != "" {
			cands = append(cands, p)
		}
		cands = append(cands, nvrtcSonames...)
		for _, g := range nvrtcGlobs {
			m, _ := filepath.Glob(g)
			sort.Sort(sort.Reverse(sort.StringSlice(m)))
			cands = append(cands, m...)
		}
		nvrtcLib, nvrtcErr = loadNVRTC(cands)
	})
	return nvrtcLib, nvrtcErr
}

func loadNVRTC(cands []string) (*NVRTC, error) {
	var errs []error
	for _, path := range cands {
		n, err := bindNVRTC(path)
		if err == nil {
			return n, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("%w (set %s to a libnvrtc.so): %w", ErrNoNVRTC, NVRTCEnv, errors.Join(errs...))
}

func bindNVRTC(path string) (*NVRTC, error) {
	// NVRTC dlopens its builtins library by soname; when the library was
	// given by path, load the builtins beside it first so that lookup
	// finds them whatever the loader's search path.
	if strings.Contains(path, "/") {
		dir := filepath.Dir(path)
		if m, _ := filepath.Glob(filepath.Join(dir, "libnvrtc-builtins.so.*")); len(m) > 0 {
			sort.Strings(m)
			if _, err := purego.Dlopen(m[0], purego.RTLD_NOW|purego.RTLD_GLOBAL); err != nil {
				return nil, fmt.Errorf("%s: %w", m[0], err)
			}
		}
	}
	lib, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	n := &NVRTC{Path: path}
	for _, e := range []struct {
		fn   any
		name string
	}{
		{&n.version, "nvrtcVersion"},
		{&n.createProgram, "nvrtcCreateProgram"},
		{&n.compileProgram, "nvrtcCompileProgram"},
		{&n.logSize, "nvrtcGetProgramLogSize"},
		{&n.getLog, "nvrtcGetProgramLog"},
		{&n.ptxSize, "nvrtcGetPTXSize"},
		{&n.getPTX, "nvrtcGetPTX"},
		{&n.destroyProgram, "nvrtcDestroyProgram"},
		{&n.errorString, "nvrtcGetErrorString"},
	} {
		sym, err := purego.Dlsym(lib, e.name)
		if err != nil {
			return nil, fmt.Errorf("%s: symbol %s: %w", path, e.name, err)
		}
		purego.RegisterFunc(e.fn, sym)
	}
	var major, minor int32
	if err := n.check("nvrtcVersion", n.version(unsafe.Pointer(&major), unsafe.Pointer(&minor))); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	n.Major, n.Minor = int(major), int(minor)
	return n, nil
}

// Version returns "major.minor".
func (n *NVRTC) Version() string { return fmt.Sprintf("%d.%d", n.Major, n.Minor) }

func (n *NVRTC) check(call string, code int32) error {
	if code == 0 {
		return nil
	}
	return fmt.Errorf("cuda: %s: %s (nvrtcResult %d)", call, n.errorString(code), code)
}

// cstrings holds NUL-terminated copies of Go strings and an array of
// pointers to them, pinned for the length of a call.
type cstrings struct {
	bufs [][]byte
	ptrs []uintptr
	pin  runtime.Pinner
}

func newCStrings(ss []string) *cstrings {
	c := &cstrings{}
	for _, s := range ss {
		b := append([]byte(s), 0)
		c.pin.Pin(&b[0])
		c.bufs = append(c.bufs, b)
		c.ptrs = append(c.ptrs, uintptr(unsafe.Pointer(&b[0])))
	}
	return c
}

// array returns a pointer to the pointer array, nil when empty.
func (c *cstrings) array() unsafe.Pointer {
	if len(c.ptrs) == 0 {
		return nil
	}
	return unsafe.Pointer(&c.ptrs[0])
}

func (c *cstrings) free() { c.pin.Unpin() }

// CompilePTX compiles one CUDA C translation unit to PTX. headers maps
// include names (as the source writes them) to their text; opts are
// NVRTC options such as "--gpu-architecture=compute_75". On a compile
// error the error carries NVRTC's log.
func (n *NVRTC) CompilePTX(name string, src []byte, headers map[string][]byte, opts []string) ([]byte, error) {
	hnames := make([]string, 0, len(headers))
	for h := range headers {
		hnames = append(hnames, h)
	}
	sort.Strings(hnames)
	htexts := make([]string, len(hnames))
	for i, h := range hnames {
		htexts[i] = string(headers[h])
	}
	s := newCStrings([]string{string(src), name})
	defer s.free()
	hs, hn, op := newCStrings(htexts), newCStrings(hnames), newCStrings(opts)
	defer hs.free()
	defer hn.free()
	defer op.free()

	var prog uintptr
	if err := n.check("nvrtcCreateProgram("+name+")", n.createProgram(unsafe.Pointer(&prog),
		unsafe.Pointer(&s.bufs[0][0]), unsafe.Pointer(&s.bufs[1][0]), int32(len(hnames)), hs.array(), hn.array())); err != nil {
		return nil, err
	}
	defer n.destroyProgram(unsafe.Pointer(&prog))
	if err := n.check("nvrtcCompileProgram("+name+")", n.compileProgram(prog, int32(len(opts)), op.array())); err != nil {
		if log := n.programLog(prog); log != "" {
			return nil, fmt.Errorf("%w:\n%s", err, log)
		}
		return nil, err
	}
	var size uint64
	if err := n.check("nvrtcGetPTXSize("+name+")", n.ptxSize(prog, unsafe.Pointer(&size))); err != nil {
		return nil, err
	}
	buf := make([]byte, size)
	if size > 0 {
		if err := n.check("nvrtcGetPTX("+name+")", n.getPTX(prog, unsafe.Pointer(&buf[0]))); err != nil {
			return nil, err
		}
	}
	return []byte(strings.TrimRight(string(buf), "\x00")), nil
}

func (n *NVRTC) programLog(prog uintptr) string {
	var size uint64
	if n.logSize(prog, unsafe.Pointer(&size)) != 0 || size <= 1 {
		return ""
	}
	buf := make([]byte, size)
	if n.getLog(prog, unsafe.Pointer(&buf[0])) != 0 {
		return ""
	}
	return strings.TrimSpace(strings.TrimRight(string(buf), "\x00"))
}
