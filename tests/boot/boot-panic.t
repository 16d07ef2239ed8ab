#!/usr/bin/env bash
# Panic boot test: the Debian cloud kernel of boot-test.t crashes on
# purpose (`echo c > /proc/sysrq-trigger` in tests/boot/init-panic), twice:
#
#   1. pp_mod=1: /init loads pvpanic and pvpanic-pci, which bind mvm's
#      pvpanic-pci function (1b36:0011); the panic notifier's PANICKED
#      write ends the VM: mvm exits 255 and prints the panic line.
#   2. without the driver: only the serial console shows the panic; with
#      mvm's default panic=-1 reboot=k the kernel then resets the machine,
#      and mvm, having seen the panic line, exits 255 all the same.
#
# Both are asserted from the console and mvm's stderr and status, in direct
# mode (/dev/kvm) or nested mode (the static mvm in
# tests/nested/run-in-kvm.sh).  Two boots of ~20-40 s each nested.
#
# Environment: as boot-test.t (MVM, STATIC_MVM, MVM_BOOT_TEST_MODE,
# MVM_BOOT_MEM, MVM_BOOT_CPUS, MVM_BOOT_TIMEOUT, MVM_BOOT_KEEP,
# MVM_NESTED_CACHE, MVM_BOOT_KERNEL_PKG, ...).
set -u
. "$(dirname "$0")/lib.sh"

NAMES=(
	"pvpanic: pvpanic and pvpanic-pci load and bind 1b36:0011 (capability 3)"
	"pvpanic: the sysrq crash ends mvm through the device, status 255"
	"pvpanic: mvm prints 'the guest kernel panicked: <the console's panic line>'"
	"no driver: 1b36:0011 is there, unbound; the crash shows on the console"
	"no driver: the reset after the panic ends mvm with 255, not 0"
	"no driver: mvm prints the panic line"
	"no kernel BUG/Oops or unexpected WARNING before the crash, in either boot"
)
boot_begin boot-panic
boot_mode
boot_prepare
if ! pvars=$("$here/prepare-panic.sh" "$work" "$KPKG" "$KVER" 2>"$work/prepare-panic.err"); then
	diag <"$work/prepare-panic.err"
	skip_all "cannot get the pvpanic modules: $(tail -n 1 "$work/prepare-panic.err" | sed 's/^prepare-panic: //')"
fi
eval "$pvars"
diag <"$work/prepare-panic.err"
echo "# modules: $PMODS"

pline='Kernel panic - not syncing: sysrq triggered crash'
pt() { printf '%s\n' "$body" | sed -n "s/^MVM-PANIC $1//p"; }
# What mvm said about the panic, and how often.
said() { grep -c "^mvm: the guest kernel panicked: $pline\$" "$errlog"; }
health() { # health TAG: $health_bad gets TAG's BUG/Oops/unexpected WARNING lines
	local b
	kernel_health
	# The crash itself is the expected panic; what comes before it is not.
	b=$(printf '%s\n' "$bad" | grep -v "^Kernel panic - not syncing: sysrq triggered crash" || true)
	[ -z "$b$unexpected" ] || health_bad="$health_bad$1: $b $unexpected"$'\n'
}
health_bad=

# ------------------------------------------------------------------ 1: pvpanic
boot_run "$pline" "pp_mod=1"
st1=$status
mods=$(pt 'mod ')
dev=$(pt 'pvpanic ')
if [ "$(pt 'mod pvpanic ')" = ok ] && [ "$(pt 'mod pvpanic_pci ')" = ok ] &&
   [[ $dev == *" class=0x088000 driver=pvpanic-pci capability=3 events=3"* ]]; then
	point 1 0 "$mods" "$dev"
else
	point 1 1 "want both modules ok and 'class=0x088000 driver=pvpanic-pci capability=3 events=3'; got:" \
		"${mods:-no module lines}" "${dev:-no 1b36:0011 line}" "$(tail -n 15 "$console")"
fi
if [ "$st1" = 255 ] && has "$pline" && ! grep -q 'reset the machine' "$errlog"; then
	point 2 0 "mvm exit status 255; no reset: the device ended the VM" "$(line "$pline")"
else
	point 2 1 "mvm exit status: $st1 (want 255); panic on the console: $(has "$pline" && echo yes || echo no)" \
		"mvm stderr:" "$(cat "$errlog")" "$(tail -n 10 "$console")"
fi
if [ "$(said)" = 1 ]; then
	point 3 0 "$(grep 'panicked' "$errlog")"
else
	point 3 1 "want exactly one 'mvm: the guest kernel panicked: $pline'; mvm stderr:" "$(cat "$errlog")"
fi
health "pvpanic boot"
cp "$console" "$work/console-pvpanic.log"
cp "$errlog" "$work/mvm-pvpanic.err"

# ------------------------------------------------------------------ 2: console only
# Nested mode moved the kernel and initramfs into the payload: back again.
[ -f "$work/vmlinuz" ] || mv "$work/bt/vmlinuz" "$work/bt/initramfs.cpio.gz" "$work/"
boot_run "$pline" "pp_mod=0"
st2=$status
dev=$(pt 'pvpanic ')
if [ "$(pt 'mod ')" = "" ] && [[ $dev == *" class=0x088000 driver=- "* ]] &&
   has "MVM-PANIC crash" && has "$pline"; then
	point 4 0 "$dev" "$(line "$pline")"
else
	point 4 1 "want no modules, 1b36:0011 with driver=-, the panic line on the console; got:" \
		"${dev:-no 1b36:0011 line}" "$(pt 'mod ')" "$(tail -n 15 "$console")"
fi
if [ "$st2" = 255 ] && grep -q 'the guest reset the machine' "$errlog"; then
	point 5 0 "mvm exit status 255 after the guest's reset" "$(grep -v panicked "$errlog")"
else
	point 5 1 "mvm exit status: $st2 (want 255 after a reset); mvm stderr:" "$(cat "$errlog")" \
		"$(tail -n 10 "$console")"
fi
if [ "$(said)" = 1 ]; then
	point 6 0 "$(grep 'panicked' "$errlog")"
else
	point 6 1 "want exactly one 'mvm: the guest kernel panicked: $pline'; mvm stderr:" "$(cat "$errlog")"
fi
health "console boot"
if [ -z "$health_bad" ]; then
	point 7 0
else
	point 7 1 "$health_bad"
fi

# ------------------------------------------------------------------ summary
boot_summary last-panic-console.log 'panic|pvpanic|MVM-|reboot|Oops|BUG'
