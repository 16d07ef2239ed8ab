#!/usr/bin/env bash
# A scripted `gdb -batch` session against a test guest (tests/guest/g_gdb.c)
# through mvm's GDB stub: attach, list the vCPU threads, read a global by
# name, break at a symbol, write a variable, single-step, check the write
# and the step in guest memory, continue to the guest's exit.
#
# Where /dev/kvm works, mvm runs here and gdb talks to it over loopback.
# Without /dev/kvm, mvm runs inside the nested-KVM harness and gdb's bytes
# reach it through a serial port of the QEMU-TCG Linux (run-in-kvm.sh
# --serial-tcp) and busybox nc.  There a breakpoint cannot fire: QEMU-TCG's
# nested SVM delivers int3 through the guest IDT instead of the #BP
# intercept KVM sets (target/i386/tcg/excp_helper.c, raise_interrupt2
# checks SVM_EXIT_SWINT for is_int) and does not arm DR0-3 from the VMCB's
# DR7 on VMRUN (tcg/sysemu/svm_helper.c, helper_vmrun).  So in nested mode
# the session reaches the symbol by single-stepping and the breakpoint-hit
# point is skipped with that reason; everything else is the same.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/nested.sh"
. "$top/tests/lib/wait.sh"
. "$top/tests/lib/gdb.sh"
guest_dir=${GUEST_DIR:-$top/build/guest}
static=${STATIC_BUILD:-$top/build-static}
mvm=${MVM:-$top/build/mvm}
elf=$guest_dir/g_gdb.elf
img=$guest_dir/g_gdb.bzImage

command -v gdb >/dev/null || skip_all "gdb is not installed"
[ -f "$elf" ] && [ -f "$img" ] || skip_all "$elf missing (make guests)"
kvm_mode
[ $mode = direct ] || nested_need "$static/mvm"

work=$(mktemp -d)
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

port=$(free_port)
if [ "$mode" = direct ]; then
	"$mvm" run -k "$img" --debug-exit --gdb "127.0.0.1:$port" \
		</dev/null >"$work/mvm.out" 2>"$work/mvm.err" &
	mpid=$!
	pids="$mpid"
	wait_for "$work/mvm.err" "gdb: listening" 10 ||
		skip_all "mvm did not start its gdb stub: $(tail -n 1 "$work/mvm.err")"
	stepping='break gdb_target
continue'
else
	mkdir "$work/p"
	cp "$static/mvm" "$img" "$top/tests/lib/wait.sh" "$work/p/"
	# In the nested Linux: mvm with its stub on loopback, then a byte
	# relay between the serial port wired to $port and the stub.
	script='cd p; . ./wait.sh
timeout 200 ./mvm run -k g_gdb.bzImage --debug-exit --gdb 1234 </dev/null >/dev/null 2>/tmp/mvm.err & pid=$!
wait_for /tmp/mvm.err "gdb: listening" 10
'"$gdb_relay"'
wait $pid; st=$?; sleep 2; kill $relay 2>/dev/null
echo "mvm-exit=$st"; cat /tmp/mvm.err >&2'
	# One TCG thread: the tiny guest does not need two, and QEMU's
	# multi-threaded TCG can stall the nested Linux when KVM repatches
	# it at VM create/destroy (tests/nested/README.md).
	MVM_NESTED_TCG_THREAD=${MVM_NESTED_TCG_THREAD:-single} \
	"$nested_harness" --timeout "${MVM_NESTED_TIMEOUT:-300}" \
		--serial-tcp "$port" "$work/p" -- sh -c "$script" \
		>"$work/mvm.out" 2>"$work/mvm.err" &
	mpid=$!
	pids="$mpid"
	wait_for "$work/mvm.out" GDB_READY 240 ||
		skip_all "nested KVM unavailable: $(tail -n 1 "$work/mvm.err")"
	# Stepping from the spin loop in guest_main to gdb_target: a handful
	# of instructions (the loop exit, the argument, the call).
	stepping='set $n = 0
while $pc != (unsigned long)gdb_target && $n < 40
stepi
set $n = $n + 1
end'
fi

{ gdb_connect "$port"; cat <<EOF; } >"$work/cmds"
info threads
echo @@counter0\n
print/x gdb_counter
break gdb_target
set var gdb_go = 1
$stepping
echo @@at\n
info symbol \$pc
set var gdb_counter = 100
stepi 3
echo @@counter1\n
print gdb_counter
continue
EOF
timeout 600 gdb -batch -nx -x "$work/cmds" "$elf" >"$work/gdb.out" 2>&1
gst=$?
[ -z "${GDB_SESSION_KEEP:-}" ] || cp "$work/gdb.out" "$GDB_SESSION_KEEP"
# The guest ends right after gdb's last continue; give a stuck run 60 s.
wait_exit "$mpid" 60
mst=$?
pids=

plan 7
after() { gdb_after "$work/gdb.out" "$1"; }

# On attach the stub stops the VM; gdb prints where (the spin loop).
head -n 1 "$work/gdb.out" | grep -q "^guest_main .* at .*g_gdb.c:"
ok $? "gdb attached to the stub and shows the stopped vCPU in guest_main ($mode)" \
	"$(head -n 1 "$work/gdb.out")"
grep -qE '^\* 1 +Thread 1 ' "$work/gdb.out"
ok $? "info threads lists vCPU 0 as thread 1"
[ "$(after counter0)" = '$1 = 0x1234' ]
ok $? "print gdb_counter reads the initial value through the guest page tables" \
	"got '$(after counter0)'"
if [ "$mode" = direct ]; then
	grep -q "^Breakpoint 1, .*gdb_target" "$work/gdb.out"
	ok $? "break gdb_target: the breakpoint fired"
else
	skip "break gdb_target: the breakpoint fired" "breakpoint hits: QEMU-TCG nested SVM routes int3 past the #BP intercept and does not arm VMCB DR7 (see the header)"
fi
after at | grep -q "^gdb_target in section .text"
ok $? "stopped at gdb_target" "got '$(after at)'"
[ "$(after counter1)" = '$2 = 105' ]
ok $? "set var, then stepi 3 ran load/add/store: gdb_counter = 105" \
	"got '$(after counter1)'"
# 0x52 = ((100 + 5) * 2) & 0x7f: gdb prints the exit code in octal.
grep -q "exited with code 0122\]" "$work/gdb.out" &&
	{ [ "$mode" = direct ] && [ $mst = 82 ] ||
	  grep -q "^mvm-exit=82$" "$work/mvm.out"; }
ok $? "continue ran the guest to its exit (status 82 in gdb and mvm)" \
	"gdb status $gst, mvm: $mst $(grep mvm-exit "$work/mvm.out")"
[ $T_FAILED -eq 0 ] || { echo "gdb:"; cat "$work/gdb.out"; echo "mvm:"
			 cat "$work/mvm.err"; } | diag >&2
done_testing
