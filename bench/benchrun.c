// SPDX-License-Identifier: GPL-2.0
/*
 * benchrun: run a command N times and report its whole-process wall time
 * and peak RSS, as medians with min and max.  Static-linkable (the
 * nested-KVM guest has no libc), no timed assertions: it prints numbers.
 *
 *   benchrun [options] -- COMMAND [ARGS...]
 *     -n N       measured runs (default 20)
 *     -w N       warm-up runs first, not counted (default 2)
 *     -l LABEL   name printed on the result line (default: COMMAND)
 *     -e STATUS  exit status every run must have (default 0)
 *     -f         also time the first byte COMMAND writes to stdout (a pipe)
 *     -q         QMP: COMMAND's fd 3 is one end of a socketpair; benchrun
 *                sends qmp_capabilities and quit on the other end at once
 *                and reads the replies until QEMU closes it
 *     -t SECS    kill a run that takes longer (default 60); it is not
 *                counted, and reported as killed=K on the result line
 *                (nested KVM under TCG has been seen to hang a run)
 *     -v         print every run
 *
 * Wall time runs from just before fork() to wait4() returning, so it
 * includes fork+exec, everything the program does, and the kernel's
 * teardown of the process.  Peak RSS is wait4()'s ru_maxrss.  With -f,
 * "first" is the time from just before fork() to the first byte arriving
 * on the pipe.  Without -f or -q, COMMAND's stdout and stderr go to
 * /dev/null; its stdin is always /dev/null.
 *
 * Output, one line:
 *   LABEL n=N wall_med=.. wall_min=.. wall_max=.. rss_med=.. rss_max=..
 *         [first_med=.. first_min=.. first_max=..] [killed=K]   (ms, MiB)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS	1000

static volatile pid_t child;

/* -t: SIGALRM kills the run; read() and wait4() then see EOF and status. */
static void on_alarm(int sig)
{
	(void)sig;
	if (child > 0)
		kill(child, SIGKILL);
}

static const char qmp_cmds[] =
	"{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"quit\"}\n";

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of v[0..n) (sorts v). */
static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct sample {
	double wall, first, rss;
};

/* 0: a sample, 1: killed by -t, -1: failed. */
static int run_once(char **cmd, int want_first, int qmp, int want_status,
		    unsigned int limit, struct sample *s)
{
	int out[2] = { -1, -1 }, sv[2] = { -1, -1 };
	int status, got_first = 0;
	struct rusage ru;
	double t0;
	pid_t pid;

	if (want_first && pipe2(out, O_CLOEXEC) < 0)
		return perror("benchrun: pipe"), -1;
	if (qmp && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return perror("benchrun: socketpair"), -1;
	s->first = -1;
	t0 = now_ms();
	pid = fork();
	if (pid < 0)
		return perror("benchrun: fork"), -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(want_first ? out[1] : null, 1);
		if (!want_first && !qmp)
			dup2(null, 2);
		if (qmp)
			dup2(sv[1], 3);	/* dup2 clears O_CLOEXEC */
		execvp(cmd[0], cmd);
		fprintf(stderr, "benchrun: %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	child = pid;
	alarm(limit);
	if (want_first) {
		char buf[4096];
		ssize_t n;

		close(out[1]);
		while ((n = read(out[0], buf, sizeof(buf))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				break;
			if (!got_first) {
				s->first = now_ms() - t0;
				got_first = 1;
			}
		}
		close(out[0]);
	}
	if (qmp) {
		char buf[4096];

		close(sv[1]);
		if (write(sv[0], qmp_cmds, sizeof(qmp_cmds) - 1) < 0)
			perror("benchrun: QMP write");
		while (read(sv[0], buf, sizeof(buf)) > 0)
			;
		close(sv[0]);
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return perror("benchrun: wait4"), -1;
	s->wall = now_ms() - t0;
	alarm(0);
	child = 0;
	s->rss = ru.ru_maxrss / 1024.0;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL &&
	    s->wall >= limit * 1e3) {
		fprintf(stderr, "benchrun: %s: run killed after %u s (-t)\n",
			cmd[0], limit);
		return 1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != want_status) {
		if (WIFEXITED(status))
			fprintf(stderr, "benchrun: %s exited with status %d, expected %d\n",
				cmd[0], WEXITSTATUS(status), want_status);
		else
			fprintf(stderr, "benchrun: %s killed by signal %d\n",
				cmd[0], WTERMSIG(status));
		return -1;
	}
	if (want_first && !got_first) {
		fprintf(stderr, "benchrun: %s wrote nothing to stdout\n",
			cmd[0]);
		return -1;
	}
	return 0;
}

static void usage(void)
{
	fputs("usage: benchrun [-n N] [-w N] [-l LABEL] [-e STATUS] [-t SECS] [-f] [-q] [-v] -- COMMAND [ARGS...]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static double wall[MAX_RUNS], rss[MAX_RUNS], first[MAX_RUNS];
	int n = 20, warm = 2, want_status = 0, want_first = 0, qmp = 0;
	int verbose = 0, c, i, r, killed = 0;
	unsigned int limit = 60;
	struct sigaction sa = { .sa_handler = on_alarm };
	const char *label = NULL;
	double wmin, wmax, rmax, fmin = 0, fmax = 0;

	while ((c = getopt(argc, argv, "+n:w:l:e:t:fqv")) != -1) {
		switch (c) {
		case 'n': n = atoi(optarg); break;
		case 'w': warm = atoi(optarg); break;
		case 'l': label = optarg; break;
		case 'e': want_status = atoi(optarg); break;
		case 't': limit = (unsigned int)atoi(optarg); break;
		case 'f': want_first = 1; break;
		case 'q': qmp = 1; break;
		case 'v': verbose = 1; break;
		default: usage();
		}
	}
	if (optind >= argc || n < 1 || n > MAX_RUNS || warm < 0)
		usage();
	if (!label)
		label = argv[optind];
	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: reads see EINTR */
	signal(SIGPIPE, SIG_IGN);	/* QMP: QEMU may close first */

	for (i = -warm; i < n; i++) {
		struct sample s;

		if (verbose)
			fprintf(stderr, "%s run %d: starting\n", label, i);
		r = run_once(argv + optind, want_first, qmp, want_status,
			     limit, &s);
		if (r < 0)
			return 1;
		if (r > 0) {
			if (++killed > n)
				return 1;
			i--;	/* run it again */
			continue;
		}
		if (verbose)
			fprintf(stderr, "%s run %d%s: wall %.2f ms, rss %.1f MiB, first %.2f ms\n",
				label, i, i < 0 ? " (warm-up)" : "", s.wall,
				s.rss, s.first);
		if (i < 0)
			continue;
		wall[i] = s.wall;
		rss[i] = s.rss;
		first[i] = s.first;
	}
	wmin = wmax = wall[0];
	rmax = rss[0];
	for (i = 0; i < n; i++) {
		wmin = wall[i] < wmin ? wall[i] : wmin;
		wmax = wall[i] > wmax ? wall[i] : wmax;
		rmax = rss[i] > rmax ? rss[i] : rmax;
	}
	printf("%s n=%d wall_med=%.2f wall_min=%.2f wall_max=%.2f rss_med=%.1f rss_max=%.1f",
	       label, n, median(wall, n), wmin, wmax, median(rss, n), rmax);
	if (want_first) {
		fmin = fmax = first[0];
		for (i = 0; i < n; i++) {
			fmin = first[i] < fmin ? first[i] : fmin;
			fmax = first[i] > fmax ? first[i] : fmax;
		}
		printf(" first_med=%.2f first_min=%.2f first_max=%.2f",
		       median(first, n), fmin, fmax);
	}
	if (killed)
		printf(" killed=%d", killed);
	printf("\n");
	return 0;
}
