#!/usr/bin/env bash
# setup-viewer.sh builds the 3D splat viewer's renderer bundle into
# <cache>/viewer/splat-vendor.js, for serve's web page, `splatbench view`
# and the tune report (docs/viewer.md says why this renderer):
#
#   three 0.183.2                       the WebGL engine (+ OrbitControls)
#   @mkkellogg/gaussian-splats-3d 0.4.7 the Gaussian-splat renderer (PLY, SPZ)
#   @esbuild/linux-<arch> 0.28.2        esbuild's binary, which bundles the two
#                                       with results/viewer/js/vendor.js into
#                                       one classic script (no ES modules:
#                                       the report opens from file://)
#
# Every package tarball is verified by sha256, and so is the bundle (esbuild
# is deterministic). npm pack + tar only, never npm install. Idempotent.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
THREE_PKG=three@0.183.2
THREE_TGZ=three-0.183.2.tgz
THREE_TGZ_SHA=435d785005cec60a2e9dcca23b69c6a4c048278098f2669d3d879881dff9ce4d
GS3D_PKG=@mkkellogg/gaussian-splats-3d@0.4.7
GS3D_TGZ=mkkellogg-gaussian-splats-3d-0.4.7.tgz
GS3D_TGZ_SHA=d3e6de1da3dcbfba3a69fa4445477f707e897f4cf2ed2bcfa04c39b7b41c850c
ESBUILD_VER=0.28.2
ESBUILD_X64_SHA=9573bb2233aab0f9ea7647d5cca9726113cc1768de61d66b17267f4db84488f6
ESBUILD_ARM64_SHA=a96dbfa41d3ef5dbd1ef22b1c10d5187be9267e86093a870f06402a7ec931596
VENDOR_SHA=6e040c1081e5862680bf28a2bced8c9504da52fdf52907cf0bb43195113dcfdc

TAG=setup-viewer
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"


out="$CACHE/viewer/splat-vendor.js"
have "$out" "$VENDOR_SHA" && exit 0
command -v npm >/dev/null || die "npm is required (Node.js)"

case "$(uname -m)" in
x86_64 | amd64) arch=x64 esb_sha=$ESBUILD_X64_SHA ;;
aarch64 | arm64) arch=arm64 esb_sha=$ESBUILD_ARM64_SHA ;;
*) die "no esbuild package for $(uname -m)" ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm="$tmp/node_modules"
mkdir -p "$nm/three" "$nm/@mkkellogg/gaussian-splats-3d" "$tmp/esbuild"
tar -xzf "$(pack "$THREE_PKG" "$THREE_TGZ" "$THREE_TGZ_SHA")" -C "$nm/three" --strip-components=1 \
	package/package.json package/build/three.module.js package/build/three.core.js \
	package/examples/jsm/controls/OrbitControls.js
tar -xzf "$(pack "$GS3D_PKG" "$GS3D_TGZ" "$GS3D_TGZ_SHA")" -C "$nm/@mkkellogg/gaussian-splats-3d" --strip-components=1 \
	package/package.json package/build/gaussian-splats-3d.module.js
tar -xzf "$(pack "@esbuild/linux-$arch@$ESBUILD_VER" "esbuild-linux-$arch-$ESBUILD_VER.tgz" "$esb_sha")" -C "$tmp/esbuild" \
	--strip-components=1 package/bin/esbuild
cp "$ROOT/results/viewer/js/vendor.js" "$tmp/vendor.js"
mkdir -p "$CACHE/viewer"
(cd "$tmp" && ./esbuild/bin/esbuild vendor.js --bundle --minify --format=iife --target=es2020 \
	--legal-comments=inline --log-level=warning --outfile="$out.part") || die "esbuild failed"
verify "$out.part" "$VENDOR_SHA"
mv "$out.part" "$out"
log "three 0.183.2 + gaussian-splats-3d 0.4.7 -> $out"
