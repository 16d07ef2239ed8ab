// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket's server: one thread polling the listening socket,
 * a wake-up eventfd and up to CONTROL_MAX_CLIENTS clients.  Every client
 * fd is non-blocking, its input buffer is one request long and a reply is
 * sent before the next request is read, so a client that sends garbage,
 * never reads or vanishes costs a slot on this thread and nothing else.
 * Protocol: include/debug/control.h.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "debug/control.h"
#include "core/util.h"

#define COMMANDS	"stop pause resume debug stat ping"

static void client_close(struct control_client *cl)
{
	if (cl->fd >= 0)
		close(cl->fd);
	free(cl->out);
	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
}

/*
 * Copy a callback's text into the reply: at most CONTROL_MAX_REPLY bytes,
 * every line newline-terminated, and no line that could pass for the end
 * of the reply ("ok", "error: ...") - those get a leading space.
 */
static void put_body(FILE *f, const char *text, size_t len)
{
	size_t off = 0;

	if (len > CONTROL_MAX_REPLY)
		len = CONTROL_MAX_REPLY;
	while (off < len) {
		const char *line = text + off;
		const char *nl = memchr(line, '\n', len - off);
		size_t l = nl ? (size_t)(nl - line) : len - off;

		if ((l == 2 && !memcmp(line, "ok", 2)) ||
		    (l >= 6 && !memcmp(line, "error:", 6)))
			fputc(' ', f);
		fwrite(line, 1, l, f);
		fputc('\n', f);
		off += l + 1;
	}
}

static void run_report(void (*fn)(void *, FILE *), void *opaque, FILE *f)
{
	char *text = NULL;
	size_t len = 0;
	FILE *body = open_memstream(&text, &len);

	if (!body) {
		fputs("error: out of memory\n", f);
		return;
	}
	fn(opaque, body);
	if (fclose(body)) {
		free(text);
		fputs("error: out of memory\n", f);
		return;
	}
	put_body(f, text, len);
	if (len > CONTROL_MAX_REPLY)
		fputs("(output cut)\n", f);
	free(text);
	fputs("ok\n", f);
}

static void run_action(int (*fn)(void *), void *opaque, FILE *f)
{
	int err = fn(opaque);

	if (err)
		fprintf(f, "error: %s\n", strerror(err < 0 ? -err : err));
	else
		fputs("ok\n", f);
}

static bool printable(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* One request line (no newline, may hold any byte) -> the whole reply. */
static void run_command(struct control *c, char *line, size_t len, FILE *f)
{
	const struct control_ops *ops = c->ops;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' ||
		       line[len - 1] == '\t'))
		len--;
	while (len && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	if (!len) {
		fputs("error: empty request (commands: " COMMANDS ")\n", f);
		return;
	}
	if (!printable(line, len)) {
		fputs("error: unknown command (commands: " COMMANDS ")\n", f);
		return;
	}
	line[len] = '\0';
	if (!strcmp(line, "ping")) {
		fputs("ok\n", f);
	} else if (!strcmp(line, "stop") && ops->stop) {
		run_action(ops->stop, c->opaque, f);
	} else if (!strcmp(line, "pause") && ops->pause) {
		run_action(ops->pause, c->opaque, f);
	} else if (!strcmp(line, "resume") && ops->resume) {
		run_action(ops->resume, c->opaque, f);
	} else if (!strcmp(line, "debug") && ops->debug) {
		run_report(ops->debug, c->opaque, f);
	} else if (!strcmp(line, "stat") && ops->stat) {
		run_report(ops->stat, c->opaque, f);
	} else if (!strcmp(line, "stop") || !strcmp(line, "pause") ||
		   !strcmp(line, "resume") || !strcmp(line, "debug") ||
		   !strcmp(line, "stat")) {
		fprintf(f, "error: %s not supported by this VM\n", line);
	} else {
		fprintf(f, "error: unknown command '%s' (commands: " COMMANDS ")\n",
			line);
	}
}

static bool set_reply(struct control_client *cl, const char *text)
{
	cl->out = strdup(text);
	cl->out_len = cl->out ? strlen(text) : 0;
	cl->out_off = 0;
	return cl->out != NULL;
}

/* Build the reply to one line; false if the client must go. */
static bool answer(struct control *c, struct control_client *cl, char *line,
		   size_t len)
{
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);

	if (!f)
		return set_reply(cl, "error: out of memory\n");
	run_command(c, line, len, f);
	if (fclose(f)) {
		free(buf);
		return set_reply(cl, "error: out of memory\n");
	}
	cl->out = buf;
	cl->out_len = blen;
	cl->out_off = 0;
	return true;
}

/* Send what the socket takes now; false if the client must go. */
static bool flush(struct control_client *cl)
{
	while (cl->out_off < cl->out_len) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off,
				 cl->out_len - cl->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0)
			return false;	/* EPIPE, ECONNRESET: it left */
		cl->out_off += (size_t)n;
		cl->last_ns = monotonic_ns();
	}
	free(cl->out);
	cl->out = NULL;
	cl->out_len = cl->out_off = 0;
	return !cl->close_after;
}

/*
 * Answer the requests buffered so far, one at a time, as long as each
 * reply goes out at once.  Returns false if the client must go.
 */
static bool process(struct control *c, struct control_client *cl)
{
	while (!cl->out) {
		char *nl = memchr(cl->in, '\n', cl->in_len);

		if (nl) {
			size_t l = (size_t)(nl - cl->in), rest;

			if (!answer(c, cl, cl->in, l))
				return false;
			rest = cl->in_len - l - 1;
			memmove(cl->in, nl + 1, rest);
			cl->in_len = rest;
		} else if (cl->in_len == sizeof(cl->in)) {
			cl->close_after = true;
			cl->in_len = 0;
			if (!set_reply(cl, "error: request too long\n"))
				return false;
		} else {
			/* A partial request at EOF is dropped unexecuted. */
			return !cl->eof;
		}
		if (!flush(cl))
			return false;
	}
	return true;
}

static void client_readable(struct control *c, struct control_client *cl)
{
	ssize_t n = recv(cl->fd, cl->in + cl->in_len,
			 sizeof(cl->in) - cl->in_len, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		      errno == EINTR))
		return;
	if (n < 0) {
		client_close(cl);
		return;
	}
	if (n == 0)
		cl->eof = true;
	cl->in_len += (size_t)n;
	cl->last_ns = monotonic_ns();
	if (!process(c, cl))
		client_close(cl);
}

static void accept_clients(struct control *c)
{
	for (;;) {
		struct control_client *cl = NULL;
		unsigned int i;
		int fd;

		fd = accept4(c->listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				pr_warn_ratelimited("control socket %s: accept failed: %s",
						    c->path, strerror(errno));
			return;
		}
		for (i = 0; i < CONTROL_MAX_CLIENTS && !cl; i++)
			if (c->clients[i].fd < 0)
				cl = &c->clients[i];
		if (!cl) {
			static const char busy[] = "error: too many clients\n";

			if (send(fd, busy, sizeof(busy) - 1,
				 MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* nothing more to do for it */
			}
			close(fd);
			continue;
		}
		cl->fd = fd;
		cl->last_ns = monotonic_ns();
	}
}

/* Milliseconds until the next idle client is due, or -1. */
static int next_timeout(struct control *c, uint64_t now)
{
	uint64_t idle = (uint64_t)c->idle_ms * 1000000ULL, best = UINT64_MAX;
	unsigned int i;

	for (i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct control_client *cl = &c->clients[i];
		uint64_t due;

		if (cl->fd < 0)
			continue;
		due = cl->last_ns + idle;
		if (due <= now) {
			client_close(cl);
			continue;
		}
		best = MIN(best, due - now);
	}
	if (best == UINT64_MAX)
		return -1;
	return (int)MIN((best + 999999) / 1000000, (uint64_t)INT32_MAX);
}

static void *control_thread(void *arg)
{
	struct control *c = arg;
	unsigned int i;

	for (;;) {
		struct pollfd p[2 + CONTROL_MAX_CLIENTS];
		struct control_client *who[CONTROL_MAX_CLIENTS];
		unsigned int n = 2;
		int timeout = next_timeout(c, monotonic_ns());

		p[0] = (struct pollfd){ .fd = c->wake_fd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = c->listen_fd, .events = POLLIN };
		for (i = 0; i < CONTROL_MAX_CLIENTS; i++) {
			struct control_client *cl = &c->clients[i];

			if (cl->fd < 0)
				continue;
			who[n - 2] = cl;
			p[n++] = (struct pollfd){
				.fd = cl->fd,
				.events = cl->out ? POLLOUT : POLLIN,
			};
		}
		if (poll(p, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			pr_errno(errno, "control socket %s: poll failed",
				 c->path);
			break;
		}
		if (p[0].revents)
			break;
		for (i = 2; i < n; i++) {
			struct control_client *cl = who[i - 2];

			if (!p[i].revents)
				continue;
			if (cl->out) {
				if (!flush(cl) || !process(c, cl))
					client_close(cl);
			} else {
				client_readable(c, cl);
			}
		}
		if (p[1].revents)
			accept_clients(c);
	}
	/* Last chance for replies already built (the "ok" to a stop). */
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		if (c->clients[i].out)
			flush(&c->clients[i]);
		client_close(&c->clients[i]);
	}
	return NULL;
}

/* DIR exists, is a directory (not a link) of ours, and is 0700. */
static int make_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		int err = errno;

		pr_errno(err, "control socket directory %s", dir);
		return -err;
	}
	if (lstat(dir, &st) < 0) {
		int err = errno;

		pr_errno(err, "control socket directory %s", dir);
		return -err;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		pr_err("control socket directory %s: not a directory owned by uid %u",
		       dir, (unsigned int)geteuid());
		return -EPERM;
	}
	if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700) < 0) {
		int err = errno;

		pr_errno(err, "control socket directory %s: chmod 0700", dir);
		return -err;
	}
	return 0;
}

/* Under the directory lock: claim c->path, or say who has it. */
static int bind_socket(struct control *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, err;

	if (!lstat(c->path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			pr_err("control socket %s: exists and is not a socket",
			       c->path);
			return -EEXIST;
		}
		err = control_probe(c->path);
		if (err == 1) {
			pr_err("control socket %s.sock in use by another VM (choose another --name)",
			       c->name);
			return -EADDRINUSE;
		}
		/* Stale: its VM died without removing it. */
		if (unlink(c->path) < 0 && errno != ENOENT) {
			err = errno;
			pr_errno(err, "control socket %s: cannot remove the stale socket",
				 c->path);
			return -err;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err = errno;
		pr_errno(err, "control socket %s", c->path);
		return -err;
	}
	strcpy(sa.sun_path, c->path);
	/* The directory is 0700, so the socket is private before chmod. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(c->path, 0600) < 0 || listen(fd, 16) < 0 ||
	    stat(c->path, &st) < 0) {
		err = errno;
		pr_errno(err, "control socket %s", c->path);
		unlink(c->path);
		close(fd);
		return -err;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->listen_fd = fd;
	return 0;
}

int control_start(struct control *c, const char *name,
		  const struct control_ops *ops, void *opaque)
{
	char dir[sizeof(c->path)];
	sigset_t all, old;
	unsigned int i;
	int err, lock;

	memset(c, 0, sizeof(*c));
	c->listen_fd = c->wake_fd = -1;
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		c->clients[i].fd = -1;
	c->ops = ops;
	c->opaque = opaque;
	c->idle_ms = CONTROL_IDLE_MS;
	err = control_socket_path(name, c->path, sizeof(c->path));
	if (err)
		return err;
	snprintf(c->name, sizeof(c->name), "%s", name);
	err = control_dir(dir, sizeof(dir));
	if (!err)
		err = make_dir(dir);
	if (err)
		return err;
	lock = control_lock(dir);
	if (lock < 0) {
		pr_errno(-lock, "control socket directory %s: lock", dir);
		return lock;
	}
	err = bind_socket(c);
	close(lock);
	if (err)
		return err;
	c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->wake_fd < 0) {
		err = -errno;
		pr_errno(-err, "control socket: eventfd");
		goto fail;
	}
	/* Signals are the main thread's (signalfd): block all of them here. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&c->thread, NULL, control_thread, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pr_errno(-err, "control socket: cannot create its thread");
		goto fail;
	}
	pthread_setname_np(c->thread, "mvm-control");
	c->running = true;
	return 0;
fail:
	control_stop(c);
	return err;
}

void control_stop(struct control *c)
{
	struct stat st;
	unsigned int i;

	if (c->running) {
		uint64_t one = 1;

		if (write(c->wake_fd, &one, sizeof(one)) != sizeof(one))
			pr_errno(errno, "control socket: cannot wake its thread");
		pthread_join(c->thread, NULL);
		c->running = false;
	}
	if (c->wake_fd > 0)
		close(c->wake_fd);
	c->wake_fd = -1;
	if (c->listen_fd > 0) {
		close(c->listen_fd);
		/* Only our own socket: another VM may have replaced it. */
		if (!stat(c->path, &st) && st.st_dev == c->dev &&
		    st.st_ino == c->ino)
			unlink(c->path);
	}
	c->listen_fd = -1;
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i].fd > 0)
			client_close(&c->clients[i]);
}
