#!/bin/sh
# The control socket of a running VM (docs/debugging.md): mvm list,
# pause (a second pause is refused), stat, resume, debug (vCPU registers,
# the code at RIP, IOAPIC pins, the passthrough device's MSI-X view),
# stop.  The guest is g_spin, which spins forever, with a simulated VFIO
# device (--passthrough sim:mbox-vf) that it never touches.
. "$(dirname "$0")/../lib/mvm.sh"
. "$(dirname "$0")/../lib/wait.sh"
need_kvm
need_guest g_spin.bzImage g_spin.bin

"$MVM" run -k "$GUEST_DIR/g_spin.bzImage" --name t1 \
	--passthrough sim:mbox-vf </dev/null >/dev/null 2>"$TMP/vm.err" &
vm=$!
kill_at_exit $vm
i=0
while [ $i -lt 30 ] && ! "$MVM" list | grep -qx t1; do
	sleep 1
	i=$((i + 1))
done
list=$("$MVM" list)
[ "$list" = t1 ]
ok $? "mvm list names the running VM" "got '$list'" "$(cat "$TMP/vm.err")"

"$MVM" pause t1; ok $? "mvm pause"
"$MVM" pause t1 2>/dev/null
st=$?
[ $st = 1 ]; ok $? "a second mvm pause is refused with status 1" "status $st"
"$MVM" stat t1 >/dev/null; ok $? "mvm stat"
"$MVM" resume t1; ok $? "mvm resume"

"$MVM" debug t1 >"$TMP/dbg"; ok $? "mvm debug"
n=$(grep -c -e "^ioapic pin" -e "^vcpu0 rip" \
	-e "msix guest disabled, host disabled" "$TMP/dbg")
[ "$n" = 26 ]
ok $? "mvm debug: vCPU 0's registers, 24 IOAPIC pins, the MSI-X guest/host view" \
	"$n of the 26 lines"
# The code bytes at RIP, read through the guest's page tables, must be
# g_spin's own: its image is loaded at 1 MiB with virtual == physical.
rip=$(grep "^vcpu0 rip" "$TMP/dbg" | cut -d" " -f3)
code=$(grep "^vcpu0 code" "$TMP/dbg" | cut -d" " -f3-)
img_code=
if [ -n "$rip" ] && [ $((0x$rip)) -ge $((0x100000)) ]; then
	img_code=$(od -An -tx1 -v -j $((0x$rip - 0x100000)) -N 16 \
		"$GUEST_DIR/g_spin.bin" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
fi
[ -n "$code" ] && [ "$code" = "$img_code" ]
ok $? "mvm debug: the code at RIP is the image's" "rip ${rip:-?}" \
	"code  '$code'" "image '$img_code'"

"$MVM" stop t1; ok $? "mvm stop"
wait_exit $vm 30
st=$?
[ $st = 0 ]; ok $? "the VM exits 0 after mvm stop" "status $st"
list=$("$MVM" list)
[ -z "$list" ]; ok $? "mvm list is empty afterwards" "got '$list'"
if [ "$T_FAILED" -ne 0 ]; then
	{ echo "mvm debug:"; cat "$TMP/dbg"; } | diag >&2
fi
done_testing
