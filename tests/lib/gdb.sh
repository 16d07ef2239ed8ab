# gdb.sh - what the scripted gdb sessions against mvm's GDB stub share
# (tests/nested/gdb-session.t, tests/boot/gdb-linux.t).  Sourced (bash).
#
#   gdb_connect PORT    the start of a gdb -batch command file: attach to
#                       the stub at 127.0.0.1:PORT, patient with a slow
#                       (nested) target
#   gdb_after FILE TAG  the line after the marker "@@TAG" (printed with
#                       `echo @@TAG\n`) in gdb's output FILE
#   $gdb_relay          for the script inside the nested-KVM guest, once
#                       mvm listens with --gdb 1234: relays the serial
#                       port that run-in-kvm.sh --serial-tcp wires to the
#                       host's port, to the stub (busybox nc; its PID in
#                       $relay), then prints GDB_READY

gdb_connect() {
	cat <<EOC
set pagination off
set confirm off
set remotetimeout 60
target remote 127.0.0.1:$1
EOC
}

gdb_after() { sed -n "/^@@$2\$/{n;p;q}" "$1"; }

gdb_relay='nc 127.0.0.1 1234 </dev/ttyS3 >/dev/ttyS3 & relay=$!
sleep 0.5; echo GDB_READY'
