#!/bin/sh
# Where boot time goes (issue 13): `mvm run --timing=MARKER` prints when
# each phase was reached, in order, with MARKER found on the serial
# console; `--trace exit` names every exit that reached mvm and ends with
# each vCPU's exits by reason, KVM's own counters included where the
# kernel has binary stats (5.14+); `mvm stat` prints the same counters.
# The guest is the embedded one, which prints a banner and powers off.
. "$(dirname "$0")/../lib/mvm.sh"
need_kvm

timeout 60 "$MVM" run --timing="hello from the guest" --trace exit \
	</dev/null >"$TMP/out" 2>"$TMP/err"
ok $? "mvm run --timing --trace exit exits 0"
sed -n 's/^mvm: *\([0-9.]*\)  //p' "$TMP/err" >"$TMP/points"
want='machine built (RAM, kernel, devices)
vCPU 0 entered the guest
first byte on the serial console
"hello from the guest" on the serial console
the VM ended'
# The upper-half point depends on the guest (the embedded one runs in
# the upper half from its first instruction): drop it, keep the order.
got=$(grep -v "upper half" "$TMP/points")
[ "$got" = "$want" ]
ok $? "--timing: every phase, in the order it happened" "got:" "$got"
awk '/^mvm: *[0-9.]+  / { if ($2 + 0 < last) bad = 1; last = $2 + 0 }
     END { exit bad }' "$TMP/err"
ok $? "--timing: the times grow"
grep -q "^mvm: timing (ms after mvm started):" "$TMP/err"
ok $? "--timing: a heading says the unit"

grep -Eq '^[0-9]+\.[0-9]+ vcpu0 exit: io$' "$TMP/err"
ok $? "--trace exit: a line per exit with its reason"
n_io=$(grep -Ec '^[0-9]+\.[0-9]+ vcpu0 exit: io$' "$TMP/err")
sum=$(sed -n 's/^[0-9.]* - exit: vcpu0 exits [0-9]*.* io \([0-9]*\).*/\1/p' "$TMP/err")
[ -n "$sum" ] && [ "$sum" = "$n_io" ]
ok $? "--trace exit: the summary counts the io exits traced" "traced $n_io, summary '${sum:-none}'"
if uname -r | awk -F. '{ exit !($1 > 5 || ($1 == 5 && $2 >= 14)) }'; then
	grep -Eq -- '- exit: vcpu0 kvm .*exits [0-9]+' "$TMP/err"
	ok $? "--trace exit: KVM's own counters (binary stats)"
else
	skip "--trace exit: KVM's own counters (binary stats)" "kernel before 5.14"
fi

timeout 60 "$MVM" run --timing </dev/null >/dev/null 2>"$TMP/err2"
ok $? "--timing without a marker"
! grep -q "serial console (not seen)" "$TMP/err2" &&
	grep -q "the VM ended" "$TMP/err2"
ok $? "--timing without a marker: no marker line"

if [ "$T_FAILED" -ne 0 ]; then
	{ echo "err:"; grep -v "exit: io$\|exit: mmio$" "$TMP/err"; } | diag >&2
fi
done_testing
