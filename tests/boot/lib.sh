# lib.sh - what the boot tests (tests/boot/*.t) share: TAP points, the
# choice between running mvm here (direct) or in the nested-KVM harness
# (nested), and one boot in either mode.  Sourced (bash).
#
# The test sets NAMES=(...) (its plan) and then calls, in order:
#   (on sourcing: $here, $top, $mem, $cpus, $static_mvm)
#   boot_begin TAG          plan line, $work (removed at exit unless
#                           MVM_BOOT_KEEP), $t_start
#   boot_mode               $mode, $why, $limit; skips everything when
#                           neither mode can run here
#   ...prepare the kernel and initramfs into $work (prepare.sh)...
#   boot_run MARKER PARAMS [MVM_ARG...] [-- FILE...]
#                           (once per test: nested mode moves the kernel)
#                           boots $work/vmlinuz + initramfs.cpio.gz with
#                           the MVM_ARGs (paths relative to $work; those
#                           files must be in $work), sets $console (the
#                           serial console, \r removed), $errlog (mvm's
#                           stderr) and $status (mvm's, or "none"); each
#                           FILE is mvm's copy afterwards, in $work/back/.
#                           Nested mode retries once, announced, when
#                           MARKER is missing (a nested-KVM stall: the
#                           known one is avoided, tests/nested/README.md).
#
# Environment: MVM (direct), STATIC_MVM (nested, default build-static/mvm),
# MVM_BOOT_TEST_MODE (auto, direct, nested), MVM_BOOT_MEM (MiB, 512),
# MVM_BOOT_CPUS (2), MVM_BOOT_TIMEOUT (s: 120 direct, 200 nested),
# MVM_BOOT_KEEP, MVM_NO_NESTED, plus prepare.sh's.

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
diag() { sed 's/^/#   /'; }

point() { # point NUM STATUS(0 ok, 1 not ok, 2 skip) [DIAG...]; skip: first DIAG is the reason
	local n=$1 st=$2
	shift 2
	if [ "$st" -eq 0 ]; then
		echo "ok $n - ${NAMES[$((n - 1))]}"
	elif [ "$st" -eq 2 ]; then
		echo "ok $n - ${NAMES[$((n - 1))]} # SKIP $1"
		shift
	else
		echo "not ok $n - ${NAMES[$((n - 1))]}"
		failed=$((failed + 1))
	fi
	[ $# -eq 0 ] && return
	# A failure's diagnostics go to stderr instead: prove shows stderr
	# without -v, so a CI log says why.
	local fd=1
	[ "$st" -eq 1 ] && fd=2
	printf '%s\n' "$@" | grep -v '^$' | diag >&$fd
}

skip_all() { # skip_all REASON: nothing could be booted on this host
	local i
	for ((i = 1; i <= N; i++)); do
		echo "ok $i - ${NAMES[$((i - 1))]} # SKIP $1"
	done
	exit 0
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
static_mvm=${STATIC_MVM:-$top/build-static/mvm}
mem=${MVM_BOOT_MEM:-512}
cpus=${MVM_BOOT_CPUS:-2}

boot_begin() { # boot_begin TAG
	: "${MVM:?MVM must point at the mvm binary}"
	t_start=$(date +%s.%N)
	work=$(mktemp -d "${TMPDIR:-/tmp}/mvm-$1.XXXXXX")
	if [ -n "${MVM_BOOT_KEEP:-}" ]; then
		trap 'echo "# work dir kept: $work"' EXIT
	else
		trap 'rm -rf "$work"' EXIT
	fi
	N=${#NAMES[@]}
	failed=0
	echo "1..$N"
}

boot_mode() {
	mode=${MVM_BOOT_TEST_MODE:-auto}
	if [ "$mode" = auto ]; then
		if [ ! -e /dev/kvm ]; then
			mode=nested why="no /dev/kvm on this host"
		elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
			mode=nested why="/dev/kvm is not read-writable for $(id -un)"
		elif [ -d /sys/module/kvm_pvm ]; then
			# A PVM /dev/kvm emulates kernel-mode guest code at ~4M
			# insn/s: a distribution kernel does not boot in minutes
			# (docs/pvm.md).
			mode=nested why="/dev/kvm is the PVM flavour (kvm_pvm loaded)"
		else
			mode=direct why="/dev/kvm works"
		fi
	else
		why="MVM_BOOT_TEST_MODE=$mode"
	fi
	case $mode in
	direct) limit=${MVM_BOOT_TIMEOUT:-120} ;;
	nested) limit=${MVM_BOOT_TIMEOUT:-200} ;;
	*) echo "# MVM_BOOT_TEST_MODE must be auto, direct or nested"; exit 1 ;;
	esac
	echo "# mode: $mode ($why)"
	if [ "$mode" = direct ]; then
		[ -x "$MVM" ] || skip_all "no mvm binary at $MVM (make mvm)"
	else
		[ "${MVM_NO_NESTED:-}" != 1 ] ||
			skip_all "$why, and MVM_NO_NESTED=1 forbids the nested-KVM harness"
		[ -x "$static_mvm" ] ||
			skip_all "$why, and there is no static mvm at $static_mvm for the nested-KVM harness (make STATIC=1 mvm)"
	fi
}

boot_run() { # boot_run MARKER PARAMS [MVM_ARG...] [-- FILE...]
	local marker=$1 params=$2 t0 hst attempt st_line t_in t_out f b fsz fmd5
	local args=() back=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
	[ $# -eq 0 ] || { shift; back=("$@"); }
	console=$work/console.log
	errlog=$work/mvm.err
	: >"$console"
	: >"$errlog"
	mkdir -p "$work/back"
	t0=$(date +%s.%N)
	local cmd="mvm run -k vmlinuz -i initramfs.cpio.gz -m $mem -c $cpus ${args[*]} -p \"$params\""
	if [ "$mode" = direct ]; then
		echo "# running: $cmd (limit ${limit}s)"
		(cd "$work" && timeout -k 5 "$limit" "$MVM" run -k vmlinuz \
			-i initramfs.cpio.gz -m "$mem" -c "$cpus" "${args[@]}" \
			-p "$params" </dev/null >"$work/out" 2>"$errlog")
		status=$?
		tr -d '\r' <"$work/out" >"$console"
		[ $status -ne 124 ] || echo "# mvm did not finish within ${limit}s (killed by timeout)"
		echo "# mvm exit status $status after $(elapsed "$t0") s wall"
		for f in "${back[@]}"; do cp "$work/$f" "$work/back/$f"; done
		return
	fi
	mkdir -p "$work/bt"
	cp "$static_mvm" "$work/bt/mvm"
	mv "$work/vmlinuz" "$work/initramfs.cpio.gz" "$work/bt/"
	cp "$here/in-guest.sh" "$work/bt/"
	for f in "${back[@]}"; do cp "$work/$f" "$work/bt/"; done
	echo "# running in the nested-KVM harness: $cmd (limit ${limit}s)"
	# Files in bt/ are copied into the payload, so a retry starts from
	# them again.
	for attempt in 1 2; do
		"$top/tests/nested/run-in-kvm.sh" --timeout $((limit + 60)) "$work/bt" \
			-- sh bt/in-guest.sh bt "$mem" "$cpus" "$limit" "$params" \
			"${args[@]}" ${back[@]+-- "${back[@]}"} \
			>"$work/out" 2>"$work/harness.err"
		hst=$?
		grep -q -- "$marker" "$work/out" && break
		[ $attempt = 1 ] || break
		msg="# nested attempt 1 did not reach the marker (status $hst); last console line: $(tr -d '\r' <"$work/out" | grep -v '^@@' | tail -n 1)
# retrying once (nested-KVM stall?, not counted as a pass of attempt 1)"
		# In the TAP stream and on stderr (prove shows it without -v).
		printf '%s\n' "$msg"
		printf '%s\n' "$msg" >&2
	done
	# The harness's warnings (e.g. kvm-hold could not be built) on stderr.
	grep '^run-in-kvm: warning' "$work/harness.err" >&2 || true
	local run_wall
	run_wall=$(elapsed "$t0")
	tr -d '\r' <"$work/out" >"$work/out.txt"
	if ! grep -q '^@@mvm-start' "$work/out.txt"; then
		diag <"$work/harness.err"
		skip_all "$why and the nested-KVM harness could not run mvm (status $hst): $(grep '^run-in-kvm:' "$work/harness.err" | tail -n 1)"
	fi
	sed -n '/^@@mvm-start/,/^@@mvm-status/{/^@@mvm-/d;p}' "$work/out.txt" >"$console"
	grep -v '^run-in-kvm:' "$work/harness.err" >"$errlog"
	st_line=$(grep '^@@mvm-status ' "$work/out.txt" | tail -n 1)
	if [ -n "$st_line" ]; then
		status=$(echo "$st_line" | cut -d' ' -f2)
		t_in=$(grep '^@@mvm-start ' "$work/out.txt" | cut -d' ' -f2)
		t_out=$(echo "$st_line" | cut -d' ' -f3)
		echo "# mvm exit status $status after $(awk -v a="$t_in" -v b="$t_out" 'BEGIN { printf "%.1f", b - a }') s inside the nested guest; harness wall $run_wall s"
	else
		status=none
		echo "# mvm did not finish: harness status $hst after $run_wall s wall"
		grep '^run-in-kvm:' "$work/harness.err" | diag
	fi
	# Files come back as "@@file NAME SIZE MD5", base64 of gzip, "@@end".
	awk -v d="$work/back" '
		/^@@file / { f = d "/" $2 ".b64"; print $3, $4 > (d "/" $2 ".hdr"); close(d "/" $2 ".hdr"); next }
		/^@@end/ { if (f != "") close(f); f = ""; next }
		f != "" { print > f }' "$work/out.txt"
	for f in "$work"/back/*.b64; do
		[ -e "$f" ] || continue
		b=${f%.b64}
		read -r fsz fmd5 <"$b.hdr"
		base64 -d <"$f" | gunzip >"$b" 2>/dev/null
		if [ "$(stat -c %s "$b")" != "$fsz" ] ||
			[ "$(md5sum <"$b" | cut -d' ' -f1)" != "$fmd5" ]; then
			echo "# $(basename "$b") came back damaged from the nested guest"
			rm -f "$b"
		fi
		rm -f "$f" "$b.hdr"
	done
}
