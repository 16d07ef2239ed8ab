#!/usr/bin/env bash
# Console input that is never lost (issue: bytes piped in before the
# guest opened its console were dropped, and input that came during the
# boot hung the run).  The Debian cloud kernel of boot-test.t with an
# initramfs whose /init runs busybox sh on ttyS0
# (tests/boot/init-console), two boots (tests/boot/console-in-guest.sh),
# inside the nested-KVM harness without /dev/kvm (one L1 boot), directly
# with it:
#   1: a script piped in at once with EOF behind it, a 300-byte line
#      among its lines: every line runs, mvm exits 0
#   2: the same arriving 3 s late, during the boot: it runs, mvm exits 0
# Environment: as boot-test.t.
set -u
. "$(dirname "$0")/lib.sh"
NAMES=(
	"piped at once: every line reaches the shell, a 300-byte one in full"
	"...and the shell's exit powers off: mvm exits 0"
	"arriving during the boot: the shell runs it"
	"...and mvm exits 0 (no hang)"
)
CHECKS=(piped-all piped-status delayed-all delayed-status)
boot_begin boot-console
boot_mode
boot_prepare
# The boot test's initramfs with the shell's /init instead.
mkdir -p "$work/root" "$work/bt"
(cd "$work/root" && gunzip -c "$work/initramfs.cpio.gz" | cpio -id --quiet) ||
	skip_all "cannot unpack the boot test's initramfs"
cp "$here/init-console" "$work/root/init"
chmod +x "$work/root/init"
(cd "$work/root" && find . | cpio -o -H newc --quiet | gzip -9) >"$work/bt/console.cpio.gz"
mv "$work/vmlinuz" "$work/bt/"
cp "$here/console-in-guest.sh" "$work/bt/"
t0=$(date +%s.%N)
if [ "$mode" = direct ]; then lim=300; else lim=360; fi
run_in_guest console-in-guest.sh $lim
echo "# ran in $(elapsed "$t0") s ($mode)"
tr -d '\r' <"$work/out" >"$work/out.txt"
check_points "$work/out.txt" "$work/err"
done_testing
