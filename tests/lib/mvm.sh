# mvm.sh - for shell tests that run the mvm binary $MVM (tests/cli/*.t,
# tests/kvm/*.t): tap.sh, a scratch folder $TMP, a private control-socket
# folder (so `mvm list` sees only this test's VMs), and the checks below.
# POSIX sh (see tap.sh).  Sourced as "$(dirname "$0")/../lib/mvm.sh".
#
#   need_kvm        skip the file where /dev/kvm does not work; there
#                   tests/nested/guest-tests.t runs it inside the
#                   nested-KVM guest
#   need_guest FILE...
#                   skip the file unless $GUEST_DIR holds each FILE
#   kill_at_exit PID
#                   a background mvm to end if the test stops early
#   expect_fail NAME STATUS REGEX -- ARGS...
#                   `mvm ARGS` exits with STATUS and prints exactly one
#                   stderr line, matching REGEX
. "$(dirname "$0")/../lib/tap.sh"
: "${MVM:?MVM must point at the mvm binary}"
TMP=$(mktemp -d)
XDG_RUNTIME_DIR=$(mktemp -d)
export XDG_RUNTIME_DIR
T_PIDS=
trap 'for p in $T_PIDS; do kill "$p" 2>/dev/null; done
rm -rf "$TMP" "$XDG_RUNTIME_DIR"' EXIT

need_kvm() {
	have_kvm ||
		skip_all "no /dev/kvm: runs inside tests/nested/guest-tests.t"
}

need_guest() {
	local f
	for f in "$@"; do
		[ -f "${GUEST_DIR:-/nonexistent}/$f" ] ||
			skip_all "no $f in GUEST_DIR '${GUEST_DIR:-}' (make guests)"
	done
}

kill_at_exit() { T_PIDS="$T_PIDS $1"; }

expect_fail() {
	local name=$1 want=$2 re=$3 st lines
	shift 4
	"$MVM" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	st=$?
	lines=$(wc -l <"$TMP/err")
	if [ "$st" -eq "$want" ] && [ "$lines" -eq 1 ] &&
	   grep -Eq -- "$re" "$TMP/err"; then
		ok 0 "$name"
	else
		ok 1 "$name" "status $st (want $want), stderr ($lines lines):" \
			"$(cat "$TMP/err")"
	fi
}
