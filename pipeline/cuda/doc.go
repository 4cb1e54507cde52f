// Package cuda owns the GPU path: a binding of the CUDA driver API through
// purego (libcuda.so.1 is opened at run time, so the package builds with
// CGO_ENABLED=0 and runs on machines without a GPU, where Open returns an
// error and callers use the CPU engine), device discovery, the kernels
// (CUDA C in kernels/, compiled to PTX by `make ptx` and embedded), and the
// GPU rasteriser: batched multi-view Render, Forward/Backward for fitting
// with densification statistics, Adam, the fit
// loss (L1 + D-SSIM + alpha) and the whole fit loop on the device
// (Device.Fit, pipeline/fit's semantics; densification runs on the host
// through pipeline/fit's exported state). The rasteriser follows the CPU
// engine in pipeline/splat rule for rule (classic and gsplat modes, SH
// degrees 0–3, the α and transmittance rules of docs/algorithms.md §4)
// and is tested against it under the gpu build tag.
//
// PTX and drivers: the kernels' CUDA C is compiled for compute_75 (Turing
// and newer) by NVRTC 11.8 (`make ptx`, which fetches Debian's libnvrtc
// 11.8 and needs no GPU, nvcc or host compiler; a test keeps the committed
// PTX equal to its output). That PTX declares ISA 7.8, which drivers from
// the R520 series (CUDA 11.8) on JIT-compile, so CUDA 12 and 13 drivers
// load it as is. When a driver rejects the embedded PTX, the loader
// compiles the embedded CUDA C at run time with the machine's NVRTC
// (libnvrtc from CUDA 13, 12 or 11.2+, or the file SPLATBENCH_NVRTC names)
// for the device's own architecture, and failing that retries the
// embedded PTX with its .version lowered to 7.0 (the kernels use nothing
// newer), which drivers from R450 (CUDA 11.0) compile. Device.PTXVariant
// says which of the three loaded.
package cuda
