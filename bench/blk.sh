#!/usr/bin/env bash
# bench/blk.sh - virtio-blk throughput: 4 KiB sequential/random reads and
# writes on a raw image in the page cache, through mvm's virtio-blk and,
# for comparison, QEMU's.  The guest is tests/guest/g_blk_bench.c (its own
# tiny virtio-pci driver, one queue, QD requests in flight, MSI-X); under
# mvm bench/blk_bench.c builds the VM in-process and reads the guest's
# ucalls; under QEMU the same bzImage runs as
#
#   qemu-system-x86_64 -accel kvm -M q35 -m 256 -kernel g_blk_bench.bzImage
#       -drive file=IMG,if=none,id=d,format=raw,cache=writeback
#       -device virtio-blk-pci,drive=d,disable-legacy=on
#       -device isa-debug-exit,iobase=0xf4,iosize=4
#
# and its serial lines are parsed by `blk_bench --parse`.  Columns:
#
#   MB/s       10^6 bytes/s of 4 KiB requests (guest TSC time of the phase)
#   IOPS       requests/s;  us/req = 1/IOPS (per request, not latency at QD>1)
#   kicks/req  notify writes (MMIO exits) per request
#   irqs/req   MSI-X interrupts the guest took per request
#   waits/req  rounds of `hlt` (irq) or polling that ended with completions
#   errors     requests not completed with VIRTIO_BLK_S_OK
#   rescued    waits ended by the guest's 10 ms LAPIC timer tick instead of
#              the MSI-X interrupt (a late or lost interrupt; the tick keeps
#              a lost one from hanging the guest in hlt)
#
# Configurations (BENCH_CONFIGS, "QD:EVENT_IDX:POLL" words): default
# "1:1:0 1:0:0 1:1:1 16:1:0 16:0:0 16:1:1".  BENCH_N requests per phase
# (default 3000), BENCH_MIB region and image size (default 64).  About 30-60 s
# in the nested harness, boot included.
#
# Without a usable /dev/kvm mvm runs inside the nested-KVM guest of
# tests/nested/run-in-kvm.sh (QEMU TCG with nested SVM): the numbers are
# then NOT those of a real host, only the per-request counts carry over.
# QEMU is measured only with a usable /dev/kvm here (it cannot run inside
# that busybox guest).  Environment: CC, QEMU (default qemu-system-x86_64).
# No assertions: non-zero exit only if a run failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top"
CC=${CC:-gcc}
n=${BENCH_N:-3000}
mib=${BENCH_MIB:-64}
configs=${BENCH_CONFIGS:-1:1:0 1:0:0 1:1:1 16:1:0 16:0:0 16:1:1}
qemu=${QEMU:-qemu-system-x86_64}

if [[ -r /dev/kvm && -w /dev/kvm ]]; then
	mode=host
	make --no-print-directory build/libmvm.a build/tests/lib/ucall_host.o \
		build/guest/g_blk_bench.bzImage >/dev/null
	lib=build
	extra=()
else
	mode=nested
	make --no-print-directory STATIC=1 build-static/libmvm.a \
		build-static/tests/lib/ucall_host.o \
		build/guest/g_blk_bench.bzImage >/dev/null
	lib=build-static
	extra=(-static)
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$CC" -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-D_GNU_SOURCE -pthread -Iinclude -Itests "${extra[@]}" \
	-o "$out/blk_bench" bench/blk_bench.c \
	"$lib/tests/lib/ucall_host.o" "$lib/libmvm.a" \
	-lz -llzma -llz4 -lzstd -lbz2
cp build/guest/g_blk_bench.bzImage "$out/"

# One in-process run per configuration; the image goes to /dev/shm (or
# /tmp) inside blk_bench, filled so reads hit the page cache.
script="export GUEST_DIR=.; rc=0; h=-H; for c in $configs; do
q=\${c%%:*}; r=\${c#*:}; e=\${r%%:*}; p=\${r#*:}
./blk_bench \$h -q \$q -e \$e -p \$p -n $n -M $mib || { echo \"# mvm run \$c failed\"; rc=1; }
h=; done; exit \$rc"

printf '# virtio-blk bench (%s; %s requests of 4 KiB per phase over %s MiB)\n' \
	"$mode" "$n" "$mib"
if [[ $mode == nested ]]; then
	echo "# NOTE: mvm runs in a QEMU-TCG guest with nested SVM: not a real host's numbers"
fi
rc=0
if [[ $mode == host ]]; then
	(cd "$out" && sh -c "$script") || rc=1
else
	tests/nested/run-in-kvm.sh --timeout "${MVM_NESTED_TIMEOUT:-600}" \
		"$out/blk_bench" "$out/g_blk_bench.bzImage" -- sh -c "$script" ||
		rc=1
fi

if [[ $mode != host ]]; then
	echo "# qemu: not measured: no /dev/kvm"
elif ! command -v "$qemu" >/dev/null; then
	echo "# qemu: not measured: $qemu not found"
else
	img=/dev/shm
	[[ -w $img ]] || img=$out
	img=$img/mvm-blk-bench-qemu-$$.img
	trap 'rm -rf "$out" "$img"' EXIT
	"$out/blk_bench" --mkimg "$img" "$mib"
	for c in $configs; do
		q=${c%%:*}; r=${c#*:}; e=${r%%:*}; p=${r#*:}
		log=$out/qemu-$q-$e-$p.log
		: >"$log"
		# isa-debug-exit: the guest writes 0 at the end, QEMU exits 1.
		set +e
		timeout 300 "$qemu" -accel kvm -M q35 -m 256 -display none \
			-nodefaults -no-reboot -serial "file:$log" \
			-kernel "$out/g_blk_bench.bzImage" \
			-append "blk_bench.qd=$q blk_bench.n=$n blk_bench.mib=$mib blk_bench.evidx=$e blk_bench.poll=$p" \
			-drive "file=$img,if=none,id=d,format=raw,cache=writeback" \
			-device virtio-blk-pci,drive=d,disable-legacy=on \
			-device isa-debug-exit,iobase=0xf4,iosize=4
		st=$?
		set -e
		if [[ $st -ne 1 ]]; then
			echo "# qemu run $c: exit status $st"
			rc=1
		fi
		"$out/blk_bench" --parse "$log" -l qemu || rc=1
	done
fi
exit $rc
