// SPDX-License-Identifier: GPL-2.0
/*
 * ptyrun: run a command on a new pseudo-terminal, as a user at a terminal
 * would (tests/boot/hostroot-in-guest.sh: mvm's interactive shell).
 *
 *   ptyrun WAIT INPUT LIMIT -- COMMAND [ARG...]
 *
 * Copies everything the command writes to stdout; once WAIT (e.g. a shell
 * prompt) has appeared, types INPUT (C escapes \n \r not interpreted: pass
 * real newlines).  Ends with the command's exit status, or 124 after
 * LIMIT seconds.  Static, for the nested harness's busybox guest (which
 * has no `script`).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char buf[4096], seen[8192] = "";
	size_t seen_len = 0;
	int master, st;
	bool typed = false;
	time_t end;
	pid_t pid;

	if (argc < 6 || strcmp(argv[4], "--")) {
		fprintf(stderr, "usage: ptyrun WAIT INPUT LIMIT -- COMMAND [ARG...]\n");
		return 2;
	}
	end = time(NULL) + atoi(argv[3]);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0)	/* no /dev/ptmx node, devpts mounted */
		master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master))
		return perror("ptyrun: pty"), 2;
	pid = fork();
	if (pid == 0) {
		int slave;

		setsid();
		slave = open(ptsname(master), O_RDWR);
		if (slave < 0)
			_exit(2);
		ioctl(slave, TIOCSCTTY, 0);
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		close(master);
		execvp(argv[5], argv + 5);
		_exit(127);
	}
	for (;;) {
		struct pollfd p = { .fd = master, .events = POLLIN };
		ssize_t n;

		if (time(NULL) >= end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			fprintf(stderr, "ptyrun: limit reached\n");
			return 124;
		}
		if (poll(&p, 1, 200) <= 0)
			continue;
		n = read(master, buf, sizeof(buf));
		if (n <= 0)
			break;	/* EIO: the slave side is closed */
		fwrite(buf, 1, (size_t)n, stdout);
		fflush(stdout);
		if (!typed && seen_len + (size_t)n < sizeof(seen)) {
			memcpy(seen + seen_len, buf, (size_t)n);
			seen_len += (size_t)n;
			seen[seen_len] = '\0';
			if (strstr(seen, argv[1])) {
				typed = true;
				if (write(master, argv[2], strlen(argv[2])) < 0)
					break;
			}
		}
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
