#!/bin/sh
# Guest RAM backing on a real KVM (core/guest_mem.c), read back through
# `mvm stat`'s "guest RAM" line (from /proc/self/smaps): without options
# RAM is allocated as the guest touches it; --mem-prealloc makes all of it
# resident at start (in transparent huge pages where THP is on, which the
# aligned mapping lets KVM use); --hugepages puts it on hugetlbfs pages.
# The guest is g_spin (spins forever, touches almost nothing).  The
# --hugepages points need 32 free 2 MiB huge pages: tests/nested/
# guest-tests.t reserves them in its throwaway Linux; a host that has
# none skips them (this test never changes the host's settings).
. "$(dirname "$0")/../lib/mvm.sh"
. "$(dirname "$0")/../lib/wait.sh"
need_kvm
need_guest g_spin.bzImage

# stat_of NAME ARGS...: run g_spin with 64 MiB and ARGS, print the
# numbers of its "guest RAM" stat line (MiB, resident, huge), stop it.
stat_of() {
	local name=$1 vm i
	shift
	"$MVM" run -k "$GUEST_DIR/g_spin.bzImage" -m 64 --name "$name" "$@" \
		</dev/null >/dev/null 2>"$TMP/$name.err" &
	vm=$!
	kill_at_exit $vm
	i=0
	while [ $i -lt 300 ] && ! "$MVM" list | grep -qx "$name"; do
		kill -0 $vm 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	"$MVM" stat "$name" >"$TMP/$name.stat" 2>&1
	"$MVM" stop "$name" >/dev/null 2>&1
	wait_exit $vm 30 >/dev/null
	sed -n 's/^guest RAM MiB \([0-9]*\) resident MiB \([0-9]*\) huge-page backed MiB \([0-9]*\) (\(.*\))$/\1 \2 \3 \4/p' \
		"$TMP/$name.stat"
}

set -- $(stat_of ram-lazy)
[ "${1:-}" = 64 ]
ok $? "mvm stat reports 64 MiB of guest RAM" "got '$*'" \
	"$(cat "$TMP/ram-lazy.err" "$TMP/ram-lazy.stat" 2>/dev/null)"
[ -n "${2:-}" ] && [ "$2" -lt 64 ]
ok $? "without --mem-prealloc untouched RAM is not resident" "resident ${2:-?} MiB"

if uname -r | awk -F. '{ exit !($1 > 5 || ($1 == 5 && $2 >= 14)) }'; then
	grep -Eq '^vcpu0 kvm .*exits [0-9]+' "$TMP/ram-lazy.stat"
	ok $? "mvm stat: KVM's own counters of vCPU 0 (binary stats)" \
		"$(grep '^vcpu0' "$TMP/ram-lazy.stat")"
else
	skip "mvm stat: KVM's own counters of vCPU 0 (binary stats)" \
		"kernel before 5.14"
fi

set -- $(stat_of ram-pre --mem-prealloc)
[ "${2:-}" = 64 ]
ok $? "--mem-prealloc: all 64 MiB resident at start" "got '$*'" \
	"$(cat "$TMP/ram-pre.err" 2>/dev/null)"
thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)
case $thp in
*"[never]"*|"")
	skip "--mem-prealloc: transparent huge pages back it" "THP is off here" ;;
*)
	# Half at least: a fragmented host may not have 32 free 2 MiB blocks.
	[ -n "${3:-}" ] && [ "$3" -ge 32 ]
	ok $? "--mem-prealloc: transparent huge pages back it ($3 MiB)" \
		"huge ${3:-?} MiB of 64, THP '$thp'" ;;
esac

free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
if grep -q '^Hugepagesize: *2048 kB' /proc/meminfo && [ "${free:-0}" -ge 32 ]; then
	set -- $(stat_of ram-huge --hugepages --mem-prealloc)
	[ "${3:-}" = 64 ] && [ "${4:-}" = hugetlbfs ]
	ok $? "--hugepages: all 64 MiB on hugetlbfs pages" "got '$*'" \
		"$(cat "$TMP/ram-huge.err" 2>/dev/null)"
	after=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
	[ "$after" = "$free" ]
	ok $? "--hugepages: the huge pages are given back at exit" \
		"free before $free, after $after"
else
	skip "--hugepages: all 64 MiB on hugetlbfs pages" \
		"fewer than 32 free 2 MiB huge pages (sysctl vm.nr_hugepages)"
	skip "--hugepages: the huge pages are given back at exit" \
		"fewer than 32 free 2 MiB huge pages"
fi
done_testing
