#!/usr/bin/env bash
# bench/hostroot.sh - the cost of host-root mode (issue 11, "Benchmarks"):
# in one boot of the nested-KVM harness (or directly with /dev/kvm), the
# Debian cloud kernel of tests/boot/prepare.sh started RUNS times each as
#   hostroot  mvm run -k vmlinuz --modules mods [--virtiofsd W] -- echo first
#             (mvm's generated initramfs, the host's / over virtio-fs)
#   plain     mvm run -k vmlinuz -i plain.cpio -p "quiet loglevel=1"
#             (a plain initramfs: busybox and an /init that loads the same
#             modules with insmod, prints "first" on the console, the
#             serial port, and powers off with poweroff -f)
#   true      mvm run -k vmlinuz --modules mods [--virtiofsd W] -- true
# in turn (bench/hostroot-inner.sh), and prints median/min/max of the time
# from just before fork() to the first byte on mvm's stdout and of the
# whole process (bench/benchrun.c, CLOCK_MONOTONIC), the ratio
# hostroot/plain of the medians and whether it meets the goal (at most
# 1.10x).  See docs/performance.md.
#
# Environment: BENCH_HOSTROOT_RUNS (default 4), BENCH_HOSTROOT_LIMIT
# (seconds one mvm run may take, default 90), and tests/boot/lib.sh's
# (MVM, STATIC_MVM, MVM_BOOT_TEST_MODE, MVM_VIRTIOFSD ...).  Without
# /dev/kvm it runs inside the nested-KVM harness (QEMU TCG): the numbers
# are then not a real host's.
set -u
. "$(dirname "$0")/../tests/boot/lib.sh"
runs=${BENCH_HOSTROOT_RUNS:-4}
lim=${BENCH_HOSTROOT_LIMIT:-90}
CC=${CC:-cc}
NAMES=("host-root, plain-initramfs and true runs all ran and printed what they should")
boot_begin bench-hostroot
boot_mode
bt=$work/bt
mkdir -p "$bt"
vars=$("$top/tests/boot/prepare.sh" "$bt" hostroot 2>"$work/prepare.err") ||
	skip_all "cannot get the kernel or its modules: $(tail -n 1 "$work/prepare.err")"
eval "$vars"
echo "# kernel: $KPKG $KVER (uname -r $KREL); $BUSYBOX"

# The plain initramfs: prepare.sh's busybox, the modules host-root mode's
# init loads (hostroot/initramfs.c: virtio_pci, virtio_console, virtiofs,
# overlay, pvpanic_pci) with their dependencies in modules.dep order, an
# uncompressed newc cpio like mvm's own.
ir=$work/plain
mkdir -p "$ir"
(cd "$ir" && gzip -dc "$bt/initramfs.cpio.gz" | cpio -idm --quiet) ||
	skip_all "cannot unpack prepare.sh's initramfs"
rm -f "$bt/initramfs.cpio.gz" "$ir/init"
mdir=$(echo "$bt"/mods/lib/modules/*)
order=$(awk -v want="virtio_pci virtio_console virtiofs overlay pvpanic_pci" '
	function base(p) { sub(/.*\//, "", p); sub(/\.ko.*/, "", p); gsub(/-/, "_", p); return p }
	{ sub(/:$/, "", $1); k = $1; sub(/:.*/, "", k); dep[base(k)] = $0; path[base(k)] = k }
	function add(m,   f, i, n) {
		if (seen[m]++) return
		n = split(dep[m], f, /[: ]+/)
		for (i = n; i >= 2; i--) if (f[i] != "") add(base(f[i]))
		print path[m]
	}
	END { n = split(want, w, " "); for (i = 1; i <= n; i++) if (w[i] in path) add(w[i]) }' "$mdir/modules.dep")
mkdir -p "$ir/mods"
: >"$ir/mods/order"
for k in $order; do
	cp "$mdir/$k" "$ir/mods/" && basename "$k" >>"$ir/mods/order"
done
echo "# plain initramfs modules: $(tr '\n' ' ' <"$ir/mods/order")"
cat >"$ir/init" <<'INIT'
#!/bin/busybox sh
# bench/hostroot.sh's plain initramfs: the modules, "first", power off.
b=/bin/busybox
$b mount -t proc proc /proc
$b mount -t sysfs sysfs /sys
$b mount -t devtmpfs devtmpfs /dev
for m in $($b cat /mods/order); do $b insmod /mods/$m; done
echo first >/dev/console
$b poweroff -f
INIT
chmod +x "$ir/init"
(cd "$ir" && find . | cpio -o -H newc --quiet >"$bt/plain.cpio")
"$CC" -std=gnu11 -O2 -Wall -Wextra -static -o "$bt/benchrun" "$top/bench/benchrun.c" ||
	skip_all "cannot build bench/benchrun.c (static)"
cp "$top/bench/hostroot-inner.sh" "$bt/"
out=$work/out
t0=$(date +%s.%N)
if [ "$mode" = direct ]; then
	MVM=$MVM timeout -k 5 $(((3 * runs + 2) * lim)) sh "$bt/hostroot-inner.sh" "$bt" "$runs" "$lim" \
		>"$out" 2>"$work/err"
else
	cp "$static_mvm" "$bt/mvm"
	vfsd_find
	vfsd_carry "$bt/vfsd"
	done_seen() { grep -q '^@@done' "$out"; }
	nested_run done_seen "$out" "$work/err" --timeout $(((3 * runs + 2) * lim + 60)) "$bt" \
		-- sh bt/hostroot-inner.sh bt "$runs" "$lim"
fi
echo "# ran in $(elapsed "$t0") s ($mode)"
tr -d '\r' <"$out" >"$work/out.txt"
res=$work/out.txt
sed -n 's/^@out /# check run: /p; s/^@err /# check run stderr: /p' "$res"

# ---- the table
stats() { # stat LABEL KEY: "median min max" of KEY over LABEL's runs
	awk -v l="$1" -v k="$2" '$1 == l { for (i = 2; i <= NF; i++) { split($i, kv, "=")
		if (kv[1] == k "_med") v[n++] = kv[2] } }
	END { if (!n) { print "- - -"; exit }
		for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		m = n % 2 ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
		printf "%.0f %.0f %.0f\n", m, v[0], v[n - 1] }' "$res"
}
count() { awk -v l="$1" '$1 == l' "$res" | grep -c .; }
info() { sed -n "s/^@$1 //p" "$res" | head -n 1; }
echo
if [ "$mode" = nested ]; then
	echo "MEASURED INSIDE NESTED KVM UNDER QEMU TCG: NOT REPRESENTATIVE OF A REAL HOST"
	echo "outer host: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), Linux $(uname -r), $(qemu-system-x86_64 --version | head -n 1)"
	echo "nested guest (where mvm ran): $(info nproc) vCPUs, $(info cpu), Linux $(info kernel)"
else
	echo "host: $(info nproc) CPUs, $(info cpu), Linux $(info kernel)"
fi
echo "guest kernel $KREL, mvm's default RAM and vCPUs; $runs rounds (hostroot, plain, true in turn), no warm-up but one unmeasured check run of hostroot and plain"
echo "ms from just before fork() (CLOCK_MONOTONIC): first = first byte on mvm's stdout, wall = wait4() returned"
echo
printf '| %-59s | %3s | %22s | %21s |\n' "run" "n" "first ms med (min-max)" "wall ms med (min-max)"
printf '| %-59s | %3s | %22s | %21s |\n' "---" "---:" "---:" "---:"
row() { # row LABEL DESCRIPTION
	local f w
	read -r -a f <<<"$(stats "$1" first)"
	read -r -a w <<<"$(stats "$1" wall)"
	local fs="${f[0]} (${f[1]}-${f[2]})"
	[ "$1" != true ] || fs=-
	printf '| %-59s | %3s | %22s | %21s |\n' "$2" "$(count "$1")" \
		"$fs" "${w[0]} (${w[1]}-${w[2]})"
}
row hostroot "(a) host-root: --modules mods [--virtiofsd] -- echo first"
row plain "(b) plain initramfs (busybox /init: insmod, echo, poweroff)"
row true "(c) host-root: --modules mods [--virtiofsd] -- true"
fa=$(stats hostroot first | cut -d' ' -f1)
fb=$(stats plain first | cut -d' ' -f1)
wa=$(stats hostroot wall | cut -d' ' -f1)
wb=$(stats plain wall | cut -d' ' -f1)
echo
awk -v fa="$fa" -v fb="$fb" -v wa="$wa" -v wb="$wb" 'BEGIN {
	if (fa == "-" || fb == "-" || fb <= 0) { print "(a)/(b): not measured"; exit }
	r = fa / fb
	printf "(a)/(b) time to first output: %.2fx (medians); goal <= 1.10x: %s\n", r, r <= 1.10 ? "MET" : "NOT MET"
	if (wb > 0) printf "(a)/(b) whole process: %.2fx (medians)\n", wa / wb }'
bad=
for l in hostroot plain true; do
	[ "$(count $l)" = "$runs" ] || bad="$bad $l: $(count $l) of $runs runs;"
done
grep -q '^@out hostroot status=0 stdout= *f i r s t \\n *$' "$res" || bad="$bad hostroot's stdout is not exactly 'first';"
grep -q '^@out plain status=0 stdout= *f i r s t \\r \\n' "$res" || bad="$bad plain's stdout does not start with 'first';"
if [ -z "$bad" ]; then
	point 1 0
else
	point 1 1 "$bad" "$(grep -v '^@' "$res" | tail -n 5)" "$(tail -n 5 "$work/err")"
fi
boot_end
