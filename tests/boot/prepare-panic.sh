#!/usr/bin/env bash
# prepare-panic.sh - turn the boot test's plain initramfs (prepare.sh) into
# the one of tests/boot/boot-panic.t: /init is tests/boot/init-panic and
# /lib/modules/ holds the kernel's pvpanic.ko and pvpanic-pci.ko
# (CONFIG_PVPANIC=m, CONFIG_PVPANIC_PCI=m in Debian's cloud kernels),
# decompressed, with /lib/modules/order listing them in load order.
#
# Usage: tests/boot/prepare-panic.sh WORKDIR KPKG KVER
#
# WORKDIR holds prepare.sh's initramfs.cpio.gz, which is rewritten.  The
# modules come from the kernel package KPKG=KVER (`apt-get download`, no
# root needed) and are cached beside its vmlinuz, as prepare.sh caches the
# virtio ones:
#   ${MVM_NESTED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mvm-nested}/boot-test/KPKG_KVER/pvpanic-modules/
# Prints PMODS="pvpanic pvpanic_pci" (the load order) for the caller to
# eval.  On failure the last stderr line is "prepare-panic: <reason>" and
# the status is 2 (the test then skips with that reason).
set -euo pipefail

die() { echo "prepare-panic: $*" >&2; exit 2; }

work=${1:?usage: prepare-panic.sh WORKDIR KPKG KVER}
kpkg=${2:?usage: prepare-panic.sh WORKDIR KPKG KVER}
kver=${3:?usage: prepare-panic.sh WORKDIR KPKG KVER}
here=$(cd "$(dirname "$0")" && pwd)
cache=${MVM_NESTED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mvm-nested}
kdir=$cache/boot-test/${kpkg}_$kver
mods=$kdir/pvpanic-modules
want="pvpanic pvpanic_pci"	# pvpanic-pci needs pvpanic's devm_pvpanic_probe
[[ -f $work/initramfs.cpio.gz ]] || die "no $work/initramfs.cpio.gz (run prepare.sh first)"

if [[ ! -f $mods/order ]]; then
	mkdir -p "$kdir"
	tmp=$(mktemp -d "$kdir/.fetch.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	echo "prepare-panic: apt-get download $kpkg=$kver (for its pvpanic modules)" >&2
	(cd "$tmp" && timeout "${MVM_BOOT_FETCH_TIMEOUT:-180}" apt-get download "$kpkg=$kver") \
		>"$tmp/download.log" 2>&1 ||
		die "apt-get download $kpkg=$kver failed: $(tail -n 1 "$tmp/download.log")"
	dpkg-deb --fsys-tarfile "$tmp"/*.deb |
		tar -x -C "$tmp" --wildcards './lib/modules/*/kernel/drivers/misc/pvpanic/*' ||
		die "$kpkg has no drivers/misc/pvpanic modules (CONFIG_PVPANIC_PCI=m expected)"
	mkdir -p "$tmp/out"
	for m in $want; do
		ko=$(find "$tmp/lib/modules" -regextype posix-extended \
			-regex ".*/${m//_/[-_]}\.ko(\.xz|\.zst|\.gz)?" | head -n 1)
		[[ -n $ko ]] || die "$kpkg has no module $m"
		case $ko in
		*.ko) cp "$ko" "$tmp/out/$m.ko" ;;
		*.ko.xz) xz -dc "$ko" >"$tmp/out/$m.ko" ;;
		*.ko.zst) zstd -qdc "$ko" >"$tmp/out/$m.ko" ;;
		*.ko.gz) gzip -dc "$ko" >"$tmp/out/$m.ko" ;;
		esac || die "cannot decompress $ko"
	done
	echo "$want" | tr ' ' '\n' >"$tmp/out/order"
	rm -rf "$mods"
	mv "$tmp/out" "$mods"
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
(cd "$root" && gzip -dc "$work/initramfs.cpio.gz" | cpio -id --quiet) ||
	die "cannot unpack $work/initramfs.cpio.gz"
mkdir -p "$root/lib/modules"
cp "$mods"/* "$root/lib/modules/"
cp "$here/init-panic" "$root/init"
chmod 755 "$root/init"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
	gzip -1 >"$work/initramfs.cpio.gz" || die "building the initramfs failed"
printf 'PMODS=%q\n' "$want"
