#!/usr/bin/env bash
# Disks survive mvm being killed (issue 14): a guest writes 4 KiB blocks
# to its virtio-blk disk without end, flushing every 4 writes and saying
# so on the console (tests/guest/g_blk_crash.c); mvm is killed with
# SIGKILL at a random moment, ROUNDS times per format (raw, qcow2).
# After each kill every block the guest saw flushed must be there, whole
# (no torn or misplaced block: tests/boot/blkcrash_check.c), and a qcow2
# image must pass `qemu-img check` (leaked clusters allowed, corruption
# never: block/qcow2_write.c orders data, refcounts and L2/L1 entries).
# Runs directly with /dev/kvm, else in the nested harness with qemu-img
# carried in.  MVM_CRASH_ROUNDS (default 6).
set -u
. "$(dirname "$0")/lib.sh"
rounds=${MVM_CRASH_ROUNDS:-6}
NAMES=("raw: $rounds kills during writes, every flushed block whole and there"
       "qcow2: $rounds kills during writes, qemu-img check clean but for leaks, every flushed block whole and there")
CHECKS=(raw qcow2)
boot_begin disk-crash
boot_mode
command -v qemu-img >/dev/null || skip_all "no qemu-img (Debian package qemu-utils)"
guest=${GUEST_DIR:-$top/build/guest}/g_blk_crash.bzImage
[ -f "$guest" ] || skip_all "no $guest (make guests)"
mkdir -p "$work/bt"
cp "$guest" "$here/disk-crash-inner.sh" "$work/bt/"
echo "$rounds" >"$work/bt/rounds"
"${CC:-cc}" -std=gnu11 -O2 -Wall -Wextra -static -o "$work/bt/blkcrash_check" \
	"$here/blkcrash_check.c" || skip_all "cannot build blkcrash_check (static)"

# qemu-img for the nested guest: with its shared libraries, through its
# own ld.so (the guest has no libc).
carry_qemu_img() {
	local q=$work/bt/qimg bin libs interp
	bin=$(command -v qemu-img)
	mkdir -p "$q/lib"
	cp -L "$bin" "$q/qemu-img"
	libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
	interp=$(ldd "$bin" | awk '$1 ~ /ld-linux/ {print $1; exit}')
	# shellcheck disable=SC2086
	cp -L $libs "$q/lib/"
	cat >"$q/qemu-img.sh" <<WRAP
#!/bin/sh
d=\$(dirname "\$0")
exec "\$d/lib/$(basename "$interp")" --library-path "\$d/lib" "\$d/qemu-img" "\$@"
WRAP
	chmod +x "$q/qemu-img.sh"
}

t0=$(date +%s.%N)
run_in_guest disk-crash-inner.sh "$((rounds * 2 * 20 + 120))" carry_qemu_img
echo "# ran in $(elapsed "$t0") s ($mode)"
grep '^# ' "$work/out"
check_points "$work/out" "$work/err"
