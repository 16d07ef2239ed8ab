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
. "$(dirname "$0")/lib.sh"
params=${MVM_BOOT_PARAMS-earlyprintk=serial}

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
boot_begin boot-test
boot_mode

# ------------------------------------------------------------------ kernel + initramfs
boot_prepare
initrd_size=$(stat -c %s "$work/initramfs.cpio.gz")

# ------------------------------------------------------------------ boot
boot_run MVM-BOOT-OK "$params"

# ------------------------------------------------------------------ assertions
# $body: console lines without the printk timestamp "[    1.234567] ".
# 1: the banner of the very kernel we fetched
ban=$(printf '%s\n' "$body" | grep -m1 '^Linux version ')
case $ban in
"Linux version $KREL "*) case $KREL in 6.1.*) point 1 0 "$ban" ;; *) point 1 0 "$ban" "(not a 6.1 kernel: MVM_BOOT_KERNEL_PKG?)" ;; esac ;;
*) point 1 1 "want: Linux version $KREL ...; got: ${ban:-no banner}" ;;
esac

# 2: e820 exactly as x86/e820.c builds it (include/x86/layout.h)
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
# XSAVE size one (kernel_health, docs/boot-test.md).
kernel_health
if [ -z "$ban" ]; then
	point 9 1 "no kernel output to check"
elif [ -z "$bad" ] && [ -z "$unexpected" ]; then
	if [ -n "$known" ]; then
		point 9 0 "tolerated in nested mode (QEMU TCG, not mvm):" "$(line 'XSAVE consistency problem')" "$known"
	else
		point 9 0
	fi
else
	point 9 1 ${bad:+"$bad"} ${unexpected:+"$unexpected"}
fi

# 10: the marker from /init
if printf '%s\n' "$body" | grep -qx "MVM-BOOT-OK $KREL"; then
	point 10 0 "MVM-BOOT-OK $KREL" "$(line 'MVM-BOOT-INFO')" \
		"guest clock: /init at $(ktime 'Run /init as init process') s, power down at $(ktime 'reboot: Power down') s"
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
boot_summary last-console.log
