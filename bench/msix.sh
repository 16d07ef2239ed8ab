#!/usr/bin/env bash
# bench/msix.sh - MSI-X enable cost and interrupt rate of a passed-through
# function (the simulated mbox-vf), for table sizes 1, 16, 256, 2048 on both
# host kernel flavours mvm supports (dynamic MSI-X allocation, Linux >= 6.5;
# NORESIZE, older kernels).  One row per run of bench/msix_bench.c, which
# builds the VM in-process and runs tests/guest/g_msix_bench.c:
#
#   N          MSI-X table size the guest enables and unmasks completely
#   SET_IRQS   VFIO_DEVICE_SET_IRQS calls the host saw (all indexes: the
#              INTx setup at realize and its disable count too)
#   msix       of those, the MSI-X ones (mvm's count)
#   commits    KVM_SET_GSI_ROUTING commits
#   irqfd      KVM_IRQFD calls
#   GSIs       GSIs in use at the end
#   enable_ms  guest time: Enable|Function Mask, program N entries, clear FM
#   unmask_ms  guest time: unmask N vectors one by one
#   irqs/s     doorbell on vector 0, wait for the interrupt, M times
#
# Without a usable /dev/kvm everything runs inside the nested-KVM guest of
# tests/nested/run-in-kvm.sh: the times are then those of QEMU-TCG with
# nested SVM, NOT of a real host; the counts are the same anywhere.
# Environment: CC, BENCH_M (doorbells per run, default 2000), BENCH_NS
# ("1 16 256 2048").  No assertions: non-zero exit only if a run failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top"
CC=${CC:-gcc}
m=${BENCH_M:-2000}
ns=${BENCH_NS:-1 16 256 2048}

if [[ -r /dev/kvm && -w /dev/kvm ]]; then
	mode=host
	make --no-print-directory build/libmvm.a build/tests/lib/ucall_host.o \
		build/guest/g_msix_bench.bzImage >/dev/null
	lib=build
	extra=()
else
	mode=nested
	make --no-print-directory STATIC=1 build-static/libmvm.a \
		build-static/tests/lib/ucall_host.o \
		build/guest/g_msix_bench.bzImage >/dev/null
	lib=build-static
	extra=(-static)
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$CC" -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-D_GNU_SOURCE -pthread -Iinclude -Itests "${extra[@]}" \
	-o "$out/msix_bench" bench/msix_bench.c \
	"$lib/tests/lib/ucall_host.o" "$lib/libmvm.a" \
	-lz -llzma -llz4 -lzstd -lbz2
cp build/guest/g_msix_bench.bzImage "$out/"

# mvm holds one eventfd per vector and the simulated host a reference to
# each (a dup: a real kernel holds an eventfd_ctx instead), so N=2048 needs
# over 4096 fds: raise the limit (root may raise the hard one too).
script="export GUEST_DIR=.; ulimit -n 16384 2>/dev/null || ulimit -n \$(ulimit -Hn); rc=0; for n in $ns; do for f in dynamic noresize; do
./msix_bench \$n \$f $m 2>/dev/null || { echo \"# run N=\$n \$f failed\"; rc=1; }
done; done; exit \$rc"

printf '# MSI-X bench (%s, M=%s doorbells per run)\n' "$mode" "$m"
printf '%6s %-9s %9s %7s %8s %7s %6s %10s %10s %9s %s\n' \
	N flavour SET_IRQS msix commits irqfd GSIs enable_ms unmask_ms \
	'irqs/s' delivered
if [[ $mode == host ]]; then
	(cd "$out" && sh -c "$script")
else
	tests/nested/run-in-kvm.sh --timeout "${MVM_NESTED_TIMEOUT:-900}" \
		"$out/msix_bench" "$out/g_msix_bench.bzImage" -- sh -c "$script"
fi
