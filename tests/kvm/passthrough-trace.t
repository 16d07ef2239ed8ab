#!/bin/sh
# The seed scenario from the command line: g_mbox (a tiny mbox-vf driver)
# with `--passthrough sim:mbox-vf` enables MSI-X the Linux way and sends a
# mailbox command at once (docs/mbox-vf.md), followed in --trace: host
# MSI-X on at the guest's Enable, before any vector is unmasked; then one
# SET_IRQS per vector the guest unmasks.  Every trace line must have the
# documented shape (docs/debugging.md), and the msix and vfio lines,
# timestamps aside, must be exactly mbox-trace.expected (the guest is
# deterministic; irq lines are not compared: routing commits are
# debounced by time).
. "$(dirname "$0")/../lib/mvm.sh"
need_kvm
need_guest g_mbox.bzImage
expected=$(dirname "$0")/mbox-trace.expected
trace=$TMP/trace

timeout 120 "$MVM" run -k "$GUEST_DIR/g_mbox.bzImage" --debug-exit \
	--passthrough sim:mbox-vf,vectors=16,host=dynamic \
	--trace msix,vfio,irq --trace-file "$trace" \
	</dev/null >"$TMP/console" 2>"$TMP/err"
ok $? "mvm run --passthrough sim:mbox-vf --trace msix,vfio,irq exits 0" \
	"$(tail -n 5 "$TMP/err")"
grep -q "mailbox and MSI-X OK" "$TMP/console"
ok $? "the guest's seed scenario passes (its console says so)" \
	"$(tail -n 5 "$TMP/console")"

line() { grep -n -- "$1" "$trace" | head -n 1 | cut -d: -f1; }
en=$(line "MSI-X enabled, function mask on")
host=$(line "SET_IRQS MSI-X enable vectors 0+1 -> 0")
unm=$(line "vector 0 unmasked")
[ -n "$en" ] && [ -n "$host" ] && [ -n "$unm" ] &&
	[ "$en" -lt "$host" ] && [ "$host" -lt "$unm" ]
ok $? "trace: host MSI-X enabled at the guest's Enable, before any unmask" \
	"lines: enable ${en:-?}, host ${host:-?}, first unmask ${unm:-?}"
adds=$(grep -c "SET_IRQS MSI-X add vector" "$trace")
[ "$adds" = 16 ]; ok $? "trace: one SET_IRQS add per unmasked vector" "$adds of 16"
# "SECONDS.MICROSECONDS vcpuN|- CATEGORY: ...", docs/debugging.md
ts='^[0-9]+\.[0-9]{6} '
stamp="$ts(vcpu[0-9]+|-) "
badfmt=$(grep -vcE "$stamp(msix|vfio|irq): " "$trace")
[ "$badfmt" = 0 ]
ok $? "trace: every line has the documented shape" "$badfmt malformed lines" \
	"$(grep -vE "$stamp(msix|vfio|irq): " "$trace" | head -n 5)"
seq_diff=$(grep -E "$stamp(msix|vfio): " "$trace" | sed -E "s/$ts//" |
	diff "$expected" - | head -n 20)
[ -z "$seq_diff" ]
ok $? "trace: the msix and vfio lines are the $(wc -l <"$expected") expected ones" \
	"$seq_diff"
done_testing
