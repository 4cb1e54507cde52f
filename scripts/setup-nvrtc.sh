#!/usr/bin/env bash
# setup-nvrtc.sh puts NVRTC 11.8 (libnvrtc.so.11.2 and its builtins) in the
# cache: `make ptx` compiles the GPU kernels with it, and the test that keeps
# the committed PTX current needs it. No GPU or CUDA toolkit is involved.
#
# The libraries are Debian bookworm's non-free packages libnvrtc11.2 and
# libnvrtc-builtins11.8 at a pinned version, fetched by package name with
# `apt-get download`. The machine's sources carry only `main`, so the script
# derives a private apt configuration from the machine's own Debian sources
# with the component set to non-free, and keeps its index under the cache:
# the system's apt configuration and package state are not touched and
# nothing is installed. apt checks each .deb against the signed index; the
# script then checks the .debs and the extracted libraries by sha256.
# Idempotent: when both libraries are in place with the right checksums it
# does nothing.
set -euo pipefail

NVRTC_VER=11.8.89~11.8.0-5~deb12u1
NVRTC_DEB_SHA=051b70a3d8737eae470b4158e234cf112c803f631b2c77ae60a24a1146309c22
NVRTC_BUILTINS_DEB_SHA=e446e112c304b86a35925bea6a3991a866a29736fac261adb218ec29efb49bb8
NVRTC_LIB_SHA=672ee68399b0aa98cf52d056302487da8cce72571034bb470c4cdabb406ca3e2
NVRTC_BUILTINS_LIB_SHA=2dc4bf687034e89e117ef82fb300291e4833319a2d47722005d40eeafbafdaaf

TAG=setup
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir="$CACHE/nvrtc-11.8"
have "$dir/libnvrtc.so.11.2" "$NVRTC_LIB_SHA" &&
	have "$dir/libnvrtc-builtins.so.11.8" "$NVRTC_BUILTINS_LIB_SHA" && exit 0
command -v apt-get >/dev/null || die "apt-get is needed to fetch NVRTC (Debian's libnvrtc11.2)"
command -v dpkg-deb >/dev/null || die "dpkg-deb is needed to unpack NVRTC (Debian's dpkg)"

# nonfree_sources CODENAME DIR writes the machine's Debian sources for that
# release (suites CODENAME and CODENAME-updates) with the component set to
# non-free into DIR: deb822 stanzas from sources.list.d/*.sources to
# nonfree.sources, one-line entries from sources.list and *.list to
# nonfree.list.
nonfree_sources() {
	local codename=$1 out=$2 f
	: >"$out/nonfree.sources"
	: >"$out/nonfree.list"
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] || continue
		awk -v cn="$codename" '
			function flush() { if (keep && !off && n) { for (i = 1; i <= n; i++) print buf[i]; print "" } n = 0; keep = 0; off = 0 }
			/^[[:space:]]*$/ { flush(); next }
			/^#/ { next }
			/^Enabled:/ { if (tolower($2) == "no") off = 1; next }
			{
				line = $0
				if (line ~ /^Suites:/) { for (k = 2; k <= NF; k++) if ($k == cn || $k == cn "-updates") keep = 1 }
				if (line ~ /^Components:/) line = "Components: non-free"
				buf[++n] = line
			}
			END { flush() }' "$f" >>"$out/nonfree.sources"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -f $f ]] || continue
		awk -v cn="$codename" '
			$1 == "deb" {
				i = 2; opts = ""
				if ($2 ~ /^\[/) { while ($i !~ /\]$/) { opts = opts $i " "; i++ } opts = opts $i " "; i++ }
				if ($(i+1) == cn || $(i+1) == cn "-updates") print "deb " opts $i " " $(i+1) " non-free"
			}' "$f" >>"$out/nonfree.list"
	done
	[[ -s "$out/nonfree.sources" || -s "$out/nonfree.list" ]]
}

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[[ $codename == bookworm ]] || log "warning: NVRTC $NVRTC_VER is bookworm's; this machine is '${codename:-unknown}'"
apt="$CACHE/apt"
mkdir -p "$apt/sources.list.d" "$apt/lists/partial" "$apt/cache/archives/partial" "$CACHE/deb"
nonfree_sources bookworm "$apt/sources.list.d" ||
	die "no Debian bookworm source in /etc/apt/sources.list{,.d}: cannot derive the non-free component"

aptopts=(-q -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$apt/sources.list.d"
	-o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" -o Dir::State::status=/dev/null)
[[ $(id -u) -eq 0 ]] && aptopts+=(-o APT::Sandbox::User=root)

need=()
for pkg in libnvrtc11.2 libnvrtc-builtins11.8; do
	[[ $pkg == libnvrtc11.2 ]] && sha=$NVRTC_DEB_SHA || sha=$NVRTC_BUILTINS_DEB_SHA
	have "$CACHE/deb/${pkg}_${NVRTC_VER}_amd64.deb" "$sha" || need+=("$pkg=$NVRTC_VER")
done
if ((${#need[@]})); then
	log "apt-get download ${need[*]} (non-free)"
	apt-get "${aptopts[@]}" update >/dev/null || die "apt-get update (non-free index) failed"
	(cd "$CACHE/deb" && apt-get "${aptopts[@]}" download "${need[@]}" >/dev/null) ||
		die "apt-get download ${need[*]} failed"
fi

tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
for pkg in libnvrtc11.2 libnvrtc-builtins11.8; do
	[[ $pkg == libnvrtc11.2 ]] && sha=$NVRTC_DEB_SHA || sha=$NVRTC_BUILTINS_DEB_SHA
	deb="$CACHE/deb/${pkg}_${NVRTC_VER}_amd64.deb"
	verify "$deb" "$sha"
	dpkg-deb -x "$deb" "$tmp"
done
mkdir -p "$dir"
lib="$tmp/usr/lib/x86_64-linux-gnu"
cp "$lib/libnvrtc.so.11.8.89" "$dir/libnvrtc.so.11.2.part"
cp "$lib/libnvrtc-builtins.so.11.8.89" "$dir/libnvrtc-builtins.so.11.8.part"
verify "$dir/libnvrtc.so.11.2.part" "$NVRTC_LIB_SHA"
verify "$dir/libnvrtc-builtins.so.11.8.part" "$NVRTC_BUILTINS_LIB_SHA"
mv "$dir/libnvrtc-builtins.so.11.8.part" "$dir/libnvrtc-builtins.so.11.8"
mv "$dir/libnvrtc.so.11.2.part" "$dir/libnvrtc.so.11.2"
log "NVRTC 11.8 -> $dir"
