#!/usr/bin/env bash
# bench/trace.sh - what tracing costs: the same guest run (the mbox-vf
# driver guest on the simulated host: ~700 exits, MSI-X setup, 18
# interrupts) with tracing off and with every category on (written to
# /dev/null), whole-process wall time over 10 runs each, plus how many
# trace lines one run emits.  Numbers only, no assertions.  Without a
# usable /dev/kvm it runs inside the nested-KVM guest (tests/nested), whose
# times are QEMU-TCG's, not a host's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir "$out/p"
"${CC:-gcc}" -std=gnu11 -O2 -Wall -Wextra -Werror -static \
	-o "$out/p/benchrun" "$here/benchrun.c"
make --no-print-directory STATIC=1 build-static/mvm >/dev/null
cp build-static/mvm build/guest/g_mbox.bzImage "$out/p/"
cat >"$out/p/inner.sh" <<'IN'
cd "$(dirname "$0")"
run="./mvm run -k g_mbox.bzImage --debug-exit --passthrough sim:mbox-vf"
./benchrun -n 10 -w 1 -l trace-off -- $run
./benchrun -n 10 -w 1 -l trace-all -- $run --trace all --trace-file /dev/null
$run --trace all --trace-file /tmp/t.log >/dev/null 2>&1
echo "trace lines per run: $(wc -l </tmp/t.log)"
IN
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	echo "# on this host's /dev/kvm"
	sh "$out/p/inner.sh"
else
	echo "# inside nested KVM under QEMU TCG: not representative of a real host"
	tests/nested/run-in-kvm.sh --timeout 300 --cpus 1 "$out/p" -- sh p/inner.sh
fi
