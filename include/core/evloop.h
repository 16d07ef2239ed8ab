/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One event-loop thread per VM for work that is not on a vCPU: eventfds of
 * masked MSI-X vectors (to set their pending bit), deferred routing
 * commits (timerfd), device I/O completions.  Callbacks run on the loop
 * thread; a callback must re-check its own state under its own lock, since
 * an fd removed by evloop_del() may still have one callback in flight, and
 * a callback may be called once spuriously.  Before freeing what a removed
 * watch points to, call evloop_flush().
 */
#ifndef MVM_EVLOOP_H
#define MVM_EVLOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef void (*evloop_cb)(void *opaque, int fd);

struct evloop_watch_list;

struct evloop {
	pthread_mutex_t lock;
	struct evloop_watch_list *live, *parked;
	/* Held by the loop thread while it runs one round of callbacks. */
	pthread_mutex_t dispatch;
	int epfd;
	int wake_fd;		/* eventfd: stop request */
	pthread_t thread;
	bool running;
};

int evloop_init(struct evloop *l);
int evloop_start(struct evloop *l);
void evloop_stop(struct evloop *l);
void evloop_destroy(struct evloop *l);
/* Watch fd for readability; level-triggered. */
int evloop_add(struct evloop *l, int fd, evloop_cb cb, void *opaque);
int evloop_del(struct evloop *l, int fd);
/*
 * Wait until no callback that may have seen an fd removed before this call
 * is still running.  Call it without holding any lock a callback takes,
 * before freeing what a removed watch's opaque points to.  A no-op on the
 * loop thread itself and when the loop is not running.
 */
void evloop_flush(struct evloop *l);

#endif
