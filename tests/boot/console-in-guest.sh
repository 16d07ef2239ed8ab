#!/bin/sh
# console-in-guest.sh DIR - the boots of tests/boot/boot-console.t, run
# where mvm has a /dev/kvm: inside the nested-KVM harness (busybox sh,
# DIR the payload folder) or in direct mode.  DIR holds mvm, vmlinuz and
# console.cpio.gz (a shell on ttyS0).  Prints "@@check NAME ok|fail
# [DETAIL]" lines and "@@done".
set -u
d=$(cd "$1" && pwd)
MVM=${MVM:-$d/mvm}
lim=${MVM_CONSOLE_LIMIT:-120}
long=$(printf '%0300d' 0 | tr 0 x)	# one 300-byte word
check() { if [ "$2" -eq 0 ]; then echo "@@check $1 ok"; else echo "@@check $1 fail ${3:-}"; fi; }
run() { # run TAG: stdin is the input
	timeout "$lim" "$MVM" run -k "$d/vmlinuz" -i "$d/console.cpio.gz" -m 256 \
		-p "quiet" >"$d/$1.out" 2>"$d/$1.err"
	echo $? >"$d/$1.status"
	tr -d '\r' <"$d/$1.out" >"$d/$1.txt"
}
# 1: the whole script piped in at once, EOF right behind it, long before
# the guest's 8250 driver probes (loopback self-test, FIFO resets).
printf 'echo early-$((6 * 7))\necho %s-$((1 + 1))\nexit\n' "$long" | run piped
st=$(cat "$d/piped.status")
grep -q '^early-42$' "$d/piped.txt" && grep -q "^$long-2\$" "$d/piped.txt" &&
	grep -q 'MVM-CONSOLE shell done' "$d/piped.txt"
check piped-all $? "status $st; $(tail -n 5 "$d/piped.txt" | tr '\n' '|')"
check piped-status $([ "$st" = 0 ]; echo $?) "status $st"
# 2: the input comes 3 s late: during the boot, before the shell is up.
{ sleep 3; printf 'echo late-$((6 * 7))\nexit\n'; } | run delayed
st=$(cat "$d/delayed.status")
grep -q '^late-42$' "$d/delayed.txt" && grep -q 'MVM-CONSOLE shell done' "$d/delayed.txt"
check delayed-all $? "status $st; $(tail -n 5 "$d/delayed.txt" | tr '\n' '|')"
check delayed-status $([ "$st" = 0 ]; echo $?) "status $st"
echo "@@done"
