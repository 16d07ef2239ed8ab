// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket's client side (`mvm list|stop|...`) and the naming
 * rules both sides share.  Protocol: include/debug/control.h.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "debug/control.h"
#include "core/unix_socket.h"
#include "core/util.h"

#define SOCK_SUFFIX	".sock"

bool control_name_valid(const char *name)
{
	size_t len = strlen(name), i;

	if (!len || len >= sizeof(((struct control *)0)->name))
		return false;
	for (i = 0; i < len; i++)
		if (name[i] == '/' || (unsigned char)name[i] < 0x20 ||
		    name[i] == 0x7f)
			return false;
	return true;
}

int control_dir(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (xdg && *xdg)
		n = snprintf(buf, len, "%s/mvm", xdg);
	else if (geteuid() == 0 && !access("/run", W_OK))
		n = snprintf(buf, len, "/run/mvm");
	else
		n = snprintf(buf, len, "/tmp/mvm-%u", (unsigned int)geteuid());
	if (n < 0 || (size_t)n >= len) {
		pr_err("control socket directory: XDG_RUNTIME_DIR '%s' is too long",
		       xdg ? xdg : "");
		return -ENAMETOOLONG;
	}
	return 0;
}

int control_socket_path(const char *name, char *buf, size_t len)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int err, n;

	if (!control_name_valid(name)) {
		pr_err("VM name '%s': must be 1 to 63 characters, without '/' or control characters",
		       name);
		return -EINVAL;
	}
	err = control_dir(dir, sizeof(dir));
	if (err)
		return err;
	n = snprintf(buf, len, "%s/%s" SOCK_SUFFIX, dir, name);
	if (n < 0 || (size_t)n >= len ||
	    (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		pr_err("control socket %s/%s" SOCK_SUFFIX ": path too long for a UNIX socket",
		       dir, name);
		return -ENAMETOOLONG;
	}
	return 0;
}

int control_probe(const char *path)
{
	int fd = unix_connect(path);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	/* A socket file nobody listens on any more (its VM died). */
	return fd == -ECONNREFUSED ? 0 : fd;
}

int control_lock(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int err = -errno;

			close(fd);
			return err;
		}
	}
	return fd;
}

/* Is `line` (without its newline) the end of a reply? */
static bool final_line(const char *line)
{
	return !strcmp(line, "ok") || !strncmp(line, "error: ", 7) ||
	       !strcmp(line, "error:");
}

/*
 * Send cmd, copy the body to out (may be NULL), and return 0 on "ok",
 * -EPROTO on "error: ..." (the reason in *reason, malloc()ed), -ETIMEDOUT,
 * -ECONNRESET if the reply ended early, or a connect() error.
 */
static int request(const char *path, const char *cmd, FILE *out,
		   char **reason)
{
	size_t cap = 4096, len = 0, total = 0, cmd_len = strlen(cmd);
	char *buf = NULL, *req = NULL;
	int fd, err = -ECONNRESET;
	ssize_t sent;

	*reason = NULL;
	fd = unix_connect(path);
	if (fd < 0)
		return fd;
	req = malloc(cmd_len + 1);
	buf = malloc(cap);
	if (!req || !buf) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(req, cmd, cmd_len);
	req[cmd_len] = '\n';
	sent = send(fd, req, cmd_len + 1, MSG_NOSIGNAL);
	if (sent != (ssize_t)cmd_len + 1) {
		err = sent < 0 ? -errno : -EIO;
		goto out;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char *nl;
		ssize_t n;
		int r;

		r = poll(&p, 1, CONTROL_CLIENT_TIMEOUT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r ? -errno : -ETIMEDOUT;
			goto out;
		}
		if (len == cap) {
			char *nb;

			if (cap >= 2 * CONTROL_MAX_REPLY) {
				err = -EMSGSIZE;
				goto out;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				err = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n ? -errno : -ECONNRESET;
			goto out;
		}
		len += (size_t)n;
		total += (size_t)n;
		if (total > 2 * CONTROL_MAX_REPLY) {
			err = -EMSGSIZE;
			goto out;
		}
		/* Hand out every complete line. */
		while ((nl = memchr(buf, '\n', len))) {
			size_t l = (size_t)(nl - buf);

			*nl = '\0';
			if (final_line(buf)) {
				if (!strcmp(buf, "ok")) {
					err = 0;
				} else {
					err = -EPROTO;
					*reason = strdup(buf[6] ? buf + 7 : "");
				}
				goto out;
			}
			if (out)
				fprintf(out, "%s\n", buf);
			memmove(buf, nl + 1, len - l - 1);
			len -= l + 1;
		}
	}
out:
	free(req);
	free(buf);
	close(fd);
	return err;
}

int control_request(const char *name, const char *cmd, FILE *out)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *reason;
	int err;

	if (strchr(cmd, '\n') || strlen(cmd) > CONTROL_MAX_REQUEST) {
		pr_err("%s %s: invalid request", cmd, name);
		return -EINVAL;
	}
	err = control_socket_path(name, path, sizeof(path));
	if (err)
		return err;
	err = request(path, cmd, out, &reason);
	switch (err) {
	case 0:
		break;
	case -EPROTO:
		pr_err("%s %s: %s", cmd, name, reason ? reason : "error");
		break;
	case -ENOENT:
		pr_err("%s %s: no VM named '%s' (no %s)", cmd, name, name,
		       path);
		break;
	case -ECONNREFUSED:
		pr_err("%s %s: VM '%s' is not running (stale %s)", cmd, name,
		       name, path);
		break;
	case -ETIMEDOUT:
		pr_err("%s %s: no reply from VM '%s' within %d s", cmd, name,
		       name, CONTROL_CLIENT_TIMEOUT_MS / 1000);
		break;
	case -ECONNRESET:
		pr_err("%s %s: VM '%s' closed the connection before replying",
		       cmd, name, name);
		break;
	default:
		pr_errno(-err, "%s %s: %s", cmd, name, path);
		break;
	}
	free(reason);
	return err;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Under the directory lock: still a socket nobody listens on?  Remove. */
static void remove_stale(const char *dir, const char *path)
{
	struct stat st;
	int lock = control_lock(dir);

	if (lock < 0)
		return;
	if (!lstat(path, &st) && S_ISSOCK(st.st_mode) &&
	    control_probe(path) == 0)
		unlink(path);
	close(lock);
}

int control_list(FILE *out)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char path[sizeof(dir)];
	char **names = NULL;
	size_t nr = 0, cap = 0, i;
	struct dirent *de;
	DIR *d;
	int err;

	err = control_dir(dir, sizeof(dir));
	if (err)
		return err;
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;	/* no VM ever ran */
		err = -errno;
		pr_errno(-err, "list: %s", dir);
		return err;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name), sl = strlen(SOCK_SUFFIX);

		if (l <= sl || strcmp(de->d_name + l - sl, SOCK_SUFFIX))
			continue;
		if (nr == cap) {
			char **nn = realloc(names, (cap ? cap * 2 : 16) *
					    sizeof(*names));

			if (!nn) {
				err = -ENOMEM;
				break;
			}
			names = nn;
			cap = cap ? cap * 2 : 16;
		}
		names[nr] = strndup(de->d_name, l - sl);
		if (!names[nr]) {
			err = -ENOMEM;
			break;
		}
		nr++;
	}
	closedir(d);
	if (err) {
		pr_errno(-err, "list: %s", dir);
		goto out;
	}
	if (nr)
		qsort(names, nr, sizeof(*names), cmp_names);
	for (i = 0; i < nr; i++) {
		char *reason;
		int r;

		if (!control_name_valid(names[i]))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s" SOCK_SUFFIX, dir,
			     names[i]) >= (int)sizeof(path))
			continue;
		r = request(path, "ping", NULL, &reason);
		free(reason);
		if (r == 0)
			fprintf(out, "%s\n", names[i]);
		else if (r == -ECONNREFUSED)
			remove_stale(dir, path);
	}
out:
	for (i = 0; i < nr; i++)
		free(names[i]);
	free(names);
	return err;
}
