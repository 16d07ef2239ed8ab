#!/bin/sh
# bench/inner.sh - the measurements themselves, run by bench/run.sh either
# directly (host with /dev/kvm) or inside the nested-KVM guest (busybox sh,
# static binaries only).  Prints one result line per program (benchrun's
# format) and "@" lines for everything else; bench/run.sh makes the table.
#
# Environment: BR (benchrun), MVM, FLOOR, FIRST (bench guest bzImage),
# QEMU (command prefix for qemu-system-x86_64, empty to skip; QEMU_SKIP is
# then the reason), RUNS, WARMUP, LIMIT (seconds per run), VERBOSE,
# STAGES (default "info mvm floor first qemu").
set -u
br="$BR -n ${RUNS:-20} -w ${WARMUP:-2} -t ${LIMIT:-60} ${VERBOSE:+-v}"
st=0

for stage in ${STAGES:-info mvm floor first qemu}; do
	case $stage in
	info)
		echo "@cpu $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
		echo "@nproc $(grep -c '^processor' /proc/cpuinfo)"
		echo "@kernel $(uname -r)"
		;;
	mvm)	# embedded guest, 256 MiB: boots, prints, powers off (status 0)
		$br -l mvm -- "$MVM" run -m 256 || st=1
		;;
	floor)	# same VM, one guest instruction; "first" = its exit seen
		$br -f -l floor -- "$FLOOR" 256 || st=1
		;;
	first)	# guest's first instructions: a byte to COM1, then debug-exit
		$br -f -l first -- "$MVM" run -m 256 --debug-exit -k "$FIRST" ||
			st=1
		;;
	qemu)	# QEMU microvm, stopped (-S), quit over QMP
		if [ -n "${QEMU:-}" ]; then
			$br -q -l qemu -- $QEMU -accel kvm -M microvm -S -m 256 \
				-nodefaults -no-user-config -display none \
				-chardev socket,id=qmp,fd=3 \
				-mon chardev=qmp,mode=control || st=1
		else
			echo "@skip qemu ${QEMU_SKIP:-not requested}"
		fi
		;;
	esac
done
exit $st
