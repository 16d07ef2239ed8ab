#!/bin/sh
# `mvm run` with no kernel boots the embedded guest: it must describe the
# machine on the console and power off with status 0, with one vCPU and
# with two.
. "$(dirname "$0")/../lib/mvm.sh"
need_kvm

timeout 60 "$MVM" run </dev/null >"$TMP/out" 2>"$TMP/err"
ok $? "mvm run exits 0 after the guest powers off"
grep -q "mvm embedded guest: hello from the guest" "$TMP/out"
ok $? "banner on the console"
grep -q 'command line: "console=ttyS0' "$TMP/out"; ok $? "command line"
grep -q "found 1 CPU (ACPI MADT), APIC IDs: 0;" "$TMP/out"; ok $? "one CPU"
grep -Eq '^BIOS-e820: \[mem 0x0000000000100000-0x[0-9a-f]{16}\] usable' \
	"$TMP/out"; ok $? "e820 RAM above 1 MiB"
grep -q "00:00.0 " "$TMP/out"; ok $? "PCI host bridge"
grep -q "powering off" "$TMP/out"; ok $? "powers off"

timeout 60 "$MVM" run -c 2 </dev/null >"$TMP/out2" 2>"$TMP/err2"
ok $? "mvm run -c 2 exits 0"
grep -q "mvm embedded guest: hello from the guest" "$TMP/out2"
ok $? "-c 2: banner on the console"
grep -q "found 2 CPUs (ACPI MADT), APIC IDs: 0 1;" "$TMP/out2"
ok $? "-c 2: both CPUs listed"

# What the runs printed, when a point failed (on stderr).
if [ "$T_FAILED" -ne 0 ]; then
	for f in out err out2 err2; do
		echo "$f:"
		cat "$TMP/$f"
	done | diag >&2
fi
done_testing
