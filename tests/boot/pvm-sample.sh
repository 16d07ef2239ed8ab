# pvm-sample.sh - run mvm on a kernel and sample where its vCPUs are
# (tests/boot/pvm-probe.sh's payload; busybox sh is enough, so it also runs
# inside the nested-KVM harness).
#
# Usage: sh pvm-sample.sh DIR SECONDS INTERVAL PARAMS [MVM_ARG...]
#
# DIR holds mvm, vmlinuz and initramfs.cpio.gz.  Boots them under
# `mvm run --name pvm-sample`, and every INTERVAL seconds, for SECONDS or
# until mvm ends, runs `mvm debug pvm-sample` and prints one line per vCPU:
#   @@sample <seconds since start> vcpuN <rip> <rflags> <code bytes...>
# then "@@console <last console line>" and, at the end,
#   @@mvm-status <status>
# followed by the console log between "@@console-log" and "@@end".
cd "$1" || exit 125
secs=$2 interval=$3 params=$4
shift 4
./mvm run -k vmlinuz -i initramfs.cpio.gz -m 512 -c 1 --name pvm-sample \
	-p "$params" "$@" </dev/null >console.log 2>mvm.err &
pid=$!
t=0
while [ "$t" -lt "$secs" ] && kill -0 $pid 2>/dev/null; do
	sleep "$interval"
	t=$((t + interval))
	./mvm debug pvm-sample >dbg.txt 2>/dev/null || continue
	awk -v t="$t" '
		$1 ~ /^vcpu[0-9]+$/ && $2 == "rip" { rip[$1] = $3; fl[$1] = $7 }
		$1 ~ /^vcpu[0-9]+$/ && $2 == "code" { $2 = ""; code[$1] = $0; sub(/^vcpu[0-9]+ +/, "", code[$1]) }
		END { for (v in rip) print "@@sample", t, v, rip[v], fl[v], code[v] }' dbg.txt
	echo "@@console $(tr -d '\r' <console.log | grep -v '^$' | tail -n 1)"
done
kill -0 $pid 2>/dev/null && ./mvm stop pvm-sample >/dev/null 2>&1
sleep 1
kill $pid 2>/dev/null
wait $pid
echo "@@mvm-status $?"
echo "@@console-log"
tr -d '\r' <console.log
echo "@@end"
cat mvm.err >&2
