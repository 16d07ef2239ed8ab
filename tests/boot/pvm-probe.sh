#!/usr/bin/env bash
# pvm-probe.sh - where does a stock Debian kernel spend its time under mvm?
# The tool for issue 6's stall (docs/pvm.md): boots the boot test's kernel
# and initramfs with KASLR off, samples every vCPU's RIP, RFLAGS and the
# code bytes at RIP through `mvm debug` (the control socket), and names
# each RIP with the kernel's System.map.  Prints the samples, a histogram
# of functions and the console's last lines.
#
# Usage: tests/boot/pvm-probe.sh [--seconds N] [--interval S] [--mode direct|nested]
#                                 [--params "..."] [-- MVM_RUN_ARG...]
#   --seconds   how long to sample (default 60)
#   --interval  seconds between samples (default 2)
#   --mode      direct: mvm here (what to use on a PVM host); nested: in
#               the nested-KVM harness; default direct when /dev/kvm is
#               usable, else nested
#   --params    kernel parameters (default "nokaslr earlyprintk=serial");
#               nokaslr keeps the System.map addresses right
#   MVM_RUN_ARGs go to `mvm run` (e.g. --pvm-compat on, --trace ...)
#
# Environment: MVM (default ./build/mvm), STATIC_MVM, plus prepare.sh's.
# The kernel's System.map comes from its Debian -dbg package (apt-get
# download, cached next to prepare.sh's copy of the kernel).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=60 interval=2 mode= params="nokaslr earlyprintk=serial"
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) secs=$2; shift 2 ;;
	--interval) interval=$2; shift 2 ;;
	--mode) mode=$2; shift 2 ;;
	--params) params=$2; shift 2 ;;
	--) shift; break ;;
	-h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) echo "pvm-probe: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[[ $secs =~ ^[0-9]+$ && $interval =~ ^[0-9]+$ && $interval -gt 0 ]] ||
	{ echo "pvm-probe: --seconds and --interval take whole seconds" >&2; exit 2; }
if [ -z "$mode" ]; then
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then mode=direct; else mode=nested; fi
fi
mvm=${MVM:-$top/build/mvm}
[ "$mode" = direct ] || mvm=${STATIC_MVM:-$top/build-static/mvm}
[ -x "$mvm" ] || { echo "pvm-probe: no mvm at $mvm (make, or make STATIC=1)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/mvm-pvm-probe.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/p"
vars=$("$here/prepare.sh" "$work/p") || exit 2
eval "$vars"

# System.map of that very kernel, from its -dbg package.
map=$("$here/fetch-dbg.sh" "$KPKG" "$KVER" map) || exit 2

cp "$mvm" "$work/p/mvm"
cp "$here/pvm-sample.sh" "$work/p/"
echo "# pvm-probe: $KPKG $KVER, mode $mode, ${secs}s every ${interval}s, params \"$params\", mvm args: $*"
if [ "$mode" = direct ]; then
	sh "$work/p/pvm-sample.sh" "$work/p" "$secs" "$interval" "$params" "$@" \
		>"$work/out" 2>"$work/err" || true
else
	"$top/tests/nested/run-in-kvm.sh" --timeout $((secs + 120)) "$work/p" \
		-- sh p/pvm-sample.sh p "$secs" "$interval" "$params" "$@" \
		>"$work/out" 2>"$work/err" || true
fi

# RIP -> function+offset: the last System.map text symbol at or below it.
# Addresses are compared as 16-digit hex strings (awk's numbers are
# doubles: 64-bit kernel addresses do not fit); offsets from the low half.
symbolize() {
	awk 'BEGIN { n = 0 }
	NR == FNR {
		if ($2 ~ /^[tTwW]$/ && length($1) == 16 && tolower($1) >= "ffffffff80000000") { a[n] = tolower($1); s[n] = $3; n++ }
		next
	}
	function hex(h,  i, v) {
		v = 0; h = tolower(h)
		for (i = 1; i <= length(h); i++)
			v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
		return v
	}
	$1 == "@@sample" {
		r = tolower($4); best = -1
		for (i = 0; i < n; i++)
			if (a[i] <= r && (best < 0 || a[i] > a[best]))
				best = i
		sym = best < 0 ? "(boot-or-decompressor-code)" : sprintf("%s+0x%x", s[best], hex(substr(r, 9)) - hex(substr(a[best], 9)))
		code = ""
		for (i = 6; i <= NF; i++) code = code " " $i
		printf "%5ss %s rip %s %-40s rflags %s (IF %s) code%s\n", $2, $3, $4, sym, $5, \
			int(hex($5) / 512) % 2 ? "on" : "off", code
	}' "$map" -
}
echo "# samples:"
grep '^@@sample ' "$work/out" | symbolize | tee "$work/sym" | sed 's/^/#   /'
echo "# functions, most sampled first:"
awk '{ print $5 }' "$work/sym" | sed 's/+0x[0-9a-f]*$//' | sort | uniq -c | sort -rn | sed 's/^/#   /'
echo "# $(grep '^@@mvm-status' "$work/out" || echo '@@mvm-status none')"
echo "# console, last lines:"
sed -n '/^@@console-log$/,/^@@end$/{/^@@/d;p}' "$work/out" | grep -v '^$' | tail -n 15 | sed 's/^/#   /'
echo "# mvm stderr, last lines:"
grep -v '^run-in-kvm:' "$work/err" | tail -n 8 | sed 's/^/#   /'
