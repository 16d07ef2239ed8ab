# tap.sh - TAP output for the shell tests, and the one host check they all
# make.  POSIX sh: tests/kvm/*.t also run under busybox ash inside the
# nested-KVM guest (tests/nested/guest-tests.t).  Sourced.
#
#   plan N          print the plan now (else done_testing prints it)
#   ok STATUS NAME [DIAG...]
#                   one point, passed when STATUS is 0.  The DIAG lines
#                   follow as "#   " diagnostics: on stdout for a pass, on
#                   stderr for a failure (prove shows stderr without -v,
#                   so a CI log says why)
#   skip NAME REASON
#                   one skipped point
#   skip_all REASON nothing (more) can run here: the plan, or the points
#                   left of it, as skipped; exit 0
#   done_testing    the plan unless printed; status 1 if a point failed
#   diag            stdin as "#   " diagnostics
#   have_kvm        true when /dev/kvm can be opened read-write
T_N=0
T_FAILED=0
T_PLAN=

plan() {
	T_PLAN=$1
	echo "1..$1"
}

diag() { sed 's/^/#   /'; }

ok() {
	local st=$1 name=$2 fd=1
	shift 2
	T_N=$((T_N + 1))
	if [ "$st" -eq 0 ]; then
		echo "ok $T_N - $name"
	else
		echo "not ok $T_N - $name"
		T_FAILED=$((T_FAILED + 1))
		fd=2
	fi
	[ $# -eq 0 ] || printf '%s\n' "$@" | grep -v '^$' | diag >&$fd
}

skip() {
	T_N=$((T_N + 1))
	echo "ok $T_N - $1 # SKIP $2"
}

skip_all() {
	if [ -z "$T_PLAN" ]; then
		echo "1..0 # SKIP $1"
		exit 0
	fi
	while [ "$T_N" -lt "$T_PLAN" ]; do
		T_N=$((T_N + 1))
		echo "ok $T_N # SKIP $1"
	done
	exit 0
}

done_testing() {
	[ -n "$T_PLAN" ] || echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ]
}

have_kvm() { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }
