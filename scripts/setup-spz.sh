#!/usr/bin/env bash
# setup-spz.sh fetches two outside SPZ implementations into the cache for
# pipeline/splat's interoperability tests, which run them with node: our
# SPZ read by them, theirs read by us.
#
#   spz-js 1.2.5 (MIT)        an independently written JavaScript reader and
#                             writer (legacy gzip container, version 2). Only
#                             its SPZ modules are taken (dist/spz-loader.js,
#                             spz-serializer.js and the three files they
#                             import, with the package.json that makes them
#                             ES modules); they import nothing outside the
#                             package, so none of its dependencies is needed.
#   @adobe/spz 0.2.3 (MIT)    Niantic's reference C++ library compiled to
#                             WebAssembly (gzip versions 1-3 and NGSP version
#                             4): dist/spz.js, one file with the module
#                             embedded, no dependencies; kept as spz.mjs so
#                             node loads it as the ES module it is.
#
# npm pack + tar only, never npm install; every file verified by sha256;
# idempotent (files in place are left alone).
set -euo pipefail

SPZJS_PKG=spz-js@1.2.5
SPZJS_TGZ=spz-js-1.2.5.tgz
SPZJS_TGZ_SHA=95fca5fc7fc9b534afd9b25ef4d601bed7fe66cecb685a149ed02a34a5870ad4
SPZJS_FILES=(
	"package.json fdda3bc50239b8e48216b3573bd443e6aaf43aba247b88759c75985ce49022a1"
	"dist/spz-loader.js 0026e2c708e88ef495226045375da7befcfd7627e74476378a929a0f40d1bbe4"
	"dist/spz-serializer.js 03303ddb174e1208ac85977157a6a7c26a8d2c64e0ef82aa4588bbefbe6316f6"
	"dist/compression.js 563a249a51869b8f66393775002421f37bd772709426283bb2e45bcff131fa2f"
	"dist/constant.js e3313a39e8f39f8550cf265f3f08b88a7a438ea14a34c97ed2d3d03e9d55c9a5"
	"dist/math.js a4d6dad76f0063620af491077bd5bc309aad6bb9befe124f73c9be25b806a249"
)
ADOBE_PKG=@adobe/spz@0.2.3
ADOBE_TGZ=adobe-spz-0.2.3.tgz
ADOBE_TGZ_SHA=e19116254970da87c300480411f0d87d94957ed3ee9ee4add3027c44cb1c2c0e
ADOBE_JS_SHA=8082c1e972dee3a483f20c080ebc73609ecc15d005cdb0a0ddd18cb67e02c9ab

TAG=setup-spz
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"


tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT

adobe="$CACHE/adobe-spz-0.2.3/spz.mjs"
if ! have "$adobe" "$ADOBE_JS_SHA"; then
	tgz=$(pack "$ADOBE_PKG" "$ADOBE_TGZ" "$ADOBE_TGZ_SHA")
	tar -xzf "$tgz" -C "$tmp" package/dist/spz.js
	verify "$tmp/package/dist/spz.js" "$ADOBE_JS_SHA"
	mkdir -p "$(dirname "$adobe")"
	mv "$tmp/package/dist/spz.js" "$adobe"
	log "$ADOBE_PKG -> $adobe"
fi

dir="$CACHE/spz-js-1.2.5"
missing=0
for entry in "${SPZJS_FILES[@]}"; do
	read -r f sha <<<"$entry"
	have "$dir/$f" "$sha" || missing=1
done
((missing)) || exit 0
tgz=$(pack "$SPZJS_PKG" "$SPZJS_TGZ" "$SPZJS_TGZ_SHA")
tar -xzf "$tgz" -C "$tmp"
for entry in "${SPZJS_FILES[@]}"; do
	read -r f sha <<<"$entry"
	verify "$tmp/package/$f" "$sha"
	mkdir -p "$(dirname "$dir/$f")"
	mv "$tmp/package/$f" "$dir/$f"
done
log "$SPZJS_PKG -> $dir"
