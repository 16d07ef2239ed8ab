/* SPDX-License-Identifier: GPL-2.0 */
/* UNIX stream sockets by path (control socket, vhost-user). */
#ifndef MVM_UNIX_SOCKET_H
#define MVM_UNIX_SOCKET_H

/* A connected SOCK_STREAM|SOCK_CLOEXEC fd, or -errno (-ENAMETOOLONG if
 * path does not fit in sun_path). */
int unix_connect(const char *path);
/* A SOCK_STREAM|SOCK_CLOEXEC socket bound to path and listening, or
 * -errno. */
int unix_listen(const char *path, int backlog);

#endif
