#!/usr/bin/env bash
# run-in-kvm.sh's bad inputs: each is refused at once (before any kernel
# download or QEMU start) with one line naming the input, and status 125.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
check() { # check DESCRIPTION EXPECTED-MESSAGE-PART ENV... -- ARGS...
	local desc=$1 want=$2 envs=() out st
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	out=$(env ${envs[@]+"${envs[@]}"} "$here/run-in-kvm.sh" "$@" 2>&1 >/dev/null)
	st=$?
	[ $st = 125 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] &&
		[[ $out == "run-in-kvm: "*"$want"* ]]
	ok $? "$desc" "status $st, stderr '$out'"
}
check "no COMMAND" "no COMMAND given" -- /dev/null
check "--timeout not a number" "bad --timeout 'soon'" -- --timeout soon -- true
check "--serial-tcp not a port" "bad --serial-tcp 'x'" -- --serial-tcp x -- true
check "MVM_NESTED_TCG_THREAD neither multi nor single" \
	"bad MVM_NESTED_TCG_THREAD 'bogus' (multi or single)" \
	MVM_NESTED_TCG_THREAD=bogus -- -- true
check "MVM_NESTED_MONITOR in a folder that does not exist" \
	"bad MVM_NESTED_MONITOR '/nonexistent/m.sock'" \
	MVM_NESTED_MONITOR=/nonexistent/m.sock -- -- true
check "MVM_NESTED_MONITOR with a comma (QEMU option syntax)" \
	"bad MVM_NESTED_MONITOR '/tmp/a,b'" MVM_NESTED_MONITOR=/tmp/a,b -- -- true
check "a payload file that does not exist" \
	"no such file or directory: /nonexistent/x" -- /nonexistent/x -- true
done_testing
