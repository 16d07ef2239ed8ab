#!/usr/bin/env bash
# Command-line handling: help, version, and every bad argument gets one
# clear line on stderr and a non-zero exit, before /dev/kvm is touched.
. "$(dirname "$0")/../lib/mvm.sh"

"$MVM" version >"$TMP/v"; ok $? "mvm version exits 0"
grep -Eq '^mvm [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/v"; ok $? "version format"
"$MVM" help run >"$TMP/h"; ok $? "mvm help run exits 0"
for o in --kernel --initrd --params --mem --cpus --name --debug-exit --pvm-compat \
	 --hugepages --mem-prealloc --mem-overcommit --timing \
	 --no-host-decompress; do
	grep -q -- "$o" "$TMP/h"; ok $? "help run documents $o"
done
"$MVM" run --help | cmp -s - "$TMP/h"; ok $? "run --help is help run"
"$MVM" >/dev/null; ok $? "no command prints usage"

expect_fail "unknown command" 2 "unknown command 'frobnicate'" -- frobnicate
expect_fail "help for unknown command" 2 "help: unknown command 'x'" -- help x
expect_fail "unknown option" 2 "unknown option '--bogus'" -- run --bogus
expect_fail "missing option argument" 2 "'-k' needs an argument" -- run -k
expect_fail "stray argument" 2 "unexpected argument 'extra'" -- run extra
expect_fail "--mem not a number" 2 "--mem 'lots': not a number" -- run -m lots
expect_fail "--mem negative" 2 "--mem '-5': not a number" -- run -m -5
expect_fail "--mem too small" 2 "--mem '16': must be between 32 and" -- run -m 16
expect_fail "--mem odd" 2 "--mem '33': must be an even number" -- run -m 33
expect_fail "--mem trailing junk" 2 "--mem '64M': not a number" -- run -m 64M
expect_fail "--cpus zero" 2 "--cpus '0': must be between 1 and 64" -- run -c 0
expect_fail "--cpus too many" 2 "--cpus '65': must be between 1 and 64" -- run -c 65
expect_fail "--name with slash" 2 "--name 'a/b': must be 1 to 63 characters" -- run --name a/b
expect_fail "--trace unknown category" 2 "--trace: unknown category 'bogus' \(valid: pci, msix" -- run --trace pci,bogus
expect_fail "--timing empty marker" 2 "--timing='': the marker must be 1 to 128 bytes" -- run --timing=
expect_fail "--timing marker too long" 2 "--timing='x{129}': the marker must be 1 to 128 bytes" \
	-- run --timing="$(head -c 129 /dev/zero | tr '\0' x)"
expect_fail "--pvm-compat bad value" 2 "--pvm-compat 'maybe': must be 'on', 'off' or 'auto'" -- run --pvm-compat maybe
expect_fail "stop without a name" 2 "stop: needs one VM name" -- stop
expect_fail "stop of a VM that does not run" 1 "no VM named 'nosuchvm'" -- stop nosuchvm
expect_fail "list with an argument" 2 "list: unexpected argument 'x'" -- list x
"$MVM" list >"$TMP/list" 2>&1; ok $? "mvm list with no VM exits 0"
[ ! -s "$TMP/list" ]; ok $? "...and lists nothing"
expect_fail "initrd without kernel" 2 "--initrd '.*': needs --kernel" -- run -i /dev/null
expect_fail "kernel missing" 1 "/nonexistent/bzImage: cannot read kernel: No such file" \
	-- run -k /nonexistent/bzImage
expect_fail "kernel is a directory" 1 "$TMP: cannot read kernel: Invalid argument" \
	-- run -k "$TMP"
head -c 4096 /dev/zero >"$TMP/zero.img"
expect_fail "kernel not a bzImage" 1 "zero.img: .*not a bzImage" \
	-- run -k "$TMP/zero.img"
printf 'short' >"$TMP/short.img"
expect_fail "kernel too short" 1 "short.img: " -- run -k "$TMP/short.img"
if [ -n "${GUEST_DIR:-}" ] && [ -f "$GUEST_DIR/embedded.bzImage" ]; then
	K=$GUEST_DIR/embedded.bzImage
	expect_fail "initrd missing" 1 "/nonexistent/initrd: cannot read initrd" \
		-- run -k "$K" -i /nonexistent/initrd
	: >"$TMP/empty.cpio"
	expect_fail "initrd empty" 1 "empty.cpio: .*empty" \
		-- run -k "$K" -i "$TMP/empty.cpio"
	head -c $((40 << 20)) /dev/zero >"$TMP/big.cpio"
	expect_fail "initrd larger than RAM" 1 "big.cpio: " \
		-- run -k "$K" -i "$TMP/big.cpio" -m 32
	expect_fail "command line too long" 1 "command line.*(long|limit)" \
		-- run -k "$K" -p "$(head -c 70000 /dev/zero | tr '\0' x)"
	# RAM is allocated before /dev/kvm is opened: these fail here too.
	free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
	if [ -n "$free" ] && grep -q '^Hugepagesize: *2048 kB' /proc/meminfo &&
	   [ "$free" -lt 32 ]; then
		expect_fail "--hugepages without reserved huge pages" 1 \
			"--hugepages: the guest's 64 MiB need 32 huge pages of 2048 KiB, the host has $free free \(reserve them: sysctl vm.nr_hugepages=" \
			-- run -k "$K" -m 64 --hugepages
	else
		skip "--hugepages without reserved huge pages" \
			"the host has 32 free 2 MiB huge pages (or another size)"
	fi
	# More than the host has: refused up front, not by the OOM killer
	# in mid-boot; --mem-overcommit allows it with a warning.
	big=$(awk '/^(MemTotal|SwapTotal):/ { s += $2 } END { print int(s / 1024 / 2 + 1) * 4 }' /proc/meminfo)
	expect_fail "--mem beyond the host's memory" 1 \
		"--mem $big MiB: more than the host has available \([0-9]+ MiB: MemAvailable \+ SwapFree in /proc/meminfo\); give less, or --mem-overcommit" \
		-- run -k "$K" -m "$big"
	timeout 30 "$MVM" run -k "$K" -m "$big" --mem-overcommit --debug-exit \
		</dev/null >/dev/null 2>"$TMP/oc.err"
	grep -q -- "--mem $big MiB: more than the host has available ([0-9]* MiB), as --mem-overcommit allows" "$TMP/oc.err"
	ok $? "--mem-overcommit: the same size goes on, with a warning" "$(cat "$TMP/oc.err")"
else
	for t in "initrd missing" "initrd empty" "initrd larger than RAM" \
		 "command line too long" "--hugepages without reserved huge pages" \
		 "--mem beyond the host's memory" \
		 "--mem-overcommit: the same size goes on, with a warning"; do
		skip "$t" "embedded.bzImage not built"
	done
fi
done_testing
