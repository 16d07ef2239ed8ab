#!/usr/bin/env bash
# bench/fs.sh - reading a file from a --share (virtio-fs, QEMU 7.2's
# virtiofsd over vhost-user) vs the same bytes as a raw virtio-blk disk,
# in one boot of the Debian cloud kernel (tests/boot/init-share with
# fs_bench=ROUNDS):
#
#   mvm run -k vmlinuz -i initramfs -m 512 -c 2 -d big.bin,ro \
#           --share DIR,tag=fsb [--virtiofsd WRAPPER]
#
# The guest reads DIR/big.bin whole (dd bs=1M to /dev/null) through the
# share and /dev/vda whole, page caches dropped before each, ROUNDS
# times alternating, and reports bytes and milliseconds (/proc/uptime);
# MB/s = 10^6 bytes/s.  On the host side the file sits in the page cache
# (nested: in the harness's RAM-backed root).
#
# Environment: BENCH_FS_MIB (default 256),
# BENCH_FS_ROUNDS (default 1),
# and tests/boot/lib.sh's (MVM, STATIC_MVM, MVM_BOOT_TEST_MODE, ...).
# Without /dev/kvm it runs inside the nested-KVM harness (QEMU TCG):
# the numbers are then not a real host's, only the ratio says something.
set -u
. "$(dirname "$0")/../tests/boot/lib.sh"
mib=${BENCH_FS_MIB:-256}
rounds=${BENCH_FS_ROUNDS:-1}
NAMES=("virtio-fs and virtio-blk each read the same $mib MiB $rounds times")
boot_begin bench-fs
boot_mode
vfsd_find
boot_prepare share
# Compressible (the nested payload is a gzip'd cpio), but not zeros.
mkbig() { yes 'MVM-FS-BENCH-0123456789abcdef-0123456789abcdef-0123456789abcdef' | head -c $((mib << 20)) >"$1"; }
args=()
if [ "$mode" = nested ]; then
	mkdir -p "$work/bt"
	mkbig "$work/bt/big.bin"
	vfsd_carry "$work/bt/vfsd"
	args+=(--virtiofsd ./vfsd/virtiofsd.sh)
else
	mkbig "$work/big.bin"
fi
args+=(-d big.bin,ro --share ".,tag=fsb")
limit=${MVM_BOOT_TIMEOUT:-900}	# not boot_mode's 200: virtio-fs is slow nested
boot_run MVM-FS-OK "fs_bench=$rounds fs_rw=fsb fs_file=big.bin" "${args[@]}"
res=$(printf '%s\n' "$body" | sed -n 's/^MVM-FS bench //p')
n=$(printf '%s\n' "$res" | grep -c .)
if [ "$n" = $((2 * rounds)) ] && ! printf '%s\n' "$res" | awk -v b=$((mib << 20)) '$2 != b { bad = 1 } END { exit !bad }'; then
	point 1 0
else
	point 1 1 "want $((2 * rounds)) reads of $((mib << 20)) bytes; got:" "${res:-none}" "$(tail -n 5 "$console")"
fi
echo "# mode: $mode; $mib MiB file; guest: 512 MiB, 2 vCPUs; host: $(nproc) CPUs, $(awk '/model name/ {sub(/.*: /, ""); print; exit}' /proc/cpuinfo)"
echo "# | round | path | MB/s | ms |"
echo "# | ---: | --- | ---: | ---: |"
printf '%s\n' "$res" | awk '{ r[$1]++; printf "# | %d | %s | %.1f | %d |\n", r[$1], ($1 == "fs" ? "virtio-fs (--share)" : "virtio-blk (-d raw)"), $3 ? $2 / ($3 / 1000) / 1e6 : 0, $3 }'
boot_end
