package cuda

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
)

// KernelArch is the virtual architecture of the embedded PTX: Turing
// (sm_75) and every later GPU JIT-compile it.
const KernelArch = "compute_75"

// kernelHeaders returns the embedded kernels/*.cuh by include name.
func kernelHeaders() (map[string][]byte, error) {
	names, err := fs.Glob(kernelFS, "kernels/*.cuh")
	if err != nil {
		return nil, err
	}
	h := make(map[string][]byte, len(names))
	for _, n := range names {
		b, err := fs.ReadFile(kernelFS, n)
		if err != nil {
			return nil, err
		}
		h[path.Base(n)] = b
	}
	return h, nil
}

// compileModule compiles the embedded kernels/<name>.cu to PTX for arch
// with n. The options are the ones the committed PTX is made with.
func compileModule(n *NVRTC, name, arch string) ([]byte, error) {
	src, err := fs.ReadFile(kernelFS, "kernels/"+name+".cu")
	if err != nil {
		return nil, fmt.Errorf("cuda: module %s: %w", name, err)
	}
	headers, err := kernelHeaders()
	if err != nil {
		return nil, fmt.Errorf("cuda: module %s headers: %w", name, err)
	}
	ptx, err := n.CompilePTX(name+".cu", src, headers, []string{"--gpu-architecture=" + arch})
	if err != nil {
		return nil, fmt.Errorf("cuda: NVRTC %s: %w", n.Version(), err)
	}
	return renumberCallseq(ptx), nil
}

var callseq = regexp.MustCompile(`// callseq (\d+)`)

// renumberCallseq numbers the "// callseq N" comments NVRTC writes around
// calls from 0 in order of appearance. NVRTC takes N from a counter that
// lives as long as the process, so the same source compiled second in a
// process would otherwise differ from the committed PTX in comments only.
func renumberCallseq(ptx []byte) []byte {
	seen := map[string]string{}
	return callseq.ReplaceAllFunc(ptx, func(m []byte) []byte {
		old := string(callseq.FindSubmatch(m)[1])
		n, ok := seen[old]
		if !ok {
			n = strconv.Itoa(len(seen))
			seen[old] = n
		}
		return []byte("// callseq " + n)
	})
}

// EmbeddedMinDriver is the oldest driver (cuDriverGetVersion's encoding)
// whose JIT accepts the embedded PTX: ISA 7.8 is CUDA 11.8's (R520).
// TestEmbeddedPTXIsCurrent keeps it in step with the PTX's .version.
const EmbeddedMinDriver = 11080

// KernelPlan says how Open will get kernels on a driver of version
// driverVersion: the embedded PTX when the driver is new enough, else the
// machine's NVRTC when one loads, else the lowered PTX. ok is false when
// only the last resort is left.
func KernelPlan(driverVersion int) (plan string, ok bool) {
	if driverVersion >= EmbeddedMinDriver {
		return "embedded PTX (driver CUDA " + DriverVersionString(driverVersion) + " ≥ 11.8)", true
	}
	if n, err := OpenNVRTC(); err == nil {
		return fmt.Sprintf("driver CUDA %s < 11.8: kernels compiled at start by NVRTC %s (%s)",
			DriverVersionString(driverVersion), n.Version(), n.Path), true
	}
	return fmt.Sprintf("driver CUDA %s < 11.8 and no NVRTC: kernels from the PTX lowered to ISA %s (untested on such drivers)",
		DriverVersionString(driverVersion), loweredPTXVersion), false
}
