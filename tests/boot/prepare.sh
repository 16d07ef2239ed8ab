#!/usr/bin/env bash
# prepare.sh - get what the boot test boots: the newest Debian cloud kernel
# and an initramfs of busybox-static plus tests/boot/init.
#
# Usage: tests/boot/prepare.sh OUTDIR [virtio|share|hostroot]
#
# Writes OUTDIR/vmlinuz and OUTDIR/initramfs.cpio.gz and prints, on stdout,
# shell assignments the caller can eval:
#   KPKG=linux-image-6.1.0-NN-cloud-amd64-unsigned KVER=6.1.x-y
#   KREL=6.1.0-NN-cloud-amd64 (uname -r of that kernel)
#   BUSYBOX=<where the busybox came from>
# Progress goes to stderr.  On failure the last stderr line is
# "prepare: <reason>" and the exit status is 2 (the boot test then reports
# SKIP with that reason).
#
# The kernel is the package linux-image-cloud-amd64 depends on, in its
# -unsigned variant (fallback: the signed one), fetched with
# `apt-get download` (no root needed) and cached, like tests/nested, in
#   ${MVM_NESTED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mvm-nested}/boot-test/
# A vmlinuz already unpacked by tests/nested/run-in-kvm.sh for the same
# package version is reused instead of downloading again.
#
# With "virtio" the initramfs is the one of tests/boot/boot-virtio.t: its
# /init is tests/boot/init-virtio and /lib/modules/ holds the kernel's
# virtio modules (virtio_pci, virtio_blk, virtio_rng, virtio_console,
# virtio_net and their dependencies, decompressed, listed in load order in
# /lib/modules/order).  The modules come from the same kernel package and
# are cached next to its vmlinuz (<cache dir>/virtio-modules/); a kernel
# cached without them is downloaded once more.  A further line
#   VMODS="virtio_ring virtio ..." (the load order)
# is printed.
#
# With "share" (tests/boot/boot-share.t, bench/fs.sh) the same, with the
# modules of virtio_pci, virtiofs and virtio_blk (cached in
# <cache dir>/share-modules/, fetched again when that list changes) and
# tests/boot/init-share as /init.
# With "hostroot" (tests/boot/hostroot.t) OUTDIR/mods/ is also a small
# installed modules tree of the same package (hostroot-modules.sh),
# cached as <cache dir>/hostroot-mods/.
#
# Environment:
#   MVM_BOOT_KERNEL_PKG   kernel package to use instead of resolving the newest
#   MVM_BOOT_FETCH_TIMEOUT seconds for one apt-get download (default 180)
#   MVM_NESTED_NO_INSTALL  also means: never run apt-get update
set -euo pipefail

die() { echo "prepare: $*" >&2; exit 2; }
log() { echo "prepare: $*" >&2; }

out=${1:?usage: prepare.sh OUTDIR [virtio|share|hostroot]}
flavour=${2:-plain}
[[ $flavour == plain || $flavour == virtio || $flavour == share ||
   $flavour == hostroot ]] ||
	die "usage: prepare.sh OUTDIR [virtio|share|hostroot]"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/hostroot-modules.sh"
mkdir -p "$out"
cache=${MVM_NESTED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mvm-nested}
bcache=$cache/boot-test
mkdir -p "$bcache" || die "cannot create cache dir $bcache"
fetch_timeout=${MVM_BOOT_FETCH_TIMEOUT:-180}

for t in apt-cache apt-get dpkg-deb tar cpio gzip timeout; do
	command -v "$t" >/dev/null || die "missing host tool: $t (Debian packages apt, dpkg, tar, cpio, gzip, coreutils)"
done

pkg_version() { # newest (candidate) version of a package, or nothing
	apt-cache show --no-all-versions "$1" 2>/dev/null |
		awk '/^Version:/ {print $2; exit}' || true
}

resolve_kernel() { # sets kpkg, kver
	local meta
	kpkg=${MVM_BOOT_KERNEL_PKG:-}
	kver=
	if [[ -z $kpkg ]]; then
		meta=$(apt-cache show --no-all-versions linux-image-cloud-amd64 2>/dev/null |
			sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*\).*/\1/p' | head -n1) || true
		[[ -n $meta ]] || return 0
		kpkg=$meta-unsigned
		kver=$(pkg_version "$kpkg")
		if [[ -z $kver ]]; then	# no -unsigned variant: the signed one boots too
			kpkg=$meta
			kver=$(pkg_version "$kpkg")
		fi
	else
		kver=$(pkg_version "$kpkg")
	fi
}

# The virtio drivers boot-virtio.t loads; their dependencies are added.
VIRTIO_WANT="virtio_pci virtio_blk virtio_rng virtio_console virtio_net"
# boot-share.t's.
SHARE_WANT="virtio_pci virtiofs virtio_blk"
mods=virtio-modules want=$VIRTIO_WANT
[[ $flavour != share ]] || mods=share-modules want=$SHARE_WANT

fetch_deb() { # fetch_deb DIR: apt-get download $kpkg=$kver into DIR
	log "apt-get download $kpkg=$kver"
	(cd "$1" && timeout "$fetch_timeout" apt-get download "$kpkg=$kver") \
		>"$1/download.log" 2>&1 ||
		die "apt-get download $kpkg=$kver failed: $(tail -n 1 "$1/download.log")"
}

# cache_modules DEBTREE DEST [WANT]: the WANT (default VIRTIO_WANT) modules and what they depend
# on (the depends= of each module's .modinfo, so no modinfo is needed),
# decompressed into DEST/NAME.ko, and DEST/order in load order.  Modules
# built into the kernel (modules.builtin) are left out.
cache_modules() {
	local tree=$1 dest=$2 wanted=${3:-$VIRTIO_WANT} mdir m
	local -A seen=()
	local order=()
	mdir=$(ls -d "$tree"/lib/modules/*/ 2>/dev/null | head -n 1)
	[[ -n $mdir ]] || die "$kpkg: no lib/modules in the package"
	mkdir -p "$dest.tmp"
	add_mod() { # depth-first: dependencies first
		local name=$1 ko deps d
		[[ -z ${seen[$name]:-} ]] || return 0
		seen[$name]=1
		if grep -qE "/${name//_/[-_]}\.ko\$" "$mdir/modules.builtin" 2>/dev/null; then
			return 0
		fi
		ko=$(find "$mdir" -regextype posix-extended \
			-regex ".*/${name//_/[-_]}\.ko(\.xz|\.zst|\.gz)?" | head -n 1)
		[[ -n $ko ]] || die "$kpkg has no module $name (CONFIG_${name^^}=m expected)"
		case $ko in
		*.ko) cp "$ko" "$dest.tmp/$name.ko" ;;
		*.ko.xz) xz -dc "$ko" >"$dest.tmp/$name.ko" ;;
		*.ko.zst) zstd -qdc "$ko" >"$dest.tmp/$name.ko" ;;
		*.ko.gz) gzip -dc "$ko" >"$dest.tmp/$name.ko" ;;
		esac || die "cannot decompress $ko"
		deps=$(tr '\0' '\n' <"$dest.tmp/$name.ko" | sed -n 's/^depends=//p' | head -n 1)
		for d in ${deps//,/ }; do add_mod "${d//-/_}"; done
		order+=("$name")
	}
	for m in $wanted; do add_mod "$m"; done
	printf '%s\n' "${order[@]}" >"$dest.tmp/order"
	echo "$wanted" >"$dest.tmp/wanted"
	rm -rf "$dest"
	mv "$dest.tmp" "$dest"
}

# ------------------------------------------------------------------ kernel
resolve_kernel
if [[ -z $kver && -z ${MVM_BOOT_KERNEL_PKG:-} && $(id -u) == 0 && -z ${MVM_NESTED_NO_INSTALL:-} ]]; then
	log "no kernel package in the apt lists; apt-get update"
	timeout 180 apt-get update -q >"$bcache/apt-update.log" 2>&1 || true
	resolve_kernel
fi
kdir=
if [[ -n $kver ]]; then
	kdir=$bcache/${kpkg}_$kver
	if [[ ! -f $kdir/vmlinuz ]]; then
		tmp=$(mktemp -d "$bcache/.fetch.XXXXXX")
		trap 'rm -rf "$tmp"' EXIT
		nested=$cache/${kpkg}_$kver/vmlinuz	# tests/nested's copy
		if [[ -f $nested ]]; then
			log "reusing $nested"
			cp "$nested" "$tmp/vmlinuz"
		else
			fetch_deb "$tmp"
			dpkg-deb --fsys-tarfile "$tmp"/*.deb |
				tar -x -C "$tmp" --wildcards './boot/vmlinuz-*' './lib/modules/*' ||
				die "$kpkg: cannot extract boot/vmlinuz-*"
			mv "$tmp"/boot/vmlinuz-* "$tmp/vmlinuz"
			cache_modules "$tmp" "$tmp/virtio-modules"	# cheap now, saves a download later
			cache_hostroot_modules "$tmp" "$tmp/hostroot-mods"
		fi
		rm -rf "$kdir"
		mkdir -p "$kdir"
		mv "$tmp/vmlinuz" "$kdir/vmlinuz"
		[[ ! -d $tmp/virtio-modules ]] || mv "$tmp/virtio-modules" "$kdir/virtio-modules"
		[[ ! -d $tmp/hostroot-mods ]] || mv "$tmp/hostroot-mods" "$kdir/hostroot-mods"
		rm -rf "$tmp"
		trap - EXIT
	fi
	# The share list grew since: its cache has a "wanted" file to compare.
	if [[ ( $flavour == virtio || $flavour == share ) && ( ! -f $kdir/$mods/order ||
	      ( $flavour == share && "$(cat "$kdir/$mods/wanted" 2>/dev/null)" != "$want" ) ) ]] ||
	   [[ $flavour == hostroot && ! -d $kdir/hostroot-mods ]]; then
		# Cached before the modules were kept (or from tests/nested's copy).
		tmp=$(mktemp -d "$bcache/.fetch.XXXXXX")
		trap 'rm -rf "$tmp"' EXIT
		fetch_deb "$tmp"
		dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" --wildcards './lib/modules/*' ||
			die "$kpkg: cannot extract lib/modules"
		if [[ $flavour == hostroot ]]; then
			cache_hostroot_modules "$tmp" "$kdir/hostroot-mods"
		else
			cache_modules "$tmp" "$kdir/$mods" "$want"
		fi
		rm -rf "$tmp"
		trap - EXIT
	fi
elif [[ -n ${MVM_BOOT_KERNEL_PKG:-} ]]; then
	die "MVM_BOOT_KERNEL_PKG=$kpkg: apt-cache knows no such package"
else
	# No apt lists (offline container): the newest kernel cached earlier.
	kdir=$(ls -d "$bcache"/linux-image-*_* 2>/dev/null | sort -V | tail -n 1) || true
	[[ -n $kdir && -f $kdir/vmlinuz ]] ||
		die "cannot resolve linux-image-cloud-amd64 with apt-cache (no apt lists? run apt-get update) and nothing cached in $bcache"
	log "apt-cache knows no kernel package; using cached $(basename "$kdir")"
	kpkg=$(basename "$kdir"); kver=${kpkg#*_}; kpkg=${kpkg%%_*}
fi
# uname -r of the kernel: the package name without linux-image- / -unsigned.
krel=${kpkg#linux-image-}
krel=${krel%-unsigned}
cp "$kdir/vmlinuz" "$out/vmlinuz"
[[ $flavour == plain || $flavour == hostroot || -f $kdir/$mods/order ]] ||
	die "no $mods cached in $kdir and apt-cache knows no kernel package to fetch them from"
[[ $flavour != hostroot || -d $kdir/hostroot-mods ]] ||
	die "no modules tree cached in $kdir and apt-cache knows no kernel package to fetch it from"
if [[ $flavour == hostroot ]]; then
	rm -rf "$out/mods"
	cp -r "$kdir/hostroot-mods" "$out/mods"
fi

# ------------------------------------------------------------------ busybox
# The initramfs has no libc, so busybox must be the static build.
if [[ $(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null) == "install ok installed" &&
	-x /bin/busybox ]]; then
	busybox=/bin/busybox
	bbfrom="busybox-static $(dpkg-query -W -f='${Version}' busybox-static) (installed)"
else
	bbver=$(pkg_version busybox-static)
	[[ -n $bbver ]] || bbver=$(ls -d "$bcache"/busybox-static_* 2>/dev/null |
		sort -V | tail -n 1 | sed 's/.*busybox-static_//') || true
	[[ -n $bbver ]] || die "busybox-static is neither installed nor known to apt-cache"
	bdir=$bcache/busybox-static_$bbver
	if [[ ! -x $bdir/busybox ]]; then
		tmp=$(mktemp -d "$bcache/.fetch.XXXXXX")
		trap 'rm -rf "$tmp"' EXIT
		log "apt-get download busybox-static=$bbver"
		(cd "$tmp" && timeout "$fetch_timeout" apt-get download "busybox-static=$bbver") \
			>"$tmp/download.log" 2>&1 ||
			die "apt-get download busybox-static=$bbver failed: $(tail -n 1 "$tmp/download.log")"
		dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" ./bin/busybox ||
			die "busybox-static: cannot extract bin/busybox"
		mkdir -p "$bdir"
		mv "$tmp/bin/busybox" "$bdir/busybox"
		rm -rf "$tmp"
		trap - EXIT
	fi
	busybox=$bdir/busybox
	bbfrom="busybox-static $bbver (downloaded)"
fi

# ------------------------------------------------------------------ initramfs
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp}
cp "$busybox" "$root/bin/busybox"
if [[ $flavour == virtio || $flavour == share ]]; then
	mkdir -p "$root/lib/modules"
	cp "$kdir/$mods"/* "$root/lib/modules/"
	cp "$here/init-$flavour" "$root/init"
else
	cp "$here/init" "$root/init"
fi
chmod 755 "$root/init" "$root/bin/busybox"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
	gzip -1 >"$out/initramfs.cpio.gz" || die "building the initramfs failed"

printf 'KPKG=%q\nKVER=%q\nKREL=%q\nBUSYBOX=%q\n' "$kpkg" "$kver" "$krel" "$bbfrom"
[[ $flavour != virtio && $flavour != share ]] || printf 'VMODS=%q\n' "$(tr '\n' ' ' <"$kdir/$mods/order" | sed 's/ $//')"
