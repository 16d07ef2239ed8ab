#!/usr/bin/env bash
# Boot test: a stock Debian cloud kernel with a busybox initramfs under mvm,
# `mvm run -k vmlinuz -i initramfs -m 512 -c 2`, every test point asserted
# from the captured serial console (see docs/boot-test.md).
#
# Where /dev/kvm works (and is not the PVM flavour) mvm runs directly and
# must reach the marker and exit 0.  Without /dev/kvm the static build of mvm
# runs inside the QEMU-TCG nested-KVM harness (tests/nested/run-in-kvm.sh).
# What cannot be run on the host at hand is reported as "ok N # SKIP
# <reason>"; a boot that runs but misses a point is "not ok".
#
# Environment:
#   MVM                  mvm binary (direct mode)           [required]
#   STATIC_MVM           static mvm for nested mode (default build-static/mvm)
#   MVM_BOOT_TEST_MODE   auto (default), direct or nested
#   MVM_BOOT_MEM         guest RAM in MiB (default 512)
#   MVM_BOOT_CPUS        vCPUs (default 2)
#   MVM_BOOT_PARAMS      extra kernel parameters (default earlyprintk=serial)
#   MVM_BOOT_TIMEOUT     seconds for the mvm run (default 120 direct, 200 nested)
#   MVM_BOOT_KEEP        if set, keep the work dir (console log, initramfs)
#   plus prepare.sh's (MVM_NESTED_CACHE, MVM_BOOT_KERNEL_PKG, ...)
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${MVM:?MVM must point at the mvm binary}"
static_mvm=${STATIC_MVM:-$top/build-static/mvm}
mem=${MVM_BOOT_MEM:-512}
cpus=${MVM_BOOT_CPUS:-2}
params=${MVM_BOOT_PARAMS-earlyprintk=serial}
t_start=$(date +%s.%N)

work=$(mktemp -d "${TMPDIR:-/tmp}/mvm-boot-test.XXXXXX")
if [ -n "${MVM_BOOT_KEEP:-}" ]; then
	trap 'echo "# work dir kept: $work"' EXIT
else
	trap 'rm -rf "$work"' EXIT
fi

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
diag() { sed 's/^/#   /'; }

# ------------------------------------------------------------------ the plan
NAMES=(
	"kernel version banner"
	"e820 map is mvm's for ${mem} MiB"
	"kernel command line is mvm's default plus -p"
	"RAMDISK placed in RAM with the initramfs's size"
	"ACPI: RSDP at 0xE0000, XSDT/FACP/DSDT/FACS/APIC/MCFG found, interpreter up, S5"
	"SMP: ${cpus} CPUs brought up"
	"PCI host bridge [1b36:0008] on bus 0000:00 via ECAM"
	"serial console ttyS0 on a 16550A at 0x3f8"
	"no kernel BUG/Oops/panic/unexpected WARNING"
	"initramfs /init ran: marker MVM-BOOT-OK"
	"mvm exits 0 on poweroff (ACPI S5)"
)
N=${#NAMES[@]}
echo "1..$N"
failed=0
point() { # point NUM STATUS(0 ok, 1 not ok) [DIAG...]
	local n=$1 st=$2
	shift 2
	if [ "$st" -eq 0 ]; then
		echo "ok $n - ${NAMES[$((n - 1))]}"
	else
		echo "not ok $n - ${NAMES[$((n - 1))]}"
		failed=$((failed + 1))
	fi
	[ $# -eq 0 ] || printf '%s\n' "$@" | diag
}
skip_all() { # skip_all REASON: nothing could be booted on this host
	local i
	for ((i = 1; i <= N; i++)); do
		echo "ok $i - ${NAMES[$((i - 1))]} # SKIP $1"
	done
	exit 0
}

# ------------------------------------------------------------------ mode
mode=${MVM_BOOT_TEST_MODE:-auto}
if [ "$mode" = auto ]; then
	if [ ! -e /dev/kvm ]; then
		mode=nested why="no /dev/kvm on this host"
	elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		mode=nested why="/dev/kvm is not read-writable for $(id -un)"
	elif [ -d /sys/module/kvm_pvm ]; then
		# A PVM /dev/kvm emulates kernel-mode guest code at ~4M insn/s: a
		# distribution kernel does not boot in minutes (shared/notes/kvm-host.md).
		mode=nested why="/dev/kvm is the PVM flavour (kvm_pvm loaded)"
	else
		mode=direct why="/dev/kvm works"
	fi
else
	why="MVM_BOOT_TEST_MODE=$mode"
fi
case $mode in
direct) limit=${MVM_BOOT_TIMEOUT:-120} ;;
nested) limit=${MVM_BOOT_TIMEOUT:-200} ;;
*) echo "# MVM_BOOT_TEST_MODE must be auto, direct or nested"; exit 1 ;;
esac
echo "# mode: $mode ($why)"
if [ "$mode" = direct ]; then
	[ -x "$MVM" ] || skip_all "no mvm binary at $MVM (make mvm)"
else
	[ "${MVM_NO_NESTED:-}" != 1 ] ||
		skip_all "$why, and MVM_NO_NESTED=1 forbids the nested-KVM harness"
	[ -x "$static_mvm" ] ||
		skip_all "$why, and there is no static mvm at $static_mvm for the nested-KVM harness (make STATIC=1 mvm)"
fi

# ------------------------------------------------------------------ kernel + initramfs
t0=$(date +%s.%N)
if ! vars=$("$here/prepare.sh" "$work" 2>"$work/prepare.err"); then
	diag <"$work/prepare.err"
	skip_all "cannot get the kernel or initramfs: $(tail -n 1 "$work/prepare.err" | sed 's/^prepare: //')"
fi
eval "$vars"
diag <"$work/prepare.err"
echo "# kernel: $KPKG $KVER (uname -r $KREL); $BUSYBOX; prepared in $(elapsed "$t0") s"
initrd_size=$(stat -c %s "$work/initramfs.cpio.gz")

# ------------------------------------------------------------------ boot
console=$work/console.log
errlog=$work/mvm.err
: >"$console"
: >"$errlog"
t0=$(date +%s.%N)
if [ "$mode" = direct ]; then
	echo "# running: $MVM run -k vmlinuz -i initramfs.cpio.gz -m $mem -c $cpus -p \"$params\" (limit ${limit}s)"
	timeout -k 5 "$limit" "$MVM" run -k "$work/vmlinuz" -i "$work/initramfs.cpio.gz" \
		-m "$mem" -c "$cpus" -p "$params" </dev/null >"$work/out" 2>"$errlog"
	status=$?
	tr -d '\r' <"$work/out" >"$console"
	[ $status -ne 124 ] || echo "# mvm did not finish within ${limit}s (killed by timeout)"
	run_wall=$(elapsed "$t0")
	echo "# mvm exit status $status after $run_wall s wall"
else
	mkdir -p "$work/bt"
	cp "$static_mvm" "$work/bt/mvm"
	mv "$work/vmlinuz" "$work/initramfs.cpio.gz" "$work/bt/"
	cp "$here/in-guest.sh" "$work/bt/"
	echo "# running in the nested-KVM harness: mvm run -k vmlinuz -i initramfs.cpio.gz -m $mem -c $cpus -p \"$params\" (limit ${limit}s)"
	# The QEMU-TCG nested KVM here sometimes stops making progress under
	# heavy load (seen: the L2 kernel's clock stops after "sched_clock:
	# Marking stable"; also in bench/run.sh with 2 vCPUs).  One retry, in
	# nested mode only, and said out loud; direct mode gets no retry.
	for attempt in 1 2; do
		"$top/tests/nested/run-in-kvm.sh" --timeout $((limit + 60)) "$work/bt" \
			-- sh bt/in-guest.sh bt "$mem" "$cpus" "$limit" "$params" \
			>"$work/out" 2>"$work/harness.err"
		hst=$?
		grep -q 'MVM-BOOT-OK' "$work/out" && break
		[ $attempt = 1 ] || break
		echo "# nested attempt 1 did not reach the marker (status $hst); last console line: $(tr -d '\r' <"$work/out" | grep -v '^@@' | tail -n 1)"
		echo "# retrying once (nested-KVM stall, not counted as a pass of attempt 1)"
	done
	run_wall=$(elapsed "$t0")
	tr -d '\r' <"$work/out" >"$work/out.txt"
	if ! grep -q '^@@mvm-start' "$work/out.txt"; then
		diag <"$work/harness.err"
		skip_all "$why and the nested-KVM harness could not run mvm (status $hst): $(grep '^run-in-kvm:' "$work/harness.err" | tail -n 1)"
	fi
	sed -n '/^@@mvm-start/,/^@@mvm-status/{/^@@mvm-/d;p}' "$work/out.txt" >"$console"
	grep -v '^run-in-kvm:' "$work/harness.err" >"$errlog"
	st_line=$(grep '^@@mvm-status ' "$work/out.txt" | tail -n 1)
	if [ -n "$st_line" ]; then
		status=$(echo "$st_line" | cut -d' ' -f2)
		t_in=$(grep '^@@mvm-start ' "$work/out.txt" | cut -d' ' -f2)
		t_out=$(echo "$st_line" | cut -d' ' -f3)
		echo "# mvm exit status $status after $(awk -v a="$t_in" -v b="$t_out" 'BEGIN { printf "%.1f", b - a }') s inside the nested guest; harness wall $run_wall s"
	else
		status=none
		echo "# mvm did not finish: harness status $hst after $run_wall s wall"
		grep '^run-in-kvm:' "$work/harness.err" | diag
	fi
fi

# ------------------------------------------------------------------ assertions
# Console lines without the printk timestamp "[    1.234567] ".
body=$(sed 's/^\[ *[0-9]*\.[0-9]*\] //' "$console")
has() { printf '%s\n' "$body" | grep -qF -- "$1"; }
line() { printf '%s\n' "$body" | grep -F -m1 -- "$1"; }

# 1: the banner of the very kernel we fetched
ban=$(printf '%s\n' "$body" | grep -m1 '^Linux version ')
case $ban in
"Linux version $KREL "*) case $KREL in 6.1.*) point 1 0 "$ban" ;; *) point 1 0 "$ban" "(not a 6.1 kernel: MVM_BOOT_KERNEL_PKG?)" ;; esac ;;
*) point 1 1 "want: Linux version $KREL ...; got: ${ban:-no banner}" ;;
esac

# 2: e820 exactly as x86/e820.c builds it (include/mvm/layout.h)
bytes=$((mem << 20))
low=$((bytes < 0xc0000000 ? bytes : 0xc0000000))
high=$((bytes - low))
e820l() { printf 'BIOS-e820: [mem 0x%016x-0x%016x] %s\n' "$1" "$(($1 + $2 - 1))" "$3"; }
want_e820=$({
	e820l 0 0x9fc00 usable
	e820l 0x9fc00 $((0x100000 - 0x9fc00)) reserved
	e820l 0x100000 $((low - 0x100000)) usable
	e820l 0xe0000000 0x100000 reserved
	[ $high -eq 0 ] || e820l 0x100000000 $high usable
})
got_e820=$(printf '%s\n' "$body" | grep '^BIOS-e820: ')
if [ -n "$got_e820" ] && [ "$got_e820" = "$want_e820" ]; then
	point 2 0 "$got_e820"
else
	point 2 1 "want:" "$want_e820" "got:" "${got_e820:-(no BIOS-e820 lines)}"
fi

# 3: our command line, verbatim
want_cmd="Command line: console=ttyS0 reboot=k panic=-1${params:+ $params}"
got_cmd=$(printf '%s\n' "$body" | grep -m1 '^Command line: ')
if [ "$got_cmd" = "$want_cmd" ]; then
	point 3 0 "$got_cmd"
else
	point 3 1 "want: $want_cmd" "got: ${got_cmd:-none}"
fi

# 4: RAMDISK [start, end]: Linux prints start and PAGE_ALIGN(start + size) - 1
rd=$(printf '%s\n' "$body" | grep -m1 '^RAMDISK: \[mem ')
rs=$(echo "$rd" | sed -n 's/^RAMDISK: \[mem \(0x[0-9a-f]*\)-\(0x[0-9a-f]*\)\].*/\1/p')
re=$(echo "$rd" | sed -n 's/^RAMDISK: \[mem \(0x[0-9a-f]*\)-\(0x[0-9a-f]*\)\].*/\2/p')
if [ -n "$rs" ] && [ -n "$re" ] &&
   [ $((re + 1)) -eq $(((rs + initrd_size + 4095) & ~4095)) ] &&
   [ $((rs)) -ge $((0x100000)) ] && [ $((re)) -lt $low ]; then
	point 4 0 "$rd (initramfs $initrd_size bytes, RAM below 4G ends at $(printf '%#x' $low))"
else
	point 4 1 "got: ${rd:-no RAMDISK line}" "want: a page-aligned range of $initrd_size bytes (rounded up to 4 KiB) in [0x100000, $(printf '%#x' $low))"
fi

# 5: ACPI
miss=
has "ACPI: RSDP 0x00000000000E0000 " || miss="$miss RSDP@0xE0000"
for t in XSDT FACP DSDT FACS APIC MCFG; do
	printf '%s\n' "$body" | grep -q "^ACPI: $t 0x" || miss="$miss $t"
done
has "ACPI: Interpreter enabled" || miss="$miss interpreter"
printf '%s\n' "$body" | grep -q '^ACPI: PM: (supports .*S5' || miss="$miss S5"
acpi_err=$(printf '%s\n' "$body" | grep -E 'ACPI (BIOS )?Error|ACPI Exception' | head -n 5)
if [ -z "$miss" ] && [ -z "$acpi_err" ]; then
	point 5 0 "$(printf '%s\n' "$body" | grep -E '^ACPI: (RSDP|MCFG) |^ACPI: PM: \(supports')"
else
	point 5 1 ${miss:+"missing:$miss"} ${acpi_err:+"ACPI errors:" "$acpi_err"} \
		"$(printf '%s\n' "$body" | grep '^ACPI' | head -n 20)"
fi

# 6: SMP
if [ "$cpus" -eq 1 ]; then want_smp="smp: Brought up 1 node, 1 CPU"; else want_smp="smp: Brought up 1 node, $cpus CPUs"; fi
if printf '%s\n' "$body" | grep -qx -- "$want_smp"; then
	point 6 0 "$want_smp"
else
	point 6 1 "want: $want_smp" "got: $(printf '%s\n' "$body" | grep -E '^smp(boot)?: ' | head -n 5)"
fi

# 7: PCI host bridge, found through the MCFG/ECAM
miss=
has "PCI host bridge to bus 0000:00" || miss="$miss host-bridge"
has "pci 0000:00:00.0: [1b36:0008]" || miss="$miss 00:00.0[1b36:0008]"
printf '%s\n' "$body" | grep -q '^PCI: MMCONFIG for domain 0000 .*0xe0000000' || miss="$miss MMCONFIG@0xe0000000"
if [ -z "$miss" ]; then
	point 7 0 "$(line 'PCI host bridge to bus')" "$(line 'pci 0000:00:00.0: [1b36:0008]')" "$(line 'PCI: MMCONFIG for domain')"
else
	point 7 1 "missing:$miss" "$(printf '%s\n' "$body" | grep -iE '^pci|PCI' | head -n 20)"
fi

# 8: serial console
if has "ttyS0 at I/O 0x3f8 (irq = 4, base_baud = 115200) is a 16550A" &&
   has "printk: console [ttyS0] enabled"; then
	point 8 0 "$(line 'ttyS0 at I/O 0x3f8')"
else
	point 8 1 "$(printf '%s\n' "$body" | grep -E 'ttyS|console' | head -n 10)"
fi

# 9: no BUG/Oops/panic; WARNINGs are failures except, in nested mode, the
# XSAVE size one: QEMU 7.2's TCG apparently does not honour the SVM XSETBV
# intercept, so the L1 KVM never learns the L2 guest's XCR0 and CPUID 0xD.0
# EBX stays 576 (docs/boot-test.md).  Not expected on real hardware.
bad=$(printf '%s\n' "$body" | grep -E '^(BUG: |Oops|Kernel panic|general protection fault|kernel BUG)' | head -n 5)
warns=$(printf '%s\n' "$body" | grep -E '^WARNING: CPU: ' || true)
unexpected=
known=
while IFS= read -r w; do
	[ -n "$w" ] || continue
	if [ "$mode" = nested ] && [[ $w == *"fpu__init_system_xstate"* ]] &&
	   has "XSAVE consistency problem: size"; then
		known="$known$w"$'\n'
	else
		unexpected="$unexpected$w"$'\n'
	fi
done <<<"$warns"
if [ -z "$ban" ]; then
	point 9 1 "no kernel output to check"
elif [ -z "$bad" ] && [ -z "$unexpected" ]; then
	if [ -n "$known" ]; then
		point 9 0 "tolerated in nested mode (QEMU TCG, not mvm):" "$(line 'XSAVE consistency problem')" "${known%$'\n'}"
	else
		point 9 0
	fi
else
	point 9 1 ${bad:+"$bad"} ${unexpected:+"${unexpected%$'\n'}"}
fi

# 10: the marker from /init
if printf '%s\n' "$body" | grep -qx "MVM-BOOT-OK $KREL"; then
	init_t=$(grep -m1 'Run /init as init process' "$console" | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p')
	off_t=$(grep -m1 'reboot: Power down' "$console" | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p')
	point 10 0 "MVM-BOOT-OK $KREL" "$(line 'MVM-BOOT-INFO')" \
		"guest clock: /init at ${init_t:-?} s, power down at ${off_t:-?} s"
else
	point 10 1 "no line 'MVM-BOOT-OK $KREL' on the console; its last lines:" \
		"$(tail -n 25 "$console")"
fi

# 11: exit status 0 after an ACPI S5 poweroff
# mvm also exits 0 when the guest resets (panic=-1 reboot=k after a panic),
# so the console must show the S5 power-down as well.
if [ "$status" = 0 ] && has "ACPI: PM: Preparing to enter system sleep state S5" &&
   has "reboot: Power down"; then
	point 11 0 "mvm exit status 0" "$(line 'Preparing to enter system sleep state S5')" "$(line 'reboot: Power down')"
elif [ "$status" = 0 ]; then
	point 11 1 "mvm exit status 0, but the console shows no ACPI S5 power-down (a guest reset, e.g. after a panic, also exits 0); last lines:" "$(tail -n 5 "$console")"
else
	point 11 1 "mvm exit status: $status" "$(tail -n 5 "$console")"
fi

# ------------------------------------------------------------------ summary
# Not asserted, shown for whoever reads the log (docs/boot-test.md explains
# the ones the nested TCG environment causes).
notes=$(printf '%s\n' "$body" | grep -E 'APIC timer disabled|lapic is not functional|TSC unstable|clocksource .* unstable|Hung task|soft lockup|rcu_.*stall|MMCONFIG .* not reserved|unable to open an initial console' | sort -u)
if [ -n "$notes" ]; then
	echo "# notable console lines (not asserted):"
	printf '%s\n' "$notes" | diag
fi
if [ -s "$errlog" ]; then
	echo "# mvm stderr ($(wc -l <"$errlog") lines):"
	head -n 40 "$errlog" | diag
fi
if [ $failed -ne 0 ]; then
	echo "# $failed point(s) failed; console: $(wc -l <"$console") lines, last 40:"
	tail -n 40 "$console" | diag
	if [ -z "${MVM_BOOT_KEEP:-}" ]; then
		keep=${MVM_NESTED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mvm-nested}/boot-test/last-console.log
		cp "$console" "$keep" 2>/dev/null && echo "# whole console kept in $keep"
	fi
fi
echo "# boot test total wall time $(elapsed "$t_start") s"
[ $failed -eq 0 ]
