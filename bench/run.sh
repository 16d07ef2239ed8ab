#!/usr/bin/env bash
# bench/run.sh - `make bench`: start-up cost of the VMM core.
#
# Whole-process wall time and peak RSS (median/min/max of RUNS runs, after
# WARMUP unmeasured ones) of, side by side in one run:
#   mvm     `mvm run -m 256 </dev/null`: the embedded guest boots, prints
#           and powers off
#   floor   bench/floor.c: the same VM (256 MiB slot, irqchip, PIT, one
#           vCPU), one guest instruction, exit
#   qemu    `qemu-system-x86_64 -accel kvm -M microvm -S -m 256`, told to
#           quit over QMP
# and the time from process start to the first guest instruction: mvm
# booting bench/first.S (its first instructions write a byte to COM1, which
# mvm writes to stdout; benchrun timestamps the byte) and the floor (which
# writes a byte after its first KVM_RUN returns).  See docs/performance.md.
#
# With a usable /dev/kvm everything runs here.  Without one, mvm, the floor
# and QEMU (with its shared libraries, run through their ld.so) run inside
# the nested-KVM guest of tests/nested/run-in-kvm.sh: those numbers are
# NOT representative of a real host.
#
# Environment: MVM, BUILD (from make), STATIC_MVM (static mvm for the
# nested guest, default build-static/mvm), MKBZIMAGE, CC, BENCH_RUNS (20),
# BENCH_WARMUP (2), BENCH_NO_QEMU=1 (skip QEMU), BENCH_VERBOSE=1 (print
# every run), BENCH_LIMIT (seconds one run may take before it is killed
# and run again, default 60), BENCH_STALL (seconds without progress
# after which a nested boot counts as hung and is retried once, default
# 40), BENCH_NESTED_CPUS (vCPUs of the nested guest, default 1: with 2 it
# often hung on our 2-CPU machines).  No timed assertions: the exit
# status is non-zero only if a program failed or could not be run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
MVM=${MVM:-$top/build/mvm}
BUILD=${BUILD:-$top/build}
STATIC_MVM=${STATIC_MVM:-$top/build-static/mvm}
MKBZIMAGE=${MKBZIMAGE:-$top/build/guest/mkbzimage}
CC=${CC:-gcc}
runs=${BENCH_RUNS:-20}
warm=${BENCH_WARMUP:-2}
out=$BUILD/bench
mkdir -p "$out"

die() { echo "bench: $*" >&2; exit 1; }

if [[ -r /dev/kvm && -w /dev/kvm ]]; then mode=host; else mode=nested; fi

# ------------------------------------------------------------ helpers
# benchrun is always static (it also runs in the nested guest); the floor
# is linked like the mvm it is compared with (static only when nested).
cflags=(-std=gnu11 -O2 -Wall -Wextra -Werror)
floor_ld=()
[[ $mode == nested ]] && floor_ld=(-static)
"$CC" "${cflags[@]}" -static -o "$out/benchrun" "$here/benchrun.c"
"$CC" "${cflags[@]}" "${floor_ld[@]}" -o "$out/floor" "$here/floor.c"
[[ -x $MKBZIMAGE ]] || die "$MKBZIMAGE missing (make $MKBZIMAGE)"
"$CC" -c -o "$out/first.o" "$here/first.S"
objcopy -O binary -j .text "$out/first.o" "$out/first.bin"
"$MKBZIMAGE" "$out/first.bin" "$out/first.bzImage" >/dev/null

res=$out/results.txt
qemu_bin=$(command -v qemu-system-x86_64 || true)
qemu_skip=
[[ -n $qemu_bin ]] || qemu_skip="qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
[[ -z ${BENCH_NO_QEMU:-} ]] || qemu_skip="BENCH_NO_QEMU is set"

echo "bench: $runs runs each after $warm warm-up runs; this takes a while" >&2
st=0
if [[ $mode == host ]]; then
	qemu=
	[[ -n $qemu_skip ]] || qemu=$qemu_bin
	BR=$out/benchrun MVM=$MVM FLOOR=$out/floor FIRST=$out/first.bzImage \
	QEMU=$qemu QEMU_SKIP=$qemu_skip RUNS=$runs WARMUP=$warm \
	VERBOSE=${BENCH_VERBOSE:-} LIMIT=${BENCH_LIMIT:-60} \
		sh "$here/inner.sh" >"$res" || st=$?
else
	[[ -x $STATIC_MVM ]] || die "$STATIC_MVM missing (make STATIC=1 build-static/mvm)"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	# Two payloads, both seen as /payload/b in the guest: the small one
	# for mvm and the floor, and QEMU with its libraries (~50 MB).
	small=$tmp/small/b
	mkdir -p "$small"
	cp "$out/benchrun" "$out/floor" "$out/first.bzImage" "$here/inner.sh" "$small/"
	cp "$STATIC_MVM" "$small/mvm"
	# QEMU is dynamic and the guest has no libc: carry its libraries and
	# run it through its own ld.so (the usual start-up work, explicitly).
	qemu=
	big=$tmp/big/b
	if [[ -z $qemu_skip ]]; then
		mkdir -p "$big/q/lib" "$big/q/share"
		cp "$out/benchrun" "$here/inner.sh" "$big/"
		if cp -L "$qemu_bin" "$big/q/qemu-system-x86_64" &&
		   libs=$(ldd "$qemu_bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}') &&
		   [[ -n $libs ]] && cp -L $libs "$big/q/lib/" &&
		   interp=$(ldd "$qemu_bin" | awk '$1 ~ /ld-linux/ {print $1; exit}') &&
		   [[ -n $interp ]] &&
		   cp -L /usr/share/qemu/bios-microvm.bin "$big/q/share/"; then
			qemu="./b/q/lib/$(basename "$interp") --library-path ./b/q/lib ./b/q/qemu-system-x86_64 -L ./b/q/share"
		else
			qemu_skip="could not collect qemu-system-x86_64's libraries and firmware for the nested guest"
		fi
	fi
	: >"$res"
	measured() { # measured STAGE: has a result (or a skip) in $res
		case $1 in
		info) grep -q '^@cpu ' "$res" ;;
		qemu) grep -q -e '^qemu n=' -e '^@skip qemu' "$res" ;;
		*) grep -q "^$1 n=" "$res" ;;
		esac
	}
	# The nested guest sometimes stops dead (its timers stop: even
	# benchrun's -t alarm never fires).  benchrun -v prints every run, so
	# a boot whose output stalls is killed, and one more boot measures
	# what is still missing.
	watched() { # watched CMD...: stdout to $tmp/out, stderr to $tmp/err
		local pid size last=-1 idle=0 rc=0
		"$@" >"$tmp/out" 2>"$tmp/err" &
		pid=$!
		while kill -0 "$pid" 2>/dev/null; do
			sleep 1
			size=$(($(stat -c %s "$tmp/out") + $(stat -c %s "$tmp/err")))
			if [[ $size != "$last" ]]; then last=$size idle=0; else idle=$((idle + 1)); fi
			# Boot (no output yet) may take long on a loaded host.
			if (( (size == 0 && idle >= 180) || (size > 0 && idle >= ${BENCH_STALL:-40}) )); then
				echo "bench: no progress from the nested guest for $idle s: stopping it" >&2
				kill "$pid" 2>/dev/null
			fi
		done
		wait "$pid" || rc=$?
		if [[ -n ${BENCH_VERBOSE:-} ]]; then
			cat "$tmp/err" >&2
		else
			grep -Ev ' run -?[0-9]+( \(warm-up\))?: ' "$tmp/err" >&2 || true
		fi
		return $rc
	}
	nested() { # nested PAYLOAD_PARENT STAGE...
		local dir=$1 attempt rc todo s
		shift
		for attempt in 1 2; do
			todo=
			for s in "$@"; do measured "$s" || todo+="$s "; done
			[[ -n $todo ]] || return 0
			rc=0
			watched "$top/tests/nested/run-in-kvm.sh" --timeout "${MVM_NESTED_TIMEOUT:-600}" \
				--cpus "${BENCH_NESTED_CPUS:-1}" "$dir/b" -- \
				env BR=./b/benchrun MVM=./b/mvm FLOOR=./b/floor \
				FIRST=./b/first.bzImage QEMU="$qemu" QEMU_SKIP="$qemu_skip" \
				RUNS="$runs" WARMUP="$warm" VERBOSE=1 \
				LIMIT="${BENCH_LIMIT:-60}" STAGES="$todo" \
				sh ./b/inner.sh || rc=$?
			cat "$tmp/out" >>"$res"
			[[ $rc -ge 124 ]] || { [[ $rc == 0 ]] || st=$rc; return 0; }
			echo "@note the nested boot for '${todo% }' stopped (harness status $rc; the guest hung) and was retried" >>"$res"
			echo "bench: nested boot for '${todo% }' failed (status $rc), attempt $attempt of 2" >&2
		done
		st=$rc
	}
	echo "bench: no usable /dev/kvm here: running inside nested KVM (QEMU TCG)" >&2
	nested "$tmp/small" info mvm floor first
	if [[ -n $qemu ]]; then
		nested "$tmp/big" qemu
	else
		echo "@skip qemu $qemu_skip" >>"$res"
	fi
fi

# ------------------------------------------------------------ report
get() { # get LABEL KEY
	awk -v l="$1" -v k="$2" '$1 == l { for (i = 2; i <= NF; i++) {
		split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$res"
}
info() { sed -n "s/^@$1 //p" "$res" | head -n 1; }
ratio() { # ratio A B: "A/B" with an x, or n/a
	[[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }' || echo n/a
}
row() { # row LABEL DESCRIPTION
	if [[ -z $(get "$1" n) ]]; then
		printf '| %-44s | %s |\n' "$2" "not measured"
		return
	fi
	printf '| %-44s | %7s | %7s | %7s | %5s / %5s |\n' "$2" "$(get "$1" wall_med)" \
		"$(get "$1" wall_min)" "$(get "$1" wall_max)" "$(get "$1" rss_med)" \
		"$(get "$1" rss_max)"
}

echo
if [[ $mode == nested ]]; then
	echo "MEASURED INSIDE NESTED KVM UNDER QEMU TCG: NOT REPRESENTATIVE OF A REAL HOST"
	echo "outer host: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), Linux $(uname -r), $(qemu-system-x86_64 --version | head -n 1)"
	echo "nested guest (where it ran): vCPUs: $(info nproc), $(info cpu), Linux $(info kernel), kvm_amd"
else
	echo "host: $(info nproc) CPUs, $(info cpu), Linux $(info kernel)"
fi
echo "$runs runs each after $warm warm-up runs; wall = whole process, fork() to wait4(); RSS = ru_maxrss"
echo
printf '| %-44s | %7s | %7s | %7s | %13s |\n' "program" "wall ms" "min" "max" "RSS MiB (med / max)"
printf '| %-44s | %7s | %7s | %7s | %13s |\n' "---" "---:" "---:" "---:" "---:"
row mvm "mvm run -m 256 (embedded guest, to poweroff)"
row floor "floor (bench/floor.c)"
row qemu "QEMU microvm -S -m 256, QMP quit"
echo
echo "mvm/floor: wall $(ratio "$(get mvm wall_med)" "$(get floor wall_med)")," \
	"peak RSS $(ratio "$(get mvm rss_med)" "$(get floor rss_med)") (medians)"
if [[ -n $(get qemu n) ]]; then
	echo "mvm/QEMU:  wall $(ratio "$(get mvm wall_med)" "$(get qemu wall_med)")," \
		"peak RSS $(ratio "$(get mvm rss_med)" "$(get qemu rss_med)") (medians)"
elif [[ -n $(info skip) ]]; then
	echo "mvm/QEMU:  not measured: $(info skip | sed 's/^qemu //')"
else
	echo "mvm/QEMU:  not measured: QEMU failed (see its error above)"
fi
sed -n 's/^@note /note: /p' "$res"
echo
echo "Process start to first guest instruction (ms; fork() to the guest's first byte on the VMM's stdout):"
printf '| %-44s | %7s | %7s | %7s | %14s |\n' "program" "first ms" "min" "max" "whole process"
printf '| %-44s | %7s | %7s | %7s | %14s |\n' "---" "---:" "---:" "---:" "---:"
for l in first floor; do
	d="mvm run -m 256 --debug-exit -k first.bzImage"
	[[ $l == floor ]] && d="floor (bench/floor.c)"
	if [[ -z $(get $l n) ]]; then
		printf '| %-44s | %s |\n' "$d" "not measured"
		continue
	fi
	printf '| %-44s | %7s | %7s | %7s | %14s |\n' "$d" "$(get $l first_med)" \
		"$(get $l first_min)" "$(get $l first_max)" "$(get $l wall_med)"
done
echo "mvm/floor (first instruction): $(ratio "$(get first first_med)" "$(get floor first_med)")"
for l in mvm floor qemu first; do
	k=$(get $l killed)
	[[ -z $k ]] || echo "note: $k run(s) of '$l' hung and were killed after ${BENCH_LIMIT:-60} s, then run again (not counted)"
done
[[ $st == 0 ]] || echo "bench: some program failed or could not be run (status $st)" >&2
exit "$st"
