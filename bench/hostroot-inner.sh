#!/bin/sh
# hostroot-inner.sh DIR RUNS LIMIT - the runs of bench/hostroot.sh, where
# mvm has a /dev/kvm: inside the nested-KVM harness (busybox sh, DIR the
# payload folder) or here in direct mode.  DIR holds mvm (or $MVM),
# benchrun, vmlinuz, mods/ (prepare.sh OUTDIR hostroot), plain.cpio and,
# nested, vfsd/virtiofsd.sh.  Runs
#   hostroot  mvm run -k vmlinuz --modules mods [--virtiofsd ..] -- echo first
#   plain     mvm run -k vmlinuz -i plain.cpio -p "quiet loglevel=1"
#   true      mvm run -k vmlinuz --modules mods [--virtiofsd ..] -- true
# hostroot and plain once unmeasured as a check (stdout shown as
# "@out LABEL ..."), then RUNS rounds of the three in turn, each run one
# `benchrun -n 1 -w 0` line (ms, CLOCK_MONOTONIC, from
# just before fork(): "first" = the first byte on mvm's stdout, a pipe;
# "wall" = wait4() returned).
set -u
d=$(cd "$1" && pwd)
runs=$2
lim=$3
MVM=${MVM:-$d/mvm}
BR=$d/benchrun
vf=
[ ! -x "$d/vfsd/virtiofsd.sh" ] || vf="--virtiofsd $d/vfsd/virtiofsd.sh"
echo "@nproc $(grep -c '^processor' /proc/cpuinfo)"
echo "@cpu $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "@kernel $(uname -r)"
cd "$d"
# shellcheck disable=SC2086
hostroot() { "$@" "$MVM" run -k "$d/vmlinuz" --modules "$d/mods" $vf -- echo first; }
plain() { "$@" "$MVM" run -k "$d/vmlinuz" -i "$d/plain.cpio" -p "quiet loglevel=1"; }
# shellcheck disable=SC2086
true_() { "$@" "$MVM" run -k "$d/vmlinuz" --modules "$d/mods" $vf -- true; }
for l in hostroot plain; do
	$l timeout "$lim" </dev/null >"$d/check.out" 2>"$d/check.err"
	st=$?
	echo "@out $l status=$st stdout=$(od -An -c "$d/check.out" | tr -s ' \n' '  ' | head -c 200)"
	[ $st -eq 0 ] || echo "@err $l $(tail -n 5 "$d/check.err" | tr '\n' '|')"
done
i=1
while [ "$i" -le "$runs" ]; do
	hostroot "$BR" -n 1 -w 0 -f -t "$lim" -l hostroot --
	plain "$BR" -n 1 -w 0 -f -t "$lim" -l plain --
	true_ "$BR" -n 1 -w 0 -t "$lim" -l true --
	i=$((i + 1))
done
echo "@@done"
