#!/usr/bin/env bash
# Host-root mode's bad input (mvm run -k bzImage [-- CMD], no -i/-d):
# each refused in one line naming the input and the fix, before
# /dev/kvm is touched.  The kernel is the embedded guest's bzImage with a
# Linux release written into its header's version string.
. "$(dirname "$0")/../lib/mvm.sh"

"$MVM" help run >"$TMP/h"
for o in --modules --modprobe --verbose "-- COMMAND"; do
	grep -q -- "$o" "$TMP/h"; ok $? "help run documents $o"
done

expect_fail "-- without -k" 2 "a command after '--' needs --kernel" -- run -- sh -c true
expect_fail "--modules without -k" 2 "--modules needs --kernel" -- run --modules /tmp
expect_fail "--modprobe without -k" 2 "--modprobe needs --kernel" -- run --modprobe virtio_net
expect_fail "-- with -i" 2 "a command after '--' is for host-root mode: leave out -i and -d" \
	-- run -k /nonexistent -i /nonexistent -- true
expect_fail "-- with -d" 2 "is for host-root mode: leave out -i and -d" \
	-- run -k /nonexistent -d /nonexistent -- true
expect_fail "-- and no command" 2 "'--' needs a command after it" -- run -k /nonexistent --
expect_fail "--modprobe with a path" 2 "--modprobe 'a/b.ko': not a module name" \
	-- run -k /nonexistent --modprobe a/b.ko

if [ -z "${GUEST_DIR:-}" ] || [ ! -f "$GUEST_DIR/embedded.bzImage" ]; then
	for t in "not a Linux kernel" "--modules not a folder" "--modules not a modules tree" \
		 "--modules of another kernel" "--modprobe without modules" \
		 "unknown --modprobe module" "--share tagged mvm-root" \
		 "no virtiofsd for the host's /" "8 --share in host-root mode"; do
		skip "$t" "embedded.bzImage not built"
	done
	done_testing
	exit
fi
expect_fail "not a Linux kernel" 1 "embedded.bzImage: not a Linux kernel .*pass -i INITRD" \
	-- run -k "$GUEST_DIR/embedded.bzImage" -- true
# The same image with "6.1.0-mvmtest" as its release (boot protocol
# kernel_version at 0x20e points at the string, minus 0x200).
K=$TMP/linux.bzImage
cp "$GUEST_DIR/embedded.bzImage" "$K"
off=$(od -An -tu2 -j 526 -N 2 "$K" | tr -d ' ')
printf '6.1.0-mvmtest\0' | dd of="$K" bs=1 seek=$((off + 512)) conv=notrunc status=none
expect_fail "--modules not a folder" 1 "--modules '$TMP/none': not a folder: pass a .*modules_install" \
	-- run -k "$K" --modules "$TMP/none" -- true
mkdir -p "$TMP/empty"
expect_fail "--modules not a modules tree" 1 "--modules '$TMP/empty': not a modules tree .*modules_install INSTALL_MOD_PATH=" \
	-- run -k "$K" --modules "$TMP/empty" -- true
mkdir -p "$TMP/other/lib/modules/5.10.0-x"
: >"$TMP/other/lib/modules/5.10.0-x/modules.dep"
expect_fail "--modules of another kernel" 1 "--modules '$TMP/other': has no modules for kernel 6.1.0-mvmtest" \
	-- run -k "$K" --modules "$TMP/other" -- true
if [ -e /lib/modules/6.1.0-mvmtest ]; then
	skip "--modprobe without modules" "/lib/modules/6.1.0-mvmtest exists here"
else
	expect_fail "--modprobe without modules" 1 "--modprobe 'virtio_net': kernel 6.1.0-mvmtest has no modules in /lib/modules/6.1.0-mvmtest: pass --modules DIR" \
		-- run -k "$K" --modprobe virtio_net -- true
fi
T=$TMP/tree/lib/modules/6.1.0-mvmtest
mkdir -p "$T/kernel"
printf 'kernel/virtio.ko:\n' >"$T/modules.dep"
printf 'kernel/fs/overlayfs/overlay.ko\n' >"$T/modules.builtin"
: >"$T/kernel/virtio.ko"
expect_fail "unknown --modprobe module" 1 "--modprobe 'nosuch': kernel 6.1.0-mvmtest has no such module in .*check the name" \
	-- run -k "$K" --modules "$TMP/tree" --modprobe overlay --modprobe nosuch -- true
mkdir -p "$TMP/data"
expect_fail "--share tagged mvm-root" 1 "--share $TMP/data: tag 'mvm-root' is the host's / in host-root mode \(give the share another tag=NAME\)" \
	-- run -k "$K" --modules "$TMP/tree" --share "$TMP/data,tag=mvm-root" -- true
expect_fail "no virtiofsd for the host's /" 1 "--virtiofsd '$TMP/none': not an executable file" \
	-- run -k "$K" --modules "$TMP/tree" --virtiofsd "$TMP/none" -- true
shares=
for i in 1 2 3 4 5 6 7 8; do
	mkdir -p "$TMP/s$i"
	shares="$shares --share $TMP/s$i"
done
# shellcheck disable=SC2086
expect_fail "8 --share in host-root mode" 1 "--share: at most 7 shares in host-root mode \\(the host's / takes one\\)" \
	-- run -k "$K" --modules "$TMP/tree" $shares -- true
done_testing
