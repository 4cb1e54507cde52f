#!/usr/bin/env bash
# setup-gpu.sh fetches ONNX Runtime's CUDA execution provider into the cache
# (`make setup-gpu`; not part of `make setup`, so CPU machines never fetch
# it). Everything comes from the npm registry by package name (npm pack +
# tar, never npm install) and is verified by sha256. Idempotent.
#
#   <cache>/ort-gpu/libonnxruntime.so.1                  onnxruntime-node@1.29.0 (core with the
#                                                        provider bridge; ORT 1.29.0)
#   <cache>/ort-gpu/libonnxruntime_providers_cuda.so     com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9
#   <cache>/ort-gpu/libonnxruntime_providers_shared.so   (built for ORT 1.29 and CUDA 13)
#
# The provider's own pairs with ORT 1.29, so the GPU folder carries the
# 1.29 core library, not the CPU set-up's 1.30. splatbench prefers this
# folder when it exists and the machine has an NVIDIA device (see
# pipeline/ort FindLibrary). CUDA 13 (cudart, cuBLAS) and cuDNN 9 must be
# on LD_LIBRARY_PATH when splatbench starts: docs/gpu.md.
set -euo pipefail

CORE_PKG=onnxruntime-node@1.29.0
CORE_TGZ_SHA=cfdfb45ec4044b1fdca43e5d2e180fb6817e649ff8ad1e0dfc90e18e51b67037
CORE_LIB_SHA=89688f5cf51c7e31befbb7b9101bc027799009b18d1baa9a5b1146a72e69538d
CUDA_PKG=com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9
CUDA_TGZ_SHA=2b459e0c17f340c92970c10ed86de4f37a3009f93c14053e6ad4334cbb6be412
CUDA_LIB_SHA=56cf3254b118ad837ccc4ed8f6d1b23504bbf7ef91b34cbc0b289cb7f10b3037
SHARED_LIB_SHA=c6a12593396095f5670160e284c35d1700b7708cf3037b7042e2a5200ccae772

TAG=setup-gpu
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"



command -v npm >/dev/null || die "npm is required (Node.js); install nodejs and npm"
dir="$CACHE/ort-gpu"
mkdir -p "$dir"
if ! have "$dir/libonnxruntime.so.1" "$CORE_LIB_SHA"; then
	extract "$(pack "$CORE_PKG" onnxruntime-node-1.29.0.tgz "$CORE_TGZ_SHA")" package/bin/napi-v6/linux/x64/libonnxruntime.so.1 "$dir/libonnxruntime.so.1" "$CORE_LIB_SHA"
fi
if ! have "$dir/libonnxruntime_providers_cuda.so" "$CUDA_LIB_SHA" || ! have "$dir/libonnxruntime_providers_shared.so" "$SHARED_LIB_SHA"; then
	tgz=$(pack "$CUDA_PKG" com.github.asus4.onnxruntime.linux-x64-gpu-0.4.9.tgz "$CUDA_TGZ_SHA")
	extract "$tgz" package/Plugins/Linux/x64/libonnxruntime_providers_cuda.so "$dir/libonnxruntime_providers_cuda.so" "$CUDA_LIB_SHA"
	extract "$tgz" package/Plugins/Linux/x64/libonnxruntime_providers_shared.so "$dir/libonnxruntime_providers_shared.so" "$SHARED_LIB_SHA"
fi
echo "$dir"
