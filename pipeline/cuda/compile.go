package cuda

import (
	"fmt"
	"io/fs"
	"path"
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
	return ptx, nil
}
