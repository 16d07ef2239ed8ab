// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket, server and client, in a private XDG_RUNTIME_DIR:
 * every command against fake VM callbacks, then everything a client can
 * get wrong (unknown commands, over-long lines, binary garbage, leaving
 * mid-request or mid-reply, not reading, too many of them), none of which
 * may stop the server answering; the name rules (in use, stale), the file
 * modes and `mvm list`.
 *
 * SIGPIPE keeps its default action here: a server send() without
 * MSG_NOSIGNAL to a client that left would kill this test.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tap.h"
#include "lib/capture.h"
#include "debug/control.h"
#include "core/util.h"

/* A guard against hanging forever on a broken server, not a timing test. */
#define GUARD_MS	20000

static char tmpdir[] = "/tmp/mvm-control-XXXXXX";
static char sockdir[256];

static atomic_int n_stop, n_pause, n_resume, n_debug, n_stat;
static atomic_bool on_main_thread;
static pthread_t main_thread;
static bool paused;
static atomic_bool big_debug;

static void note_thread(void)
{
	if (pthread_equal(pthread_self(), main_thread))
		atomic_store(&on_main_thread, true);
}

static int fake_stop(void *opaque)
{
	note_thread();
	atomic_fetch_add(&n_stop, 1);
	return 0;
}

static int fake_pause(void *opaque)
{
	note_thread();
	atomic_fetch_add(&n_pause, 1);
	if (paused)
		return -EALREADY;
	paused = true;
	return 0;
}

static int fake_resume(void *opaque)
{
	note_thread();
	atomic_fetch_add(&n_resume, 1);
	if (!paused)
		return -EINVAL;
	paused = false;
	return 0;
}

static void fake_debug(void *opaque, FILE *out)
{
	int i;

	note_thread();
	atomic_fetch_add(&n_debug, 1);
	if (atomic_load(&big_debug)) {
		/* 800 KB: more than any socket buffer holds. */
		for (i = 0; i < 10000; i++)
			fprintf(out, "%079d\n", i);
		return;
	}
	fprintf(out, "vm %s\nok\nerror: not really\nlast line", (char *)opaque);
}

static void fake_stat(void *opaque, FILE *out)
{
	note_thread();
	atomic_fetch_add(&n_stat, 1);
	fprintf(out, "exits 42\ncommits 7\n");
}

static const struct control_ops fake_ops = {
	.stop = fake_stop, .pause = fake_pause, .resume = fake_resume,
	.debug = fake_debug, .stat = fake_stat,
};

static int connect_name(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.sock", sockdir,
		     name) >= (int)sizeof(sa.sun_path))
		exit(1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * Read one reply, byte by byte so a second reply stays in the socket, up
 * to its last line ("ok", "error: ...").  *eof: the server closed the
 * connection before that.
 */
static char *read_reply(int fd, bool *eof)
{
	static char buf[8192];
	size_t len = 0, line = 0;

	*eof = false;
	buf[0] = '\0';
	while (len < sizeof(buf) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, GUARD_MS) <= 0)
			break;
		n = read(fd, buf + len, 1);
		if (n <= 0) {
			*eof = true;
			break;
		}
		buf[++len] = '\0';
		if (buf[len - 1] != '\n')
			continue;
		if (!strcmp(buf + line, "ok\n") ||
		    !strncmp(buf + line, "error: ", 7))
			break;
		line = len;
	}
	return buf;
}

/* Does the server close fd (EOF, or ECONNRESET: it left input unread)? */
static bool closed_by_server(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;
	ssize_t n;

	if (poll(&p, 1, GUARD_MS) <= 0)
		return false;
	n = read(fd, &c, 1);
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* write() without SIGPIPE: the server may have closed on us. */
static ssize_t put(int fd, const void *buf, size_t len)
{
	return send(fd, buf, len, MSG_NOSIGNAL);
}

/*
 * Send raw bytes on a new connection and return the reply; with `closed`,
 * also wait for the server to close the connection and say if it did.
 */
static char *raw(const char *name, const void *req, size_t len, bool *closed)
{
	static char out[8192];
	int fd = connect_name(name);
	bool eof;

	if (fd < 0)
		return strcpy(out, "(connect failed)");
	/* A refused client may find the socket closed: read the reason. */
	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len &&
	    errno != EPIPE && errno != ECONNRESET) {
		close(fd);
		return strcpy(out, "(write failed)");
	}
	strcpy(out, read_reply(fd, &eof));
	if (closed)
		*closed = eof || closed_by_server(fd);
	close(fd);
	return out;
}

static int ping(const char *name)
{

	return strcmp(raw(name, "ping\n", 5, NULL), "ok\n") ? -1 : 0;
}

/* control_request(), its output and its stderr. */
static int request(const char *name, const char *cmd, char **out,
		   const char **err)
{
	static char *last;
	size_t len;
	FILE *f;
	int r;

	free(last);
	f = open_memstream(&last, &len);
	*err = CAPTURED(r = control_request(name, cmd, f));
	fclose(f);
	*out = last;
	return r;
}

static void test_modes(void)
{
	char path[300];
	struct stat st;

	snprintf(path, sizeof(path), "%s/vm1.sock", sockdir);
	ok(!stat(sockdir, &st) && S_ISDIR(st.st_mode) &&
	   (st.st_mode & 07777) == 0700, "socket directory is 0700");
	ok(!lstat(path, &st) && S_ISSOCK(st.st_mode) &&
	   (st.st_mode & 07777) == 0600, "socket is a socket, mode 0600");
}

static void test_commands(void)
{
	const char *err;
	char *out;

	is_int(request("vm1", "ping", &out, &err), 0, "ping: ok");
	ok(!strcmp(out, "") && !strcmp(err, ""), "ping: no output");

	is_int(request("vm1", "stop", &out, &err), 0, "stop: ok");
	is_int(n_stop, 1, "stop: callback ran once");

	is_int(request("vm1", "pause", &out, &err), 0, "pause: ok");
	is_int(n_pause, 1, "pause: callback ran");
	is_int(request("vm1", "pause", &out, &err), -EPROTO,
	       "pause twice: error reply");
	ok(!strcmp(err, "mvm: pause vm1: Operation already in progress\n"),
	   "pause twice: the callback's error, one line");
	is_int(request("vm1", "resume", &out, &err), 0, "resume: ok");
	is_int(n_resume, 1, "resume: callback ran");

	is_int(request("vm1", "stat", &out, &err), 0, "stat: ok");
	ok(!strcmp(out, "exits 42\ncommits 7\n"),
	   "stat: the callback's text, without the final ok");

	is_int(request("vm1", "debug", &out, &err), 0, "debug: ok");
	ok(!strcmp(out, "vm test-vm\n ok\n error: not really\nlast line\n"),
	   "debug: lines that look like an end are escaped, last line ended");

	is_int(request("vm1", "frobnicate", &out, &err), -EPROTO,
	       "unknown command: error");
	ok(strstr(err, "unknown command 'frobnicate'") &&
	   strstr(err, "stop pause resume debug stat ping"),
	   "unknown command: named, with the list");
	ok(!atomic_load(&on_main_thread), "callbacks run on the control thread");
}

static void test_protocol(void)
{
	char line[600];
	bool eof;
	char *r;
	int fd;

	r = raw("vm1", "  stat \r\n", 9, NULL);
	ok(!strcmp(r, "exits 42\ncommits 7\nok\n"),
	   "blanks and CRLF around a command are ignored");
	r = raw("vm1", "\n", 1, NULL);
	ok(!strncmp(r, "error: empty request", 20), "empty line: error");

	/* Several requests on one connection, answered in order. */
	fd = connect_name("vm1");
	ok(put(fd, "ping\nstat\n", 10) == 10, "two requests in one write");
	r = read_reply(fd, &eof);
	ok(!strcmp(r, "ok\n"), "first reply");
	r = read_reply(fd, &eof);
	ok(!strcmp(r, "exits 42\ncommits 7\nok\n"), "second reply");
	close(fd);

	memset(line, 'a', sizeof(line));
	line[CONTROL_MAX_REQUEST] = '\n';
	r = raw("vm1", line, CONTROL_MAX_REQUEST + 1, NULL);
	ok(!strncmp(r, "error: unknown command 'aaaa", 28),
	   "a %d-byte request is read whole", CONTROL_MAX_REQUEST);
	memset(line, 'a', sizeof(line));
	line[sizeof(line) - 1] = '\n';
	r = raw("vm1", line, sizeof(line), &eof);
	ok(!strcmp(r, "error: request too long\n") && eof,
	   "%zu bytes: 'error: request too long', then closed", sizeof(line));
	is_int(ping("vm1"), 0, "still answers after an over-long request");
}

static void test_garbage(void)
{
	unsigned char junk[4096];
	int before = n_stop + n_pause + n_resume + n_debug + n_stat;
	unsigned int seed = 1, i;
	bool eof;
	char *r;
	int fd;

	r = raw("vm1", "\x01\xff\x00stop\n", 8, NULL);
	ok(!strncmp(r, "error: unknown command (", 24),
	   "binary line: error, not echoed");
	r = raw("vm1", "stop\x00\n", 6, NULL);
	ok(!strncmp(r, "error: unknown command", 22),
	   "a NUL inside a command does not make it 'stop'");

	for (i = 0; i < sizeof(junk); i++) {
		seed = seed * 1103515245 + 12345;
		junk[i] = (unsigned char)(seed >> 16);
	}
	fd = connect_name("vm1");
	ok(fd >= 0 && put(fd, junk, sizeof(junk)) >= 0,
	   "4 KiB of random bytes sent");
	close(fd);		/* replies unread: the server must cope */
	fd = connect_name("vm1");
	ok(fd >= 0 && put(fd, junk, 100) == 100 &&
	   shutdown(fd, SHUT_WR) == 0, "random bytes, then half-close");
	read_reply(fd, &eof);
	close(fd);

	/* Leaving mid-request: nothing runs. */
	fd = connect_name("vm1");
	ok(fd >= 0 && put(fd, "sto", 3) == 3, "partial request");
	close(fd);
	fd = connect_name("vm1");
	ok(fd >= 0 && put(fd, "stop", 4) == 4 && shutdown(fd, SHUT_WR) == 0,
	   "'stop' without newline, then EOF");
	r = read_reply(fd, &eof);
	ok(eof && !strcmp(r, ""), "no reply, connection closed");
	close(fd);

	is_int(ping("vm1"), 0, "still answers after garbage");
	is_int(n_stop + n_pause + n_resume + n_debug + n_stat, before,
	       "garbage and partial requests ran no callback");
}

static void test_mid_reply(void)
{
	char buf[16];
	int fd, stuck;
	char *r;

	atomic_store(&big_debug, true);
	/* Reads a few bytes of an 800 KB reply and leaves. */
	fd = connect_name("vm1");
	ok(fd >= 0 && put(fd, "debug\n", 6) == 6 &&
	   read(fd, buf, sizeof(buf)) > 0, "big reply started");
	close(fd);

	/* Never reads its reply: the server must not wait for it. */
	stuck = connect_name("vm1");
	ok(stuck >= 0 && put(stuck, "debug\n", 6) == 6,
	   "a client that does not read its big reply");
	is_int(ping("vm1"), 0, "another client is served meanwhile");
	r = raw("vm1", "stat\n", 5, NULL);
	ok(!strcmp(r, "exits 42\ncommits 7\nok\n"), "and gets whole replies");
	close(stuck);
	atomic_store(&big_debug, false);
	is_int(ping("vm1"), 0, "still answers after clients left mid-reply");
}

static void *pinger(void *arg)
{
	intptr_t fails = 0;
	int i;

	for (i = 0; i < 50; i++) {
		FILE *f = fopen("/dev/null", "w");

		fails += control_request("vm1", "stat", f) != 0;
		fclose(f);
	}
	return (void *)fails;
}

static void test_concurrent(void)
{
	pthread_t t[4];
	intptr_t fails = 0;
	void *res;
	bool eof;
	char *r;
	int a, b, i;

	/* Interleaved: A's request is half there when B's comes whole. */
	a = connect_name("vm1");
	b = connect_name("vm1");
	ok(a >= 0 && b >= 0 && put(a, "st", 2) == 2 &&
	   put(b, "ping\n", 5) == 5, "two clients connected");
	r = read_reply(b, &eof);
	ok(!strcmp(r, "ok\n"), "B answered while A is mid-request");
	ok(put(a, "at\n", 3) == 3, "A finishes its request");
	r = read_reply(a, &eof);
	ok(!strcmp(r, "exits 42\ncommits 7\nok\n"), "A answered");
	close(a);
	close(b);

	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, pinger, NULL);
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], &res);
		fails += (intptr_t)res;
	}
	is_int(fails, 0, "4 threads x 50 requests at once: all ok");
}

static void test_too_many(void)
{
	int fds[CONTROL_MAX_CLIENTS], i, tries;
	bool eof;
	char *r;

	/* Fill every slot; a request on each proves it was accepted. */
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		fds[i] = connect_name("vm1");
		if (fds[i] < 0 || put(fds[i], "ping\n", 5) != 5)
			break;
		read_reply(fds[i], &eof);
	}
	is_int(i, CONTROL_MAX_CLIENTS, "%d idle clients connected",
	       CONTROL_MAX_CLIENTS);
	r = raw("vm1", "ping\n", 5, &eof);
	ok(!strcmp(r, "error: too many clients\n") && eof,
	   "one more: 'error: too many clients', closed");
	while (i > 0)
		close(fds[--i]);
	/* The server sees those closes in its own time: retry, no clock. */
	for (tries = 0; tries < 100000 && ping("vm1"); tries++)
		;
	is_int(ping("vm1"), 0, "served again once they left");
}

static void make_stale(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.sock", sockdir,
		     name) >= (int)sizeof(sa.sun_path))
		exit(1);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		printf("# bind %s: %s\n", sa.sun_path, strerror(errno));
	close(fd);	/* the file stays, nobody listens: a dead VM's */
}

static void test_names(void)
{
	struct control other, stale;
	char path[300];
	const char *err;
	char *out;
	int r;

	err = CAPTURED(r = control_start(&other, "vm1", &fake_ops, "other"));
	is_int(r, -EADDRINUSE, "a live VM's name is refused");
	ok(!strcmp(err, "mvm: control socket vm1.sock in use by another VM (choose another --name)\n"),
	   "one line saying so");
	control_stop(&other);
	is_int(ping("vm1"), 0, "the live VM keeps its socket");

	make_stale("ghost");
	err = CAPTURED(r = control_start(&stale, "ghost", &fake_ops, "other"));
	is_int(r, 0, "a stale socket is replaced");
	is_int(ping("ghost"), 0, "the new VM answers on it");
	is_int(request("ghost", "debug", &out, &err), 0, "debug on it");
	ok(strstr(out, "vm other\n") != NULL, "reaches the new VM's callbacks");
	control_stop(&stale);
	snprintf(path, sizeof(path), "%s/ghost.sock", sockdir);
	ok(access(path, F_OK) < 0 && errno == ENOENT,
	   "control_stop removes the socket");
	is_int(request("ghost", "ping", &out, &err), -ENOENT,
	       "request to a stopped VM: -ENOENT");
	ok(strstr(err, "no VM named 'ghost'") != NULL, "saying so");

	make_stale("dead");
	is_int(request("dead", "ping", &out, &err), -ECONNREFUSED,
	       "request to a dead VM's socket: -ECONNREFUSED");
	ok(strstr(err, "VM 'dead' is not running") != NULL, "saying so");

	err = CAPTURED(r = control_start(&stale, "a/b", &fake_ops, "other"));
	ok(r == -EINVAL && strstr(err, "VM name 'a/b'"), "a name with '/' refused");
	control_stop(&stale);
}

static void test_list(void)
{
	struct control alpha;
	char *buf = NULL, path[300];
	size_t len = 0;
	FILE *f;
	int r, fd;

	is_int(control_start(&alpha, "alpha", &fake_ops, "alpha"), 0,
	       "a second VM");
	make_stale("zombie");
	snprintf(path, sizeof(path), "%s/notes.txt", sockdir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	f = open_memstream(&buf, &len);
	CAPTURED(r = control_list(f));
	fclose(f);
	is_int(r, 0, "control_list: 0");
	ok(buf && !strcmp(buf, "alpha\nvm1\n"),
	   "lists the live VMs, sorted, skipping the stale one");
	snprintf(path, sizeof(path), "%s/zombie.sock", sockdir);
	ok(access(path, F_OK) < 0, "the stale socket was removed");
	snprintf(path, sizeof(path), "%s/dead.sock", sockdir);
	ok(access(path, F_OK) < 0, "every stale socket was removed");
	snprintf(path, sizeof(path), "%s/notes.txt", sockdir);
	ok(access(path, F_OK) == 0, "other files are left alone");
	unlink(path);
	free(buf);
	control_stop(&alpha);
}

int main(void)
{
	struct control vm1, zero;
	char path[300];

	main_thread = pthread_self();
	if (!mkdtemp(tmpdir))
		tap_skip_all("mkdtemp failed");
	setenv("XDG_RUNTIME_DIR", tmpdir, 1);
	snprintf(sockdir, sizeof(sockdir), "%s/mvm", tmpdir);

	memset(&zero, 0, sizeof(zero));
	control_stop(&zero);
	ok(1, "control_stop on a zeroed struct is harmless");

	is_int(control_start(&vm1, "vm1", &fake_ops, "test-vm"), 0,
	       "control_start");
	test_modes();
	test_commands();
	test_protocol();
	test_garbage();
	test_mid_reply();
	test_concurrent();
	test_too_many();
	test_names();
	test_list();
	control_stop(&vm1);
	control_stop(&vm1);
	ok(1, "control_stop twice is harmless");

	snprintf(path, sizeof(path), "%s/.lock", sockdir);
	unlink(path);
	ok(rmdir(sockdir) == 0, "nothing left in the socket directory");
	rmdir(tmpdir);
	return tap_done();
}
