# hostroot-modules.sh - sourced by prepare.sh (bash) for its "hostroot"
# flavour (tests/boot/hostroot.t): cache_hostroot_modules PKGTREE DEST
# makes DEST/lib/modules/KREL/ a small installed modules tree, as `make
# modules_install INSTALL_MOD_PATH=DEST` lays one out, from the unpacked
# kernel package PKGTREE: only what mvm's init loads (virtio_pci,
# virtio_console, virtiofs, overlay, pvpanic_pci), virtio_rng for
# --modprobe, and their dependencies (each module's .modinfo depends=),
# so it stays small for the nested harness's payload; plus
# modules.builtin and modules.order.  Debian's package ships no
# modules.dep (its postinst runs depmod): it is written here, one line
# per module with its direct dependencies (mvm follows each
# dependency's own line).
HOSTROOT_WANT="virtio_pci virtio_console virtiofs overlay pvpanic_pci virtio_rng"

cache_hostroot_modules() {
	local src dst rel m
	local -A seen=()
	local dep=()
	src=$(ls -d "$1"/lib/modules/*/ 2>/dev/null | head -n 1)
	[[ -n $src ]] || die "$kpkg: no lib/modules in the package"
	dst=$2.tmp/lib/modules/$(basename "$src")
	mkdir -p "$dst"
	find_ko() { # find_ko DIR NAME: NAME's module file under DIR, relative
		(cd "$1" && find kernel -regextype posix-extended \
			-regex ".*/${2//[-_]/[-_]}\.ko(\.xz|\.zst|\.gz)?" | head -n 1)
	}
	add_hr_mod() { # dependencies first
		local name=${1//-/_} rel deps d dl="" cat=cat
		[[ -z ${seen[$name]:-} ]] || return 0
		seen[$name]=1
		rel=$(find_ko "$src" "$name")
		[[ -n $rel ]] || return 0	# built in (modules.builtin)
		mkdir -p "$dst/$(dirname "$rel")"
		cp "$src/$rel" "$dst/$rel"
		case $rel in
		*.ko.xz) cat="xz -dc" ;;
		*.ko.zst) cat="zstd -qdc" ;;
		*.ko.gz) cat="gzip -dc" ;;
		esac
		deps=$($cat "$src/$rel" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n 1)
		for d in ${deps//,/ }; do
			add_hr_mod "$d"
			dl+=" $(find_ko "$dst" "$d")"
		done
		dep+=("$rel:$dl")
	}
	for m in $HOSTROOT_WANT; do add_hr_mod "$m"; done
	printf '%s\n' "${dep[@]}" >"$dst/modules.dep"
	cp "$src/modules.builtin" "$src/modules.order" "$dst/"
	rm -rf "$2"
	mv "$2.tmp" "$2"
}
