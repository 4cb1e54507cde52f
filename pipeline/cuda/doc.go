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
// degrees 0–3, the α and transmittance rules of pipeline-algorithms.md §4)
// and is tested against it under the gpu build tag.
//
// PTX and drivers: the kernels are compiled for compute_75 (Turing and
// newer; CUDA 13's nvcc supports no older target). nvcc 13 stamps the PTX
// ISA version 9.0, which needs a driver of the 580 series (CUDA 13) or
// newer. When the driver rejects that version, the loader retries with the
// `.version` line lowered to 7.0 (the kernels use nothing newer: warp
// shuffles, match.any, atomics), the ISA that drivers from the 450 series
// (CUDA 11.0) compile. TestLoweredPTXLoads (gpu tag) checks that the driver
// JIT accepts the lowered text and that it renders like the CPU; it has
// run only under driver 580, no older driver has been tried.
package cuda
