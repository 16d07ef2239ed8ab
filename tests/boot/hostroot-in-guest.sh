#!/bin/sh
# hostroot-in-guest.sh DIR - the boots of tests/boot/hostroot.t, run where
# mvm has a /dev/kvm: inside the nested-KVM harness (busybox sh, DIR the
# payload folder) or here in direct mode.  DIR holds mvm, vmlinuz and
# mods/ (tests/boot/prepare.sh OUTDIR hostroot).  Prints "@@check NAME ok|fail [DETAIL]"
# lines, and "@@done" at the end.
#
# Boots A-D run on a root that is the generated initramfs itself with a
# folder added through mvm's test seam MVM_HOSTROOT_TEST_ROOT (busybox
# as sh and its applets, a 1 MiB random blob, the folder mvm is started
# from); boot E runs on the host's own / over virtio-fs.
set -u
d=$(cd "$1" && pwd)
MVM=${MVM:-$d/mvm}
lim=${MVM_HOSTROOT_LIMIT:-90}	# seconds per boot (TCG: ~15-25)
bb=/bin/busybox	# busybox-static; `command -v` may name the applet
[ -x "$bb" ] || bb=$(command -v busybox)
root=$d/troot
rm -rf "$root" "$d/sub"
mkdir -p "$root/bin" "$root$d/sub" "$d/sub"
cp "$bb" "$root/bin/busybox" || echo "@@check setup fail cannot copy $bb"
for a in sh cat printf test pwd echo ls; do ln -s busybox "$root/bin/$a"; done
head -c 1048576 /dev/urandom >"$root/blob"
export MVM_HOSTROOT_TEST_ROOT=$root

check() { # check NAME CONDITION-STATUS [DETAIL]
	if [ "$2" -eq 0 ]; then echo "@@check $1 ok"; else echo "@@check $1 fail ${3:-}"; fi
}
show() { # the first bytes of a file, for a failed check
	od -c "$1" | head -n 8 | tr '\n' '|'
}

# The wanted modules the tree has as modules (built-in ones need not
# show in /sys/module): their names in modules.dep, '-' as '_'.
mods=
for m in virtio_pci virtio_console virtiofs overlay pvpanic_pci virtio_rng; do
	grep -q "/$(echo $m | sed 's/_/[-_]/g')\.ko[.a-z]*:" "$d"/mods/lib/modules/*/modules.dep &&
		mods="$mods $m"
done
echo "@@modules$mods"

# ---- boot A: exit status, stdout/stderr byte-exact, modules, cwd, env
cd "$d/sub"
MVM_MODS=$mods MVM_T='hello  world' timeout "$lim" "$MVM" run -k "$d/vmlinuz" --modules "$d/mods" \
	--modprobe virtio-rng -- sh -c '
printf "out 1\n"; pwd; echo "$MVM_T"; cat /blob
printf "err\r\n\001\n" >&2
for m in $MVM_MODS; do
	test -d /sys/module/$m || { echo "no module $m" >&2; exit 11; }
done
exit 7' </dev/null >"$d/a.out" 2>"$d/a.err"
st=$?
cd "$d"
{ printf 'out 1\n%s\nhello  world\n' "$d/sub"; cat "$root/blob"; } >"$d/a.out.want"
printf 'err\r\n\001\n' >"$d/a.err.want"
check exit7 $([ $st -eq 7 ]; echo $?) "status $st; stderr: $(show "$d/a.err")"
cmp -s "$d/a.out" "$d/a.out.want"
check stdout $? "$(wc -c <"$d/a.out") bytes, want $(wc -c <"$d/a.out.want"); first: $(show "$d/a.out")"
cmp -s "$d/a.err" "$d/a.err.want"
check stderr $? "$(wc -c <"$d/a.err") bytes: $(show "$d/a.err")"
grep -q 'no module' "$d/a.err"
check modules $([ $? -ne 0 ] && [ $st -ne 11 ]; echo $?) "$(cat "$d/a.err")"

# ---- boot B: --verbose shows the kernel and the init; a missing command
timeout "$lim" "$MVM" run -k "$d/vmlinuz" --modules "$d/mods" --verbose -- nosuchcmd \
	</dev/null >"$d/b.out" 2>"$d/b.err"
st=$?
check notfound127 $([ $st -eq 127 ]; echo $?) "status $st"
grep -q 'mvm: init: nosuchcmd: No such file or directory' "$d/b.err"
check notfoundmsg $? "$(tail -n 3 "$d/b.err" | tr '\n' '|')"
grep -q 'Linux version' "$d/b.err" && grep -q 'mvm: init: loading' "$d/b.err"
check verbose $? "$(head -n 3 "$d/b.err" | tr '\n' '|')"
check verbose-stdout $([ ! -s "$d/b.out" ]; echo $?) "$(show "$d/b.out")"
# ---- boot C: no command, stdin a pipe: the shell reads it from hvc0
printf 'echo piped-$((6 * 7))\nexit 3\n' |
	timeout "$lim" "$MVM" run -k "$d/vmlinuz" --modules "$d/mods" >"$d/c.out" 2>"$d/c.err"
st=$?
check shell-status $([ $st -eq 3 ]; echo $?) "status $st; stderr: $(show "$d/c.err")"
printf 'piped-42\n' | cmp -s - "$d/c.out"
check shell-stdout $? "$(show "$d/c.out")"
# ---- boot D: at a terminal (ptyrun, a pty): an interactive shell with
# job control; typed after its prompt (the guest's console drops bytes
# that come before it is set up)
if [ -x "$d/ptyrun" ]; then
	if [ ! -e /dev/pts/ptmx ]; then	# the harness's guest mounts no devpts
		mkdir -p /dev/pts
		mount -t devpts -o ptmxmode=0666 devpts /dev/pts
	fi
	"$d/ptyrun" '# ' 'echo mvm-$((6 * 7)); tty
exit 5
' "$lim" -- "$MVM" run -k "$d/vmlinuz" --modules "$d/mods" >"$d/d.out" 2>&1
	st=$?
	check tty-status $([ $st -eq 5 ]; echo $?) "status $st; output: $(tail -c 300 "$d/d.out" | od -c | head -n 6 | tr '\n' '|')"
	grep -q 'mvm-42' "$d/d.out" && grep -q '^/dev/hvc0' "$d/d.out"
	seen=$?
	check tty-output $seen "$(tail -c 300 "$d/d.out" | tr '\n' '|')"
	[ $seen -eq 0 ] && ! grep -q 'job control turned off' "$d/d.out"
	check tty-jobctl $? "$(grep 'job control' "$d/d.out")"
fi
# ---- boot E: the host's own / over virtio-fs, read-only under a tmpfs
# overlay, and a writable --share mounted at its host path.  virtiofsd:
# the one carried in (nested: $d/vfsd/virtiofsd.sh) or the host's.
unset MVM_HOSTROOT_TEST_ROOT
rm -rf "$d/shared" "$d/e-elsewhere"
mkdir -p "$d/shared"
head -c 65536 /dev/urandom >"$d/e.bin"
vf=
[ ! -x "$d/vfsd/virtiofsd.sh" ] || vf="--virtiofsd $d/vfsd/virtiofsd.sh"
cd "$d"
# shellcheck disable=SC2086
timeout "$lim" "$MVM" run -k "$d/vmlinuz" --modules "$d/mods" $vf --share "$d/shared" -- sh -c "
md5sum $d/e.bin; pwd
echo written-in-guest >$d/shared/out
echo must-not-reach-the-host >$d/e-elsewhere && cat $d/e-elsewhere >&2
exit 4" </dev/null >"$d/e.out" 2>"$d/e.err"
st=$?
check root-status $([ $st -eq 4 ]; echo $?) "status $st; stderr: $(tail -n 5 "$d/e.err" | tr '\n' '|')"
{ md5sum "$d/e.bin"; echo "$d"; } | cmp -s - "$d/e.out"
check root-read $? "stdout: $(show "$d/e.out")"
[ "$(cat "$d/shared/out" 2>/dev/null)" = written-in-guest ]
check share-write $? "$(ls -l "$d/shared" | tr '\n' '|')"
[ ! -e "$d/e-elsewhere" ] && grep -q must-not-reach-the-host "$d/e.err"
check root-overlay $? "host copy: $(ls -l "$d/e-elsewhere" 2>&1); stderr: $(tail -n 3 "$d/e.err" | tr '\n' '|')"
echo "@@done"
