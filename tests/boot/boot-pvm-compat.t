#!/usr/bin/env bash
# --pvm-compat on a stock kernel: the Debian cloud kernel of boot-test.t
# booted with `mvm run ... --pvm-compat on` (docs/pvm.md).  On a hardware
# KVM host (or the nested-KVM harness) this checks that what --pvm-compat
# does for PVM hosts is harmless and effective: the kernel gets the
# options mvm announces, they take effect (no XSAVE: the FPU falls back to
# FXSAVE), the hidden CPUID features stay hidden from the kernel, and the
# boot still reaches the initramfs.  It says nothing about PVM's own
# emulator, which is not on this host (docs/pvm.md).
#
# Environment: as boot-test.t.
set -u
. "$(dirname "$0")/lib.sh"

NAMES=(
	"mvm says which options --pvm-compat appends"
	"the kernel's command line carries them, before -p"
	"noxsave took effect: x87 FPU uses FXSAVE"
	"hidden CPUID features absent from the guest's /proc/cpuinfo (popcnt, cx16, xsave, smep, smap)"
	"no kernel BUG/Oops/panic, no emulation failure"
	"initramfs /init ran (MVM-BOOT-OK) and mvm exits 0"
)
boot_begin boot-pvm-compat
boot_mode
boot_prepare
boot_run MVM-BOOT-OK "earlyprintk=serial mvm_cpuinfo=1" --pvm-compat on

opts="noxsave nosmap nosmep clearcpuid=141,151"

grep -qF -- "--pvm-compat: appending '$opts' to the kernel command line" "$errlog"
point 1 $? "$(grep -F -- --pvm-compat "$errlog")"
want="Command line: console=ttyS0 reboot=k panic=-1 $opts earlyprintk=serial mvm_cpuinfo=1"
printf '%s\n' "$body" | grep -qxF -- "$want"
point 2 $? "$(printf '%s\n' "$body" | grep -m1 '^Command line:')"
printf '%s\n' "$body" | grep -qF "x86/fpu: x87 FPU will use FXSAVE"
point 3 $? "$(printf '%s\n' "$body" | grep -m1 'x86/fpu:')"
flags=$(printf '%s\n' "$body" | sed -n 's/^MVM-CPUINFO flags\t*: //p' | head -n 1)
if [ -z "$flags" ]; then
	point 4 1 "/init printed no 'MVM-CPUINFO flags' line"
else
	bad=
	for f in popcnt cx16 xsave smep smap; do
		[[ " $flags " != *" $f "* ]] || bad="$bad $f"
	done
	[ -z "$bad" ]
	point 4 $? "${bad:+present:$bad}" "flags: $flags"
fi
! printf '%s\n' "$body" | grep -qE 'BUG:|Oops|Kernel panic' &&
	! grep -q 'emulation failure\|KVM could not emulate' "$errlog"
point 5 $? "$(printf '%s\n' "$body" | grep -m3 -E 'BUG:|Oops|Kernel panic')" \
	"$(grep -m3 'emulat' "$errlog")"
grep -q '^MVM-BOOT-OK' <<<"$body" && [ "$status" = 0 ]
point 6 $? "mvm status $status" "$(tail -n 3 "$console")"
boot_end
