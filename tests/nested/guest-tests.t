#!/usr/bin/env bash
# Tests that need a VM, on hosts without /dev/kvm: the static build of
# every tests/guest/test_* program, and every tests/kvm/*.t (POSIX sh
# tests of the mvm command, with the static mvm), run in ONE boot of a
# QEMU-TCG Linux with nested KVM (tests/nested/run-in-kvm.sh).  Each inner
# TAP program becomes one test point here, passed when it exits 0 with
# every point of its plan ok; its own lines are shown as diagnostics.
# Where /dev/kvm works the same programs run directly instead (make
# check), so this is skipped.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/nested.sh"
static=${STATIC_BUILD:-$top/build-static}

kvm_mode
[ $mode = nested ] || skip_all "/dev/kvm works here: guest tests ran directly"
nested_need "$static/mvm"
progs=$(cd "$static/tests/guest" 2>/dev/null && ls test_* 2>/dev/null |
	grep -v '\.d$')
[ -n "$progs" ] || skip_all "no static guest tests in $static (make STATIC=1 tests)"
shtests=$(cd "$top/tests" && ls kvm/*.t)

# The payload mirrors tests/ where the shell tests look: p/kvm/*.t find
# p/lib/*.sh, and $MVM and $GUEST_DIR are p/.
payload=$(mktemp -d)
trap 'rm -rf "$payload"' EXIT
mkdir "$payload/p"
cp "$static/mvm" "$payload/p/"
for t in $progs; do cp "$static/tests/guest/$t" "$payload/p/"; done
guest_dir=$top/build/guest
ls "$guest_dir/"*.bzImage >/dev/null 2>&1 || guest_dir=${GUEST_DIR:-/nonexistent}
cp "$guest_dir/"*.bzImage "$guest_dir/"*.bin "$payload/p/"
mkdir "$payload/p/lib"
cp -r "$top/tests/kvm" "$payload/p/"
cp "$top/tests/lib/"*.sh "$payload/p/lib/"

# One boot runs every program; markers split the output per program.  A
# shell test's stderr (its failures' diagnostics) joins its stdout.
# This Linux is thrown away: reserve the huge pages kvm/guest-ram.t's
# --hugepages points need (a host of one's own is never changed).
script='cd p; export GUEST_DIR=$PWD MVM=$PWD/mvm
echo 64 >/proc/sys/vm/nr_hugepages
for t in test_* kvm/*.t; do
echo "@@begin $t"
case $t in *.t) sh "$t" 2>&1 ;; *) "./$t" ;; esac
echo "@@end $t $?"; done'
out="$payload/out"
# Every test program creates and destroys VMs, and each time the L1
# kernel repatches its own code (KVM's preempt-notifier static key).
# QEMU's multi-threaded TCG then sometimes runs a stale int3 forever and
# the whole nested guest stops (tests/nested/README.md): so one TCG
# thread here, which these exit-bound tests do not mind (~15 s a run).
# A harness timeout still means a stall: retry once, and say so.
in_time() { [ "$nested_status" -ne 124 ]; }
MVM_NESTED_TCG_THREAD=${MVM_NESTED_TCG_THREAD:-single} \
nested_run in_time "$out" "$payload/err" \
	--timeout "${MVM_NESTED_TIMEOUT:-300}" "$payload/p" -- sh -c "$script"
st=$nested_status
# The harness's warnings (e.g. kvm-hold could not be built) on stderr.
grep '^run-in-kvm: warning' "$payload/err" >&2
if [ $st -ge 124 ] && ! grep -q '^@@begin' "$out"; then
	skip_all "nested KVM unavailable: $(tail -n 1 "$payload/err")"
fi

for t in $progs $shtests; do
	body=$(sed -n "\\|^@@begin $t\$|,\\|^@@end $t |p" "$out")
	end=$(printf '%s\n' "$body" | sed -n "s|^@@end $t ||p")
	plan=$(printf '%s\n' "$body" | sed -n 's/^1\.\.\([0-9]*\).*/\1/p')
	oks=$(printf '%s\n' "$body" | grep -c '^ok ')
	bad=$(printf '%s\n' "$body" | grep -c '^not ok ')
	[ "$end" = 0 ] && [ -n "$plan" ] && [ "$plan" != 0 ] && [ "$bad" = 0 ] &&
		[ "$oks" = "$plan" ]
	ok $? "$t under nested KVM ($oks/${plan:-no plan} ok, status ${end:-none})" \
		"$(printf '%s\n' "$body" | grep -v '^@@')"
done
if [ $st -ne 0 ]; then
	echo "# run-in-kvm exit status $st" >&2
	tail -n 5 "$payload/err" | diag >&2
fi
done_testing
