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
. "$here/../lib/wait.sh"
guest_dir=${GUEST_DIR:-$top/build/guest}
static=${STATIC_BUILD:-$top/build-static}
mvm=${MVM:-$top/build/mvm}
elf=$guest_dir/g_gdb.elf
img=$guest_dir/g_gdb.bzImage

if ! command -v gdb >/dev/null; then
	echo "1..0 # SKIP gdb is not installed"
	exit 0
fi
if [ ! -f "$elf" ] || [ ! -f "$img" ]; then
	echo "1..0 # SKIP $elf missing (make guests)"
	exit 0
fi
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	mode=direct
elif [ "${MVM_NO_NESTED:-}" = 1 ]; then
	echo "1..0 # SKIP no /dev/kvm here and MVM_NO_NESTED=1"
	exit 0
elif [ ! -x "$static/mvm" ]; then
	echo "1..0 # SKIP no /dev/kvm here and no static mvm (make STATIC=1)"
	exit 0
else
	mode=nested
fi

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
		{ echo "1..0 # SKIP mvm did not start its gdb stub: $(tail -n 1 "$work/mvm.err")"; exit 0; }
	stepping='break gdb_target
continue'
else
	mkdir "$work/p"
	cp "$static/mvm" "$img" "$work/p/"
	# In the nested Linux: mvm with its stub on loopback, then a byte
	# relay between the serial port wired to $port and the stub.
	script='cd p
timeout 200 ./mvm run -k g_gdb.bzImage --debug-exit --gdb 1234 </dev/null >/dev/null 2>/tmp/mvm.err & pid=$!
i=0; while [ $i -lt 100 ] && ! grep -q "gdb: listening" /tmp/mvm.err; do sleep 0.1; i=$((i+1)); done
nc 127.0.0.1 1234 </dev/ttyS3 >/dev/ttyS3 & relay=$!
sleep 0.5; echo GDB_READY
wait $pid; st=$?; sleep 2; kill $relay 2>/dev/null
echo "mvm-exit=$st"; cat /tmp/mvm.err >&2'
	# One TCG thread: the tiny guest does not need two, and QEMU's
	# multi-threaded TCG can stall the nested Linux when KVM repatches
	# it at VM create/destroy (tests/nested/README.md).
	MVM_NESTED_TCG_THREAD=${MVM_NESTED_TCG_THREAD:-single} \
	"$here/run-in-kvm.sh" --timeout "${MVM_NESTED_TIMEOUT:-300}" \
		--serial-tcp "$port" "$work/p" -- sh -c "$script" \
		>"$work/mvm.out" 2>"$work/mvm.err" &
	mpid=$!
	pids="$mpid"
	if ! wait_for "$work/mvm.out" GDB_READY 240; then
		echo "1..0 # SKIP nested KVM unavailable: $(tail -n 1 "$work/mvm.err")"
		exit 0
	fi
	# Stepping from the spin loop in guest_main to gdb_target: a handful
	# of instructions (the loop exit, the argument, the call).
	stepping='set $n = 0
while $pc != (unsigned long)gdb_target && $n < 40
stepi
set $n = $n + 1
end'
fi

cat >"$work/cmds" <<EOF
set pagination off
set confirm off
set remotetimeout 60
target remote 127.0.0.1:$port
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
i=0
while kill -0 "$mpid" 2>/dev/null && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill "$mpid" 2>/dev/null
wait "$mpid"
mst=$?
pids=

echo "1..7"
diag() { sed 's/^/# /' "$1"; }
after() { sed -n "/^@@$1\$/{n;p;q}" "$work/gdb.out"; }

# On attach the stub stops the VM; gdb prints where (the spin loop).
if head -n 1 "$work/gdb.out" | grep -q "^guest_main .* at .*g_gdb.c:"; then
	echo "ok 1 - gdb attached to the stub and shows the stopped vCPU in guest_main ($mode)"
else
	echo "not ok 1 - gdb attached to the stub ($mode)"
	diag "$work/gdb.out"
	diag "$work/mvm.err"
fi
if grep -qE '^\* 1 +Thread 1 ' "$work/gdb.out"; then
	echo "ok 2 - info threads lists vCPU 0 as thread 1"
else
	echo "not ok 2 - info threads lists vCPU 0 as thread 1"
fi
if [ "$(after counter0)" = '$1 = 0x1234' ]; then
	echo "ok 3 - print gdb_counter reads the initial value through the guest page tables"
else
	echo "not ok 3 - print gdb_counter: got '$(after counter0)'"
fi
if [ "$mode" = direct ]; then
	if grep -q "^Breakpoint 1, .*gdb_target" "$work/gdb.out"; then
		echo "ok 4 - break gdb_target: the breakpoint fired"
	else
		echo "not ok 4 - break gdb_target: the breakpoint fired"
	fi
else
	echo "ok 4 # SKIP breakpoint hits: QEMU-TCG nested SVM routes int3 past the #BP intercept and does not arm VMCB DR7 (see the header)"
fi
if after at | grep -q "^gdb_target in section .text"; then
	echo "ok 5 - stopped at gdb_target"
else
	echo "not ok 5 - stopped at gdb_target: got '$(after at)'"
fi
if [ "$(after counter1)" = '$2 = 105' ]; then
	echo "ok 6 - set var, then stepi 3 ran load/add/store: gdb_counter = 105"
else
	echo "not ok 6 - after set var + stepi 3: got '$(after counter1)'"
fi
# 0x52 = ((100 + 5) * 2) & 0x7f: gdb prints the exit code in octal.
if grep -q "exited with code 0122\]" "$work/gdb.out" &&
	{ [ "$mode" = direct ] && [ $mst = 82 ] ||
	  grep -q "^mvm-exit=82$" "$work/mvm.out"; }; then
	echo "ok 7 - continue ran the guest to its exit (status 82 in gdb and mvm)"
else
	echo "not ok 7 - continue to exit (gdb status $gst, mvm: $mst $(grep mvm-exit "$work/mvm.out"))"
	diag "$work/gdb.out"
fi
