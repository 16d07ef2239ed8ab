# lib.sh - what the boot tests (tests/boot/*.t) share: their points, the
# choice between running mvm here (direct) or in the nested-KVM harness
# (nested), one boot in either mode, and reading the console.  Sourced
# (bash); sources tests/lib/nested.sh (and so tap.sh).
#
# The test sets NAMES=(...) (its plan) and then calls, in order:
#   (on sourcing: $here, $top, $mem, $cpus, $static_mvm)
#   boot_begin TAG          plan line, $work (removed at exit unless
#                           MVM_BOOT_KEEP), $t_start
#   boot_mode               $mode, $why, $limit; skips everything when
#                           neither mode can run here
#   boot_prepare [virtio]   the kernel and initramfs into $work
#                           (prepare.sh), its variables ($KPKG, $KVER,
#                           $KREL, ...); skips everything without them
#   boot_run MARKER PARAMS [MVM_ARG...] [-- FILE...]
#                           (once per test: nested mode moves the kernel)
#                           boots $work/vmlinuz + initramfs.cpio.gz with
#                           the MVM_ARGs (paths relative to $work; those
#                           files must be in $work), sets $console (the
#                           serial console, \r removed), $body (the
#                           console without printk timestamps), $errlog
#                           (mvm's stderr) and $status (mvm's, or "none");
#                           each FILE is mvm's copy afterwards, in
#                           $work/back/.  Nested mode retries once,
#                           announced, when MARKER is missing (a
#                           nested-KVM stall: the known one is avoided,
#                           tests/nested/README.md).
#   point NUM STATUS [DIAG...]   point NUM of NAMES (tap.sh's ok)
#   skip_point NUM REASON        point NUM skipped
#   has TEXT, line TEXT     whether $body holds TEXT; its first line that does
#   ktime TEXT              the printk time of the first console line with TEXT
#   kernel_health           $bad (BUG/Oops/panic lines), $unexpected (kernel
#                           WARNINGs but, in nested mode, the known XSAVE
#                           one of QEMU's TCG: docs/boot-test.md) and $known
#                           (those tolerated)
#   vfsd_find               $vfsd: $MVM_VIRTIOFSD or the virtiofsd mvm would
#                           find; skips everything without one
#   vfsd_carry DIR [HOOK]   (nested mode) DIR/virtiofsd with its shared
#                           libraries, and DIR/virtiofsd.sh running it
#                           through their ld.so with -o sandbox=chroot
#                           (the harness's root is an initramfs, where
#                           pivot_root fails); HOOK: shell lines the
#                           wrapper runs first
#   boot_summary KEEP FILTER...
#                           the end: mvm's stderr; after a failure the
#                           console lines matching grep -E FILTER (all
#                           when none), kept whole as KEEP in the cache
#
# Environment: MVM (direct), STATIC_MVM (nested, default build-static/mvm),
# MVM_BOOT_TEST_MODE (auto, direct, nested), MVM_BOOT_MEM (MiB, 512),
# MVM_BOOT_CPUS (2), MVM_BOOT_TIMEOUT (s: 120 direct, 200 nested),
# MVM_BOOT_KEEP, MVM_NO_NESTED, plus prepare.sh's.

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/nested.sh"
static_mvm=${STATIC_MVM:-$top/build-static/mvm}
mem=${MVM_BOOT_MEM:-512}
cpus=${MVM_BOOT_CPUS:-2}

point() { # point NUM STATUS [DIAG...]
	local n=$1
	shift
	ok "$1" "${NAMES[$((n - 1))]}" "${@:2}"
}

skip_point() { skip "${NAMES[$(($1 - 1))]}" "$2"; }

skip_all() { # skip_all REASON: every point left is skipped (named)
	while [ "$T_N" -lt "${#NAMES[@]}" ]; do
		skip_point $((T_N + 1)) "$1"
	done
	exit 0
}

boot_begin() { # boot_begin TAG
	: "${MVM:?MVM must point at the mvm binary}"
	boot_tag=$1
	t_start=$(date +%s.%N)
	work=$(mktemp -d "${TMPDIR:-/tmp}/mvm-$1.XXXXXX")
	if [ -n "${MVM_BOOT_KEEP:-}" ]; then
		trap 'echo "# work dir kept: $work"' EXIT
	else
		trap 'rm -rf "$work"' EXIT
	fi
	plan ${#NAMES[@]}
}

boot_mode() {
	mode=${MVM_BOOT_TEST_MODE:-auto}
	if [ "$mode" = auto ]; then
		kvm_mode
		# A PVM /dev/kvm emulates kernel-mode guest code at ~4M insn/s:
		# a distribution kernel does not boot in minutes (docs/pvm.md).
		if [ $mode = direct ] && [ -d /sys/module/kvm_pvm ]; then
			mode=nested why="/dev/kvm is the PVM flavour (kvm_pvm loaded)"
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
		nested_need "$static_mvm"
	fi
}

boot_prepare() { # boot_prepare [virtio]
	local t0
	t0=$(date +%s.%N)
	if ! vars=$("$here/prepare.sh" "$work" "$@" 2>"$work/prepare.err"); then
		diag <"$work/prepare.err"
		skip_all "cannot get the kernel${1:+, its $1 modules} or the initramfs: $(tail -n 1 "$work/prepare.err" | sed 's/^prepare: //')"
	fi
	eval "$vars"
	diag <"$work/prepare.err"
	echo "# kernel: $KPKG $KVER (uname -r $KREL); ${VMODS:+modules: $VMODS; }$BUSYBOX; prepared in $(elapsed "$t0") s"
}

boot_run() { # boot_run MARKER PARAMS [MVM_ARG...] [-- FILE...]
	boot_launch "$@"
	body=$(sed 's/^\[ *[0-9]*\.[0-9]*\] //' "$console")
}

boot_launch() { # boot_run's boot, in either mode
	local marker=$1 params=$2 t0 hst st_line t_in t_out f b fsz fmd5
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
	marker_seen() { grep -q -- "$marker" "$work/out"; }
	nested_run marker_seen "$work/out" "$work/harness.err" \
		--timeout $((limit + 60)) "$work/bt" \
		-- sh bt/in-guest.sh bt "$mem" "$cpus" "$limit" "$params" \
		"${args[@]}" ${back[@]+-- "${back[@]}"}
	hst=$nested_status
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

vfsd_find() {
	local c
	vfsd=${MVM_VIRTIOFSD:-}
	if [ -z "$vfsd" ]; then
		for c in /usr/libexec/virtiofsd /usr/lib/qemu/virtiofsd $(command -v virtiofsd 2>/dev/null); do
			[ -x "$c" ] && { vfsd=$c; break; }
		done
	fi
	[ -n "$vfsd" ] || skip_all "no virtiofsd on this host (Debian package qemu-system-common)"
}

vfsd_carry() { # vfsd_carry DIR [HOOK]
	local v=$1 libs interp gcc_s
	mkdir -p "$v/lib"
	cp -L "$vfsd" "$v/virtiofsd"
	libs=$(ldd "$vfsd" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
	interp=$(ldd "$vfsd" | awk '$1 ~ /ld-linux/ {print $1; exit}')
	gcc_s=$(ldconfig -p | awk '/libgcc_s.so.1 .*x86-64/ {print $NF; exit}')
	# shellcheck disable=SC2086
	cp -L $libs ${gcc_s:+"$gcc_s"} "$v/lib/" || skip_all "cannot collect $vfsd's libraries"
	cat >"$v/virtiofsd.sh" <<EOF
#!/bin/sh
# $vfsd through its own ld.so (the nested guest has no libc); libgcc_s
# preloaded since the sandbox's chroot hides it from a later dlopen.
d=\$(dirname "\$0")
${2:-}
exec "\$d/lib/$(basename "$interp")" --library-path "\$d/lib" ${gcc_s:+--preload "\$d/lib/libgcc_s.so.1"} "\$d/virtiofsd" "\$@" -o sandbox=chroot
EOF
	chmod +x "$v/virtiofsd.sh"
	echo "# virtiofsd: $vfsd with $(echo $libs | wc -w) libraries, through $(basename "$interp")"
}

# run_in_guest SCRIPT LIMIT [NESTED_PREP]: sh $work/bt/SCRIPT $work/bt
# where mvm has a /dev/kvm: directly (LIMIT s), or in the nested harness
# with $work/bt as its payload, the static mvm and whatever the function
# NESTED_PREP adds (LIMIT s for the whole L1 boot, one announced retry).
# Its stdout in $work/out (ends with "@@done"), stderr in $work/err.
run_in_guest() {
	local script=$1 lim=$2 prep=${3:-}
	if [ "$mode" = direct ]; then
		MVM=$MVM timeout -k 5 "$lim" sh "$work/bt/$script" "$work/bt" \
			>"$work/out" 2>"$work/err"
		return
	fi
	cp "$static_mvm" "$work/bt/mvm"
	[ -z "$prep" ] || "$prep"
	done_seen() { grep -q '^@@done' "$work/out"; }
	nested_run done_seen "$work/out" "$work/err" --timeout "$lim" "$work/bt" \
		-- sh "bt/$script" bt
}
# check_points OUT ERR: one point per CHECKS[i], named NAMES[i], from the
# "@@check NAME ok|fail [DETAIL]" lines an in-guest script wrote to OUT
# (ERR: its stderr, shown when a check has no result).
check_points() {
	local i line
	for i in "${!CHECKS[@]}"; do
		line=$(grep "^@@check ${CHECKS[$i]} " "$1" | tail -n 1)
		case $line in
		"@@check ${CHECKS[$i]} ok") ok 0 "${NAMES[$i]}" ;;
		"") ok 1 "${NAMES[$i]}" "no result (the run did not get there)" \
			"$(tail -n 5 "$2")" ;;
		*) ok 1 "${NAMES[$i]}" "${line#@@check * fail }" ;;
		esac
	done
}
has() { printf '%s\n' "$body" | grep -qF -- "$1"; }
line() { printf '%s\n' "$body" | grep -F -m1 -- "$1"; }
ktime() {
	local t
	t=$(grep -F -m1 -- "$1" "$console" | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p')
	echo "${t:-?}"
}

kernel_health() {
	local w
	bad=$(printf '%s\n' "$body" | grep -E '^(BUG: |Oops|Kernel panic|general protection fault|kernel BUG)' | head -n 5)
	unexpected=
	known=
	# QEMU 7.2's TCG apparently does not honour the SVM XSETBV intercept,
	# so the L1 KVM never learns the L2 guest's XCR0 and CPUID 0xD.0 EBX
	# stays 576 (docs/boot-test.md).  Not expected on real hardware.
	while IFS= read -r w; do
		[ -n "$w" ] || continue
		if [ "$mode" = nested ] && [[ $w == *"fpu__init_system_xstate"* ]] &&
		   has "XSAVE consistency problem: size"; then
			known="$known$w"$'\n'
		else
			unexpected="$unexpected$w"$'\n'
		fi
	done <<<"$(printf '%s\n' "$body" | grep -E '^WARNING: CPU: ')"
	known=${known%$'\n'}
	unexpected=${unexpected%$'\n'}
}

boot_end() { # the wall time, the exit status
	echo "# $boot_tag total wall time $(elapsed "$t_start") s"
	done_testing
}

boot_summary() { # boot_summary KEEP [FILTER]
	local keep
	if [ -s "$errlog" ]; then
		echo "# mvm stderr ($(wc -l <"$errlog") lines):"
		head -n 40 "$errlog" | diag
	fi
	if [ $T_FAILED -ne 0 ]; then
		if [ -n "${2:-}" ]; then
			echo "# $T_FAILED point(s) failed; console: $(wc -l <"$console") lines; those matching '$2':"
			printf '%s\n' "$body" | grep -iE "$2" | tail -n 60 | diag
		else
			echo "# $T_FAILED point(s) failed; console: $(wc -l <"$console") lines, last 40:"
			tail -n 40 "$console" | diag
		fi
		if [ -z "${MVM_BOOT_KEEP:-}" ]; then
			keep=$nested_cache/boot-test/$1
			cp "$console" "$keep" 2>/dev/null && echo "# whole console kept in $keep"
		fi
	fi
	boot_end
}
