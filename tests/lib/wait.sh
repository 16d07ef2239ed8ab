# wait.sh - small helpers for the shell tests that drive mvm in the
# background (tests/kvm/control.t, tests/nested/gdb-session.t,
# tests/boot/gdb-linux.t).  Sourced; POSIX sh (busybox ash in the
# nested-KVM guest) except free_port, which needs bash's /dev/tcp.

# free_port: a TCP port nothing listens on at 127.0.0.1 (0 if none found).
free_port() {
	local p
	for p in $(shuf -i 20000-60000 -n 50); do
		(: >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
	echo 0
}

# wait_for FILE PATTERN SECONDS [PID]: until grep finds PATTERN in FILE;
# 1 on timeout, or as soon as process PID (the one writing FILE) is gone.
wait_for() {
	local i=0
	while [ $i -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		[ -z "${4:-}" ] || kill -0 "$4" 2>/dev/null || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# wait_exit PID SECONDS: the exit status of PID, a child of this shell;
# one still running after SECONDS is killed first.
wait_exit() {
	local i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt $(($2 * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill "$1" 2>/dev/null
	wait "$1"
}
