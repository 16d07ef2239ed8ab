#!/usr/bin/env bash
# prepare-hostroot.sh - what tests/boot/hostroot.t boots: the Debian cloud
# kernel of prepare.sh and a small installed modules tree of its own
# package, as `make modules_install INSTALL_MOD_PATH=OUTDIR/mods` lays one
# out:
#   OUTDIR/vmlinuz
#   OUTDIR/mods/lib/modules/KREL/{kernel/...,modules.dep,modules.builtin,
#                                 modules.order}
# The tree holds only what mvm's init loads (virtio_pci, virtio_console,
# virtiofs, overlay, pvpanic_pci), virtio_rng for --modprobe, and their
# dependencies (each module's .modinfo depends=), so it stays small for
# the nested harness's payload.  Debian's package ships no modules.dep
# (its postinst runs depmod); it is written here, one line per module
# with its direct dependencies, as depmod would (mvm follows each
# dependency's own line).  Cached next to the kernel
# (<cache>/boot-test/<pkg>_<ver>/hostroot-mods/).
#
# Usage: tests/boot/prepare-hostroot.sh OUTDIR
# Prints prepare.sh's variable lines on stdout; progress on stderr; on
# failure the last stderr line is "prepare: <reason>", status 2.
set -euo pipefail

die() { echo "prepare: $*" >&2; exit 2; }
log() { echo "prepare: $*" >&2; }

out=${1:?usage: prepare-hostroot.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
vars=$("$here/prepare.sh" "$out") || exit 2
eval "$vars"
cache=${MVM_NESTED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mvm-nested}
kdir=$cache/boot-test/${KPKG}_$KVER
want="virtio_pci virtio_console virtiofs overlay pvpanic_pci virtio_rng"

if [[ ! -f $kdir/hostroot-mods/lib/modules/$KREL/modules.dep ]]; then
	tmp=$(mktemp -d "$cache/boot-test/.fetch.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	log "apt-get download $KPKG=$KVER (for its modules)"
	(cd "$tmp" && timeout "${MVM_BOOT_FETCH_TIMEOUT:-180}" apt-get download "$KPKG=$KVER") \
		>"$tmp/download.log" 2>&1 ||
		die "apt-get download $KPKG=$KVER failed: $(tail -n 1 "$tmp/download.log")"
	dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" --wildcards './lib/modules/*' ||
		die "$KPKG: cannot extract lib/modules"
	src=$tmp/lib/modules/$KREL
	[[ -d $src ]] || die "$KPKG: no lib/modules/$KREL in the package"
	dst=$tmp/hostroot-mods/lib/modules/$KREL
	mkdir -p "$dst"
	declare -A seen=()
	dep=()
	add_mod() { # add_mod NAME: copy NAME's .ko, its dependencies first
		local name=${1//-/_} rel deps d dl=""
		[[ -z ${seen[$name]:-} ]] || return 0
		seen[$name]=1
		rel=$(cd "$src" && find kernel -regextype posix-extended \
			-regex ".*/${name//_/[-_]}\.ko(\.xz|\.zst|\.gz)?" | head -n 1)
		[[ -n $rel ]] || return 0	# built in (modules.builtin)
		mkdir -p "$dst/$(dirname "$rel")"
		cp "$src/$rel" "$dst/$rel"
		case $rel in
		*.ko) cat=cat ;;
		*.ko.xz) cat="xz -dc" ;;
		*.ko.zst) cat="zstd -qdc" ;;
		*.ko.gz) cat="gzip -dc" ;;
		esac
		deps=$($cat "$src/$rel" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n 1)
		for d in ${deps//,/ }; do
			add_mod "$d"
			dl+=" $(cd "$dst" && find kernel -regextype posix-extended \
				-regex ".*/${d//[-_]/[-_]}\.ko(\.xz|\.zst|\.gz)?" | head -n 1)"
		done
		dep+=("$rel:$dl")
	}
	for m in $want; do add_mod "$m"; done
	printf '%s\n' "${dep[@]}" >"$dst/modules.dep"
	cp "$src/modules.builtin" "$src/modules.order" "$dst/"
	rm -rf "$kdir/hostroot-mods"
	mv "$tmp/hostroot-mods" "$kdir/hostroot-mods"
	rm -rf "$tmp"
	trap - EXIT
fi
rm -rf "$out/mods"
cp -r "$kdir/hostroot-mods" "$out/mods"
printf '%s\n' "$vars"
