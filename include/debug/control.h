/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control socket: `mvm list|stop|pause|resume|debug|stat NAME` talk to
 * a running VM over a UNIX stream socket at
 *
 *   $XDG_RUNTIME_DIR/mvm/NAME.sock     (directory 0700, socket 0600)
 *   /run/mvm/NAME.sock                 root without XDG_RUNTIME_DIR
 *   /tmp/mvm-UID/NAME.sock             anyone else without it (or no /run)
 *
 * Protocol: a request is one line of at most CONTROL_MAX_REQUEST bytes
 * (newline excluded): stop, pause, resume, debug, stat or ping.  The reply
 * is zero or more text lines and then a last line "ok" or "error: REASON".
 * A connection may carry several requests in turn; a partial line at EOF
 * is dropped unexecuted.  An over-long request gets "error: request too
 * long" and the connection is closed.
 *
 * The server is one thread ("mvm-control") polling the listening socket
 * and every client (non-blocking, bounded buffers, MSG_NOSIGNAL): no
 * client can block or crash the VM, only delay other control clients.
 * The actions are callbacks, run on that thread one at a time.
 */
#ifndef MVM_CONTROL_H
#define MVM_CONTROL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define CONTROL_MAX_REQUEST	256
#define CONTROL_MAX_CLIENTS	8
#define CONTROL_MAX_REPLY	(1U << 20)	/* longer replies are cut */
#define CONTROL_IDLE_MS		10000	/* silent clients are dropped */
#define CONTROL_CLIENT_TIMEOUT_MS 10000	/* client side: wait for a reply */

/*
 * What the commands do; any may be NULL ("error: not supported").  stop,
 * pause and resume return 0 or -errno (reported as "error: strerror").
 * debug and stat print their text to `out`.
 */
struct control_ops {
	int (*stop)(void *opaque);
	int (*pause)(void *opaque);
	int (*resume)(void *opaque);
	void (*debug)(void *opaque, FILE *out);
	void (*stat)(void *opaque, FILE *out);
};

struct control_client {
	int fd;				/* -1: free slot */
	char in[CONTROL_MAX_REQUEST + 1];
	size_t in_len;
	char *out;			/* reply being sent */
	size_t out_len, out_off;
	bool eof;			/* client sent everything it will */
	bool close_after;		/* close once the reply is out */
	uint64_t last_ns;		/* last progress, for CONTROL_IDLE_MS */
};

struct control {
	const struct control_ops *ops;
	void *opaque;
	char name[64];
	char path[108];			/* sizeof(sun_path) */
	dev_t dev;			/* our socket file, to unlink only it */
	ino_t ino;
	int listen_fd;
	int wake_fd;			/* eventfd: control_stop() */
	unsigned int idle_ms;
	pthread_t thread;
	bool running;
	struct control_client clients[CONTROL_MAX_CLIENTS];
};

/*
 * Listen on NAME.sock and serve requests on a new thread.  Refuses a name
 * a live VM answers on (-EADDRINUSE, "control socket NAME.sock in use by
 * another VM"); a stale socket left by a VM that died is replaced.
 * Returns 0 or -errno after printing one line.
 */
int control_start(struct control *c, const char *name,
		  const struct control_ops *ops, void *opaque);
/*
 * Stop the thread, close every connection, remove the socket (if it is
 * still ours).  Safe on a struct that was zeroed or whose control_start()
 * failed, and twice; not from a callback (it joins the thread).
 */
void control_stop(struct control *c);

/* The socket directory (not created); 0 or -errno, message printed. */
int control_dir(char *buf, size_t len);
/* Is NAME usable as a VM name on the control socket? */
bool control_name_valid(const char *name);

/* Shared by the server and the client (debug/control_client.c). */
int control_socket_path(const char *name, char *buf, size_t len);
/* 1: a process listens on path; 0: a stale socket; -errno otherwise. */
int control_probe(const char *path);
/* Serialises "is the name free? bind" and "stale? unlink" across mvm
 * processes: an flock()ed DIR/.lock, held briefly.  fd or -errno. */
int control_lock(const char *dir);

/*
 * Client: send `cmd` to VM `name`, print the reply's text lines (all but
 * the final "ok") to `out`.  Returns 0 on "ok"; otherwise prints one line
 * on stderr (the VM's "error: ..." reason, or why it could not be asked)
 * and returns -errno (-EPROTO for an error reply).
 */
int control_request(const char *name, const char *cmd, FILE *out);
/*
 * Print the name of every VM that answers ping, one a line, sorted.
 * Sockets no VM listens on any more are removed.  Returns 0 or -errno.
 */
int control_list(FILE *out);

#endif
