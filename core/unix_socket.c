// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/unix_socket.h"

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
	size_t len = strlen(path);

	if (len >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, len + 1);
	return 0;
}

/* A stream socket bound (listening) or connected to path. */
static int unix_socket_at(const char *path, bool listening, int backlog)
{
	struct sockaddr_un sa;
	int fd, err;

	err = unix_addr(path, &sa);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (listening ? bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
			listen(fd, backlog) < 0 :
			connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int unix_listen(const char *path, int backlog)
{
	return unix_socket_at(path, true, backlog);
}

int unix_connect(const char *path)
{
	return unix_socket_at(path, false, 0);
}
