# Shared helpers for shell TAP tests (sourced).  $MVM is the binary.
: "${MVM:?MVM must point at the mvm binary}"
T_N=0
T_FAILED=0
TMP=$(mktemp -d)
# Each VM opens a control socket: keep ours out of the user's.
XDG_RUNTIME_DIR=$(mktemp -d)
export XDG_RUNTIME_DIR
trap 'rm -rf "$TMP" "$XDG_RUNTIME_DIR"' EXIT

ok() {	# ok COND_STATUS NAME
	T_N=$((T_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $T_N - $2"
	else
		echo "not ok $T_N - $2"
		T_FAILED=$((T_FAILED + 1))
	fi
}

# expect_fail NAME EXPECTED_STATUS REGEX -- ARGS...: mvm must exit with
# EXPECTED_STATUS and print exactly one stderr line matching REGEX.
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
		ok 1 "$name"
		echo "#   status $st (want $want), stderr ($lines lines):"
		sed 's/^/#   /' "$TMP/err"
	fi
}

have_kvm() { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }

done_testing() {
	echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ]
}
