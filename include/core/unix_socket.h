/* SPDX-License-Identifier: GPL-2.0 */
/* Connecting to a UNIX stream socket by path (control socket, vhost-user). */
#ifndef MVM_UNIX_SOCKET_H
#define MVM_UNIX_SOCKET_H

/* A connected SOCK_STREAM|SOCK_CLOEXEC fd, or -errno (-ENAMETOOLONG if
 * path does not fit in sun_path). */
int unix_connect(const char *path);

#endif
