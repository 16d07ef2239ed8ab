#!/bin/sh
# disk-crash-inner.sh BT - tests/boot/disk-crash.t's runs, here or
# inside the nested-KVM guest (busybox sh).  For raw and qcow2, ROUNDS
# times (BT/rounds): a fresh image, mvm running tests/guest/g_blk_crash.c on it,
# killed with SIGKILL at a random moment while the guest writes; then
# qcow2: `qemu-img check` (leaked clusters allowed, never corruption),
# and every block checked against the last flush the guest saw complete
# (blkcrash_check).  One "@@check FMT ok|fail DETAIL" line per format,
# "@@done" at the end.
bt=$(cd "$1" && pwd)
rounds=$(cat "$bt/rounds" 2>/dev/null || echo 6)
cd "$bt" || exit 1
MVM=${MVM:-$bt/mvm}
QIMG=${QIMG:-$bt/qimg/qemu-img.sh}
[ -x "$QIMG" ] || QIMG=qemu-img

# random_delay: 0.3 to 1.5 s, different each round.
random_delay() {
	awk -v s="$1" 'BEGIN { srand(s); printf "%.2f\n", 0.3 + rand() * 1.2 }'
}

for fmt in raw qcow2; do
	i=0
	fail=
	flushes=
	while [ $i -lt "$rounds" ] && [ -z "$fail" ]; do
		rm -f d.img r.img
		if [ $fmt = raw ]; then
			dd if=/dev/zero of=d.img bs=1M count=2 2>/dev/null
		else
			"$QIMG" create -q -f qcow2 d.img 2M >q.err 2>&1 ||
				{ fail="qemu-img create: $(cat q.err)"; break; }
		fi
		"$MVM" run -k g_blk_crash.bzImage -m 64 -d "d.img,format=$fmt" \
			</dev/null >out.txt 2>err.txt &
		pid=$!
		n=0
		while [ $n -lt 300 ] && ! grep -q '^F ' out.txt; do
			kill -0 $pid 2>/dev/null || break
			sleep 0.1
			n=$((n + 1))
		done
		sleep "$(random_delay "$i$fmt$$")"
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		f=$(grep '^F ' out.txt | tail -n 1 | cut -d' ' -f2 | tr -d '\r')
		if [ -z "$f" ]; then
			fail="round $i: the guest never completed a flush: $(tail -n 3 err.txt out.txt | tr '\n' ' ')"
			break
		fi
		flushes="$flushes $f"
		if [ $fmt = qcow2 ]; then
			"$QIMG" check d.img >chk.txt 2>&1
			st=$?
			# 0: clean, 3: leaked clusters only (allowed after a kill)
			if [ $st != 0 ] && [ $st != 3 ]; then
				fail="round $i (F $f): qemu-img check exit $st: $(tr '\n' ' ' <chk.txt)"
				break
			fi
			"$QIMG" convert -f qcow2 -O raw d.img r.img 2>q.err ||
				{ fail="round $i: qemu-img convert: $(cat q.err)"; break; }
		else
			cp d.img r.img
		fi
		if ! ./blkcrash_check r.img "$f" >c.txt 2>&1; then
			fail="round $i (F $f): $(tr '\n' ' ' <c.txt)"
			break
		fi
		i=$((i + 1))
	done
	if [ -z "$fail" ]; then
		echo "@@check $fmt ok"
		echo "# $fmt: $rounds kills, last flushed seq each time:$flushes"
	else
		echo "@@check $fmt fail $fail"
	fi
done
echo "@@done"
