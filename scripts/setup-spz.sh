#!/usr/bin/env bash
# setup-spz.sh fetches spz-js 1.2.5 (MIT), an independently written
# JavaScript SPZ reader and writer (legacy gzip container, version 2), into
# the cache for pipeline/splat's interoperability test, which runs it with
# node: our SPZ read by it, its SPZ read by us. Only the SPZ modules are
# taken (dist/spz-loader.js, spz-serializer.js and the three files they
# import, with the package.json that makes them ES modules); they import
# nothing outside the package, so none of its dependencies is needed.
#
# npm pack + tar only, never npm install; every file verified by sha256;
# idempotent (files in place are left alone).
set -euo pipefail

CACHE="${SPLATBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/splatbench}"
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

log() { printf 'setup-spz: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
have() { [[ -f "$1" ]] && echo "$2  $1" | sha256sum --check --status; }
verify() { have "$1" "$2" || die "$1: sha256 $(sha256sum "$1" | cut -d' ' -f1), want $2"; }

dir="$CACHE/spz-js-1.2.5"
missing=0
for entry in "${SPZJS_FILES[@]}"; do
	read -r f sha <<<"$entry"
	have "$dir/$f" "$sha" || missing=1
done
((missing)) || exit 0

command -v npm >/dev/null || die "npm is required (Node.js)"
mkdir -p "$CACHE/npm"
tgz="$CACHE/npm/$SPZJS_TGZ"
if ! have "$tgz" "$SPZJS_TGZ_SHA"; then
	log "npm pack $SPZJS_PKG"
	(cd "$CACHE/npm" && npm pack --silent "$SPZJS_PKG" >/dev/null) || die "npm pack $SPZJS_PKG failed"
fi
verify "$tgz" "$SPZJS_TGZ_SHA"
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
tar -xzf "$tgz" -C "$tmp"
for entry in "${SPZJS_FILES[@]}"; do
	read -r f sha <<<"$entry"
	verify "$tmp/package/$f" "$sha"
	mkdir -p "$(dirname "$dir/$f")"
	mv "$tmp/package/$f" "$dir/$f"
done
log "$SPZJS_PKG -> $dir"
