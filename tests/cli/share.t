#!/usr/bin/env bash
# --share and --virtiofsd: every bad input is one line and a non-zero
# exit before /dev/kvm is opened; a virtiofsd that fails to start is
# reported after its own (prefixed) lines; a real virtiofsd is started,
# greeted over vhost-user, stopped and reaped, and its runtime directory
# removed, when the run ends (here: at the missing /dev/kvm).
. "$(dirname "$0")/../lib/mvm.sh"

mkdir -p "$TMP/a/data" "$TMP/b/data" "$TMP/share"
echo x >"$TMP/file"

"$MVM" help run >"$TMP/h"
for o in --share --virtiofsd; do
	grep -q -- "$o" "$TMP/h"; ok $? "help run documents $o"
done

expect_fail "--share of a missing directory" 2 \
	"^mvm: --share '$TMP/nope': $TMP/nope: No such file or directory \(give an existing host directory\)$" \
	-- run --share "$TMP/nope"
expect_fail "--share of a file" 2 \
	"^mvm: --share '$TMP/file': $TMP/file is not a directory \(share the directory that holds it\)$" \
	-- run --share "$TMP/file"
expect_fail "a tag used twice" 2 \
	"--share '$TMP/b/data,tag=t': tag 't' is already used by --share $TMP/a/data \(give each share its own tag=NAME\)" \
	-- run --share "$TMP/a/data,tag=t" --share "$TMP/b/data,tag=t"
expect_fail "a default tag (the basename) used twice" 2 \
	"tag 'data' is already used by --share $TMP/a/data" \
	-- run --share "$TMP/a/data" --share "$TMP/b/data"
expect_fail "a tag longer than 36 bytes" 2 \
	"tag '$(printf 'x%.0s' $(seq 37))' must be 1 to 36 bytes \(give tag=NAME\)" \
	-- run --share "$TMP/share,tag=$(printf 'x%.0s' $(seq 37))"
expect_fail "an empty tag" 2 "tag '' must be 1 to 36 bytes" \
	-- run --share "$TMP/share,tag="
expect_fail "an unknown --share option" 2 \
	"--share '$TMP/share,rw': unknown option 'rw' \(HOSTDIR\[,tag=NAME\]\[,ro\]\)" \
	-- run --share "$TMP/share,rw"
expect_fail "--virtiofsd that is not executable" 1 \
	"^mvm: --virtiofsd '$TMP/file': not an executable file \(give the path of virtiofsd\)$" \
	-- run --share "$TMP/share" --virtiofsd "$TMP/file"

# No virtiofsd anywhere: hide Debian's places in a private mount namespace.
if unshare -m true 2>/dev/null; then
	unshare -m sh -c '
		for d in /usr/libexec /usr/lib/qemu; do
			[ -d $d ] && mount -t tmpfs none $d
		done
		PATH=/nonexistent exec "$0" run --share "$1"' "$MVM" "$TMP/share" \
		>"$TMP/out" 2>"$TMP/err" </dev/null
	st=$?
	[ "$st" = 1 ] && [ "$(wc -l <"$TMP/err")" = 1 ] &&
		grep -q "^mvm: --share '$TMP/share': no virtiofsd found in /usr/libexec, /usr/lib/qemu or \$PATH (install Debian's qemu-system-common or virtiofsd, or give --virtiofsd PATH)$" "$TMP/err"
	ok $? "no virtiofsd found" "status $st" "$(cat "$TMP/err")"
else
	skip "no virtiofsd found" "cannot unshare a mount namespace here to hide virtiofsd"
fi

# vfsd_fails NAME TAG SCRIPT RE1 RE2: --virtiofsd SCRIPT (its contents)
# fails before it listens: exit 1, its line prefixed (RE1), then mvm's (RE2).
vfsd_fails() {
	printf '%s' "$3" >"$TMP/vfsd-$2"
	chmod +x "$TMP/vfsd-$2"
	"$MVM" run --share "$TMP/share,tag=$2" --virtiofsd "$TMP/vfsd-$2" \
		>"$TMP/out" 2>"$TMP/err" </dev/null
	st=$?
	[ "$st" = 1 ] && [ "$(wc -l <"$TMP/err")" = 2 ] &&
		sed -n 1p "$TMP/err" | grep -q "$4" && sed -n 2p "$TMP/err" | grep -q "$5"
	ok $? "$1" "status $st" "$(cat "$TMP/err")"
}

# A virtiofsd that fails at once: its own line, prefixed, then mvm's.
vfsd_fails "virtiofsd failing to start: its line prefixed, then one line with its exit status" bad \
	'#!/bin/sh
echo "cannot serve: $*" >&2
exit 3
' "^virtiofsd\[bad\]: cannot serve: --fd=3 -o source=$TMP/share " \
	"^mvm: --share '$TMP/share': virtiofsd\[bad\] ($TMP/vfsd-bad) ended before it answered on its socket: exit status 3 (see its messages above; check the directory and --virtiofsd)$"
ls -d "$XDG_RUNTIME_DIR"/mvm-virtiofsd.* >/dev/null 2>&1
[ $? -ne 0 ]; ok $? "its private runtime directory is removed"

# An executable file the kernel cannot run: the child says so (after
# fork, before exec), exit status 127.
vfsd_fails "a --virtiofsd the kernel cannot execute: why, then exit status 127" garbage \
	'garbage' "^virtiofsd\[garbage\]: cannot run $TMP/vfsd-garbage: Exec format error$" \
	"ended before it answered on its socket: exit status 127 "

# A virtiofsd killed by a signal before it answers.
printf '#!/bin/sh\nkill -9 $$\n' >"$TMP/killed-vfsd"
chmod +x "$TMP/killed-vfsd"
expect_fail "virtiofsd killed at start" 1 \
	"virtiofsd\[share\] \($TMP/killed-vfsd\) ended before it answered on its socket: killed by signal 9" \
	-- run --share "$TMP/share" --virtiofsd "$TMP/killed-vfsd"

# The real one: started, greeted, stopped, reaped (no /dev/kvm here).
vfsd=
for c in /usr/libexec/virtiofsd /usr/lib/qemu/virtiofsd $(command -v virtiofsd 2>/dev/null); do
	[ -x "$c" ] && { vfsd=$c; break; }
done
if [ -z "$vfsd" ]; then
	skip "a real virtiofsd: handshake" "no virtiofsd installed (qemu-system-common)"
	skip "a real virtiofsd: ro" "no virtiofsd installed"
elif have_kvm; then
	skip "a real virtiofsd: handshake" "/dev/kvm works: the run would boot (tests/boot/boot-share.t covers it)"
	skip "a real virtiofsd: ro" "/dev/kvm works"
else
	for ro in "" ",ro"; do
		"$MVM" run --share "$TMP/share$ro" --trace virtio --trace-file "$TMP/trace" \
			>"$TMP/out" 2>"$TMP/err" </dev/null
		st=$?
		left=$(ls -d "$XDG_RUNTIME_DIR"/mvm-virtiofsd.* 2>/dev/null)
		procs=$(pgrep -f "$XDG_RUNTIME_DIR/mvm-virtiofsd" || true)
		[ "$st" = 1 ] && [ "$(wc -l <"$TMP/err")" = 1 ] && grep -q '/dev/kvm' "$TMP/err" &&
			grep -q 'vhost-user <- GET_FEATURES reply' "$TMP/trace" &&
			grep -q 'vhost-user <- SET_OWNER reply' "$TMP/trace" &&
			[ -z "$left" ] && [ -z "$procs" ]
		ok $? "a real virtiofsd ($vfsd${ro:+, ro}): handshake done, then stopped, reaped, runtime dir removed" \
			"status $st; stderr:" "$(cat "$TMP/err")" "trace: $(grep vhost-user "$TMP/trace" | tr '\n' '|')" \
			"left: ${left:-none}; processes: ${procs:-none}"
	done
fi
done_testing
