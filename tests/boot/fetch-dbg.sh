#!/usr/bin/env bash
# fetch-dbg.sh - the symbols of the boot tests' kernel, from Debian's
# linux-image-*-dbg package (the System.map in the image package is a
# stub: "The real System.map is in the linux-image-<version>-dbg package").
#
# Usage: tests/boot/fetch-dbg.sh KPKG KVER map|vmlinux
#   KPKG, KVER as prepare.sh prints them.  Prints the path of the cached
#   System.map or vmlinux (with DWARF, ~600 MB) on stdout.  Cached in
#   ${MVM_NESTED_CACHE:-~/.cache/mvm-nested}/boot-test/KPKG_KVER/.
#   On failure: one line "fetch-dbg: <reason>" on stderr, status 2.
set -euo pipefail
die() { echo "fetch-dbg: $*" >&2; exit 2; }
kpkg=${1:?usage: fetch-dbg.sh KPKG KVER map|vmlinux} kver=${2:?} what=${3:?}
case $what in
map) want='./usr/lib/debug/boot/System.map-*' name=System.map-dbg ;;
vmlinux) want='./usr/lib/debug/boot/vmlinux-*' name=vmlinux-dbg ;;
*) die "what must be map or vmlinux, not '$what'" ;;
esac
cache=${MVM_NESTED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mvm-nested}/boot-test/${kpkg}_$kver
out=$cache/$name
if [ ! -s "$out" ]; then
	dbg=${kpkg%-unsigned}-dbg
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/.dbg.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && timeout 600 apt-get download "$dbg=$kver") >"$tmp/dl.log" 2>&1 ||
		die "apt-get download $dbg=$kver failed: $(tail -n 1 "$tmp/dl.log")"
	dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" --wildcards "$want" ||
		die "$dbg: no $want in the package"
	mv "$tmp"/usr/lib/debug/boot/* "$out"
fi
echo "$out"
