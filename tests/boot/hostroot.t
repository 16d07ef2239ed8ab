#!/usr/bin/env bash
# Host-root mode on the Debian cloud kernel: `mvm run -k vmlinuz --modules
# TREE -- CMD` with mvm's generated initramfs and init (hostroot/).  Four
# boots (tests/boot/hostroot-in-guest.sh), inside the nested-KVM harness
# without /dev/kvm (one L1 boot), directly with it:
#   A: sh -c '...; exit 7' ends mvm with 7; stdout (text, the cwd, an
#      environment variable, a 1 MiB random blob) and stderr (\r, \001)
#      arrive separately and byte-exact; the modules of the tree (virtio,
#      virtiofs, overlay, pvpanic_pci, --modprobe virtio-rng) are loaded
#   B: --verbose shows the kernel log and the init's steps on stderr; a
#      command that does not exist ends mvm with 127 and says so
#   C: no command, a script piped in: /bin/sh reads it (mvm carries it in
#      the initramfs) and its exit status ends mvm
#   D: at a terminal (tests/boot/ptyrun.c, built static here): an
#      interactive shell on hvc0 with job control, typed input, exit 5
#   E: the host's own / over virtio-fs (virtiofsd carried in when
#      nested): a file read matches the host's, a write under a writable
#      --share reaches the host, a write elsewhere stays in the guest
# A-D run on the initramfs plus a folder (mvm's test seam).
#
# Environment: as boot-test.t (MVM, STATIC_MVM, MVM_BOOT_TEST_MODE,
# MVM_NESTED_CACHE, MVM_BOOT_KERNEL_PKG, MVM_NO_NESTED ...).
set -u
. "$(dirname "$0")/lib.sh"
NAMES=(
	"sh -c 'exit 7' ends mvm with 7"
	"stdout byte-exact: text, the host's cwd, the environment, 1 MiB binary"
	"stderr byte-exact and separate (no kernel messages)"
	"modules from --modules loaded (virtio, virtiofs, overlay, pvpanic_pci, --modprobe)"
	"a missing command ends mvm with 127"
	"...and the init names it on stderr"
	"--verbose: kernel log and the init's steps on stderr"
	"--verbose: stdout stays the command's (empty)"
	"no command, piped stdin: the shell runs it and its exit ends mvm (3)"
	"...its stdout exactly the command's output (no echo)"
	"at a terminal: the shell is interactive, exit 5 ends mvm with 5"
	"...what is typed runs on hvc0 (output seen)"
	"...with job control (hvc0 is its controlling terminal)"
	"host's / over virtio-fs: the command runs there, its status (4) ends mvm"
	"...a file read from the host's / matches, and the cwd is the host's"
	"...a write under a writable --share reaches the host"
	"...a write elsewhere stays in the guest's overlay"
)
CHECKS=(exit7 stdout stderr modules notfound127 notfoundmsg verbose verbose-stdout
	shell-status shell-stdout tty-status tty-output tty-jobctl
	root-status root-read share-write root-overlay)
plan ${#NAMES[@]}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kvm_mode
all_skip() { local i; for i in "${!NAMES[@]}"; do skip "${NAMES[$i]}" "$1"; done; exit 0; }
if [ "${MVM_BOOT_TEST_MODE:-auto}" = direct ] && [ "$mode" = nested ]; then
	all_skip "MVM_BOOT_TEST_MODE=direct but $why"
fi
if [ "$mode" = nested ]; then
	[ "${MVM_NO_NESTED:-}" != 1 ] || all_skip "$why, and MVM_NO_NESTED=1"
	[ -x "$static_mvm" ] || all_skip "$why, and no $static_mvm (make STATIC=1 tests)"
fi
mkdir -p "$work/bt"
if ! "$here/prepare.sh" "$work/bt" hostroot >"$work/vars" 2>"$work/prep.err"; then
	all_skip "$(tail -n 1 "$work/prep.err")"
fi
eval "$(cat "$work/vars")"
echo "# kernel $KPKG $KVER ($KREL), $why"
rm -f "$work/bt/initramfs.cpio.gz"	# mvm makes its own
cp "$here/hostroot-in-guest.sh" "$work/bt/"
${CC:-cc} -std=gnu11 -O2 -Wall -Wextra -static -o "$work/bt/ptyrun" "$here/ptyrun.c" 2>"$work/cc.err" ||
	echo "# cannot build ptyrun (static): $(tail -n 1 "$work/cc.err"); its points fail"
t0=$(date +%s.%N)
# Nested: virtiofsd comes with its libraries (boot E).
carry_vfsd() { vfsd_find; vfsd_carry "$work/bt/vfsd"; }
if [ "$mode" = direct ]; then lim=300; else lim=400; fi
run_in_guest hostroot-in-guest.sh $lim carry_vfsd
echo "# ran in $(elapsed "$t0") s ($mode)"
tr -d '\r' <"$work/out" >"$work/out.txt"
sed -n 's/^@@modules/# modules the tree has as modules:/p' "$work/out.txt"
check_points "$work/out.txt" "$work/err"
done_testing
