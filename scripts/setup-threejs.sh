#!/usr/bin/env bash
# setup-threejs.sh fetches what pipeline/threejs needs into the cache, each
# file verified by sha256; idempotent (files in place are left alone).
#
#   @babel/parser 7.29.17   the parser the subnet's validator uses (one
#                           dependency-free file, lib/index.js), run by node
#                           for the static checks
#   three 0.183.2           build/three.module.js + build/three.core.js, the
#                           pinned bundle: run by node for the execution
#                           checks, served over loopback to Chromium to render
#                           and examples/jsm/environments/RoomEnvironment.js,
#                           the stand-in for the judge's unpublished studio
#                           environment map
# (Chromium comes from scripts/setup-browser.sh.)
#
# npm pack + tar only, never npm install.
set -euo pipefail

BABEL_PKG=@babel/parser@7.29.17
BABEL_TGZ_SHA=7751ed60040d1cec300b98d6a81520297bf3147bd75d26f64745c95028300cd1
BABEL_JS_SHA=1ac9a921e7e94981dd8e1d15d3cda2b9cf7e42328d1ea8b784d9ee3d2f5626b5
THREE_PKG=three@0.183.2
THREE_TGZ_SHA=435d785005cec60a2e9dcca23b69c6a4c048278098f2669d3d879881dff9ce4d
THREE_MODULE_SHA=e8ac51bc2f6b7eb17bc88c6540eb0a1fee872f848949373de39d55f34b5c5a8f
THREE_CORE_SHA=6a7fc83437818534d5e30ce8c8e0ce76230ca2245446ea24744bb3d88c436583
THREE_ROOM_SHA=55f466192cc84298755a424c5e040345006b2ee1455589b3b54126c2ea4123f4

TAG=setup-threejs
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"



command -v npm >/dev/null || die "npm is required (Node.js)"
dir="$CACHE/threejs"
if ! have "$dir/babel-parser.js" "$BABEL_JS_SHA"; then
	tgz=$(pack "$BABEL_PKG" babel-parser-7.29.17.tgz "$BABEL_TGZ_SHA")
	extract "$tgz" package/lib/index.js "$dir/babel-parser.js" "$BABEL_JS_SHA"
fi
if ! have "$dir/three/three.module.js" "$THREE_MODULE_SHA" || ! have "$dir/three/three.core.js" "$THREE_CORE_SHA" ||
	! have "$dir/three/RoomEnvironment.js" "$THREE_ROOM_SHA"; then
	tgz=$(pack "$THREE_PKG" three-0.183.2.tgz "$THREE_TGZ_SHA")
	extract "$tgz" package/build/three.module.js "$dir/three/three.module.js" "$THREE_MODULE_SHA"
	extract "$tgz" package/build/three.core.js "$dir/three/three.core.js" "$THREE_CORE_SHA"
	extract "$tgz" package/examples/jsm/environments/RoomEnvironment.js "$dir/three/RoomEnvironment.js" "$THREE_ROOM_SHA"
fi

