#!/usr/bin/env bash
# Stock gdb on a vmlinux with symbols, against a running Debian kernel
# under mvm --gdb (docs/debugging.md): the boot test's kernel, booted with
# nokaslr (so the symbols match) and held in its initramfs for a while
# (mvm_hold=), and Debian's vmlinux with DWARF from the kernel's -dbg
# package (tests/boot/fetch-dbg.sh, ~280 MB download, cached).
#
# One gdb -batch session: attach (the VM stops), bt, info threads,
# print init_uts_ns.name.release and jiffies from the live kernel through
# its page tables, x/i $pc, then `continue`, and 4 s later SIGINT to gdb,
# which sends the stub a Ctrl-C; jiffies again (it must have advanced),
# detach; `mvm stop` then ends the VM and mvm exits 0.
#
# Direct mode where /dev/kvm works; otherwise mvm runs in the nested-KVM
# harness and gdb's bytes cross a serial port of the QEMU-TCG Linux
# (run-in-kvm.sh --serial-tcp) and busybox nc, as in
# tests/nested/gdb-session.t.  Needs ~1 GB of free disk for the -dbg
# package; says SKIP with the reason otherwise.
set -u
. "$(dirname "$0")/lib.sh"
. "$top/tests/lib/wait.sh"
. "$top/tests/lib/gdb.sh"

NAMES=(
	"gdb attaches to the running kernel: the stop is in a named kernel function"
	"info threads lists the 2 vCPUs"
	"print init_uts_ns.name.release reads the live kernel's memory: the running release"
	"x/i \$pc disassembles kernel text at the stop"
	"continue, then Ctrl-C stops it: the kernel ran in between (jiffies advanced)"
	"after detach the kernel runs on until mvm stop: MVM-BOOT-OK seen, mvm exits 0"
)
boot_begin gdb-linux
boot_mode
command -v gdb >/dev/null || skip_all "gdb is not installed"
boot_prepare
if [ ! -s "$nested_cache/boot-test/${KPKG}_$KVER/vmlinux-dbg" ]; then
	mkdir -p "$nested_cache"
	free_kb=$(df -Pk "$nested_cache" | awk 'NR == 2 { print $4 }')
	[ "${free_kb:-0}" -ge $((3 << 20)) ] ||
		skip_all "less than 3 GiB free in $nested_cache for the kernel's -dbg package"
fi
vmlinux=$("$here/fetch-dbg.sh" "$KPKG" "$KVER" vmlinux 2>"$work/dbg.err") ||
	skip_all "no vmlinux with symbols: $(tail -n 1 "$work/dbg.err")"
echo "# vmlinux with symbols: $vmlinux"

# The hold outlasts any session; `mvm stop` ends the VM once gdb is done.
hold=300
name=gdblinux$$
params="nokaslr mvm_hold=$hold"
port=$(free_port)
: >"$work/out"
if [ "$mode" = direct ]; then
	(cd "$work" && timeout -k 5 $((limit + hold)) "$MVM" run -k vmlinuz -i initramfs.cpio.gz \
		-m "$mem" -c "$cpus" -p "$params" --gdb "127.0.0.1:$port" --name "$name" \
		</dev/null >"$work/out" 2>"$work/mvm.err"; echo "@@mvm-status $?" >>"$work/out") &
	rpid=$!
	ready=MVM-HOLD
else
	mkdir -p "$work/p"
	cp "$static_mvm" "$work/p/mvm"
	cp "$top/tests/lib/wait.sh" "$work/p/"
	mv "$work/vmlinuz" "$work/initramfs.cpio.gz" "$work/p/"
	# In the nested Linux: the kernel under mvm with its stub on
	# loopback; once /init holds, a relay from the serial port wired to
	# $port to the stub.  The relay ends when gdb detaches (the stub
	# hangs up); then mvm stop.
	script="cd p; . ./wait.sh
./mvm run -k vmlinuz -i initramfs.cpio.gz -m $mem -c $cpus -p '$params' --gdb 1234 --name $name </dev/null >console.log 2>mvm.err & pid=\$!
wait_for console.log MVM-HOLD $limit
$gdb_relay
wait \$relay; sleep 1; ./mvm stop $name
wait \$pid; st=\$?
tr -d '\r' <console.log; echo \"@@mvm-status \$st\"; cat mvm.err >&2"
	"$nested_harness" --timeout $((limit + hold + 120)) \
		--serial-tcp "$port" "$work/p" -- sh -c "$script" \
		>"$work/out" 2>"$work/mvm.err" &
	rpid=$!
	ready=GDB_READY
fi
if ! wait_for "$work/out" "$ready" "$limit"; then
	kill $rpid 2>/dev/null
	wait $rpid 2>/dev/null
	diag <"$work/mvm.err"
	skip_all "the kernel did not reach its initramfs hold within ${limit}s ($mode)"
fi

{ gdb_connect "$port"; cat <<EOF; } >"$work/cmds"
echo @@bt\n
bt 3
info threads
echo @@release\n
print init_uts_ns.name.release
echo @@pc\n
x/i \$pc
echo @@jiffies0\n
print jiffies
echo @@continuing\n
continue
echo @@jiffies1\n
print jiffies
detach
EOF
# gdb's Ctrl-C: SIGINT to gdb while the target runs makes it send 0x03.
# Exactly one SIGINT: a second one before the stop reply arrives makes
# gdb give up on the target ("Disconnected from target"), and plain
# `timeout` passes a signal on twice, to its child and to its process
# group; --foreground passes it to the child only.
t_gdb=$(date +%s.%N)
timeout --foreground 300 gdb -batch -nx -x "$work/cmds" "$vmlinux" >"$work/gdb.out" 2>&1 &
gpid=$!
# gdb reads vmlinux's DWARF (~280 MB) first: give it the whole limit.
sigint="no SIGINT sent: gdb never printed @@continuing"
if wait_for "$work/gdb.out" '^@@continuing' "$limit" $gpid; then
	sleep 4
	sigint="SIGINT sent $(elapsed "$t_gdb") s after gdb started"
	kill -INT $gpid 2>/dev/null
fi
wait $gpid
gst=$?
[ "$mode" = nested ] || "$MVM" stop "$name" >/dev/null 2>&1
wait_exit $rpid $((hold + 120)) 2>/dev/null
after() { gdb_after "$work/gdb.out" "$1"; }
val() { after "$1" | sed -n 's/^\$[0-9]* = //p'; }

frame=$(after bt)
if [[ $frame =~ ^#0\ +(0x[0-9a-f]+\ in\ )?[a-z_][a-z0-9_.]*\  ]]; then
	point 1 0 "$frame"
else
	point 1 1 "gdb status $gst; first frame: '$frame'" "$(head -n 20 "$work/gdb.out")"
fi
nthreads=$(grep -cE '^[* ] +[0-9]+ +Thread [0-9]+ \(vCPU [0-9]+\)' "$work/gdb.out")
[ "$nthreads" = "$cpus" ]
point 2 $? "threads: $nthreads"
rel=$(val release)
[[ $rel == \"$KREL\"* ]]
point 3 $? "$rel"
pc=$(after pc)
[[ $pc =~ ^=\>\ 0xffffffff8[0-9a-f]+\ \<[a-z_] ]]
point 4 $? "$pc"
j0=$(val jiffies0)
j1=$(val jiffies1)
if [[ $j0 =~ ^[0-9]+$ && $j1 =~ ^[0-9]+$ ]] && [ "$j1" -gt "$j0" ] &&
	grep -q "received signal SIGINT" "$work/gdb.out"; then
	point 5 0 "jiffies $j0 -> $j1; $(grep -m1 'received signal SIGINT' "$work/gdb.out")"
else
	point 5 1 "jiffies '$j0' -> '$j1'; gdb status $gst; $sigint" \
		"$(sed -n '/@@jiffies0/,$p' "$work/gdb.out" | tail -n 20)" \
		"$(tail -n 5 "$work/mvm.err")"
fi
st=$(sed -n 's/^@@mvm-status //p' "$work/out" | tail -n 1)
grep -q '^MVM-BOOT-OK' "$work/out" && [ "$st" = 0 ]
point 6 $? "mvm status ${st:-none}" "$(grep -v '^$' "$work/out" | tail -n 3)"
boot_end
