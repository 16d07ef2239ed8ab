// SPDX-License-Identifier: GPL-2.0
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/evloop.h"
#include "core/util.h"

struct evloop_watch {
	evloop_cb cb;
	void *opaque;
	int fd;
};

/*
 * epoll keeps a pointer to the watch; watches are freed only when the loop
 * is destroyed (a removed one is parked on a free list), so a callback
 * that is in flight while its fd is removed never touches freed memory.
 */
struct evloop_watch_list {
	struct evloop_watch_list *next;
	struct evloop_watch w;
};

int evloop_init(struct evloop *l)
{
	l->running = false;
	l->live = l->parked = NULL;
	pthread_mutex_init(&l->lock, NULL);
	pthread_mutex_init(&l->dispatch, NULL);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wake_fd < 0) {
		int err = -errno;

		close(l->epfd);
		return err;
	}
	return 0;
}

static void *evloop_thread(void *arg)
{
	struct evloop *l = arg;
	struct epoll_event ev[32];

	for (;;) {
		int i, n = epoll_wait(l->epfd, ev, ARRAY_SIZE(ev), -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		pthread_mutex_lock(&l->dispatch);
		for (i = 0; i < n; i++) {
			struct evloop_watch *w = ev[i].data.ptr;

			if (!w) {	/* the wake eventfd: stop */
				pthread_mutex_unlock(&l->dispatch);
				return NULL;
			}
			w->cb(w->opaque, w->fd);
		}
		pthread_mutex_unlock(&l->dispatch);
	}
	return NULL;
}

int evloop_start(struct evloop *l)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	sigset_t all, old;
	int err;

	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake_fd, &ev) < 0)
		return -errno;
	/* The loop thread takes no signals; they belong to the main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&l->thread, NULL, evloop_thread, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	pthread_setname_np(l->thread, "mvm-evloop");
	l->running = true;
	return 0;
}

void evloop_stop(struct evloop *l)
{
	uint64_t one = 1;

	if (!l->running)
		return;
	if (write(l->wake_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(l->thread, NULL);
	l->running = false;
}

int evloop_add(struct evloop *l, int fd, evloop_cb cb, void *opaque)
{
	struct evloop_watch_list *e;
	struct epoll_event ev = { .events = EPOLLIN };

	pthread_mutex_lock(&l->lock);
	/*
	 * A parked watch may still be in the array epoll_wait() returned to
	 * the round under way; reused, it makes one spurious call of its new
	 * callback, which every callback tolerates (evloop.h).  Freed memory
	 * is never reached: watches are freed only by evloop_destroy().
	 */
	e = l->parked;
	if (e)
		l->parked = e->next;
	else
		e = calloc(1, sizeof(*e));
	if (!e) {
		pthread_mutex_unlock(&l->lock);
		return -ENOMEM;
	}
	e->w = (struct evloop_watch){ .cb = cb, .opaque = opaque, .fd = fd };
	ev.data.ptr = &e->w;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;

		e->next = l->parked;
		l->parked = e;
		pthread_mutex_unlock(&l->lock);
		return err;
	}
	e->next = l->live;
	l->live = e;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

int evloop_del(struct evloop *l, int fd)
{
	struct evloop_watch_list **pp, *e;
	int err = -ENOENT;

	pthread_mutex_lock(&l->lock);
	for (pp = &l->live; (e = *pp); pp = &e->next) {
		if (e->w.fd != fd)
			continue;
		*pp = e->next;
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
		e->next = l->parked;
		l->parked = e;
		err = 0;
		break;
	}
	pthread_mutex_unlock(&l->lock);
	return err;
}

void evloop_flush(struct evloop *l)
{
	if (!l->running || pthread_equal(pthread_self(), l->thread))
		return;
	/* The round under way (if any) holds `dispatch`; later rounds no
	 * longer see the removed fds. */
	pthread_mutex_lock(&l->dispatch);
	pthread_mutex_unlock(&l->dispatch);
}

static void free_list(struct evloop_watch_list *e)
{
	while (e) {
		struct evloop_watch_list *next = e->next;

		free(e);
		e = next;
	}
}

void evloop_destroy(struct evloop *l)
{
	evloop_stop(l);
	free_list(l->live);
	free_list(l->parked);
	l->live = l->parked = NULL;
	pthread_mutex_destroy(&l->lock);
	pthread_mutex_destroy(&l->dispatch);
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	l->epfd = l->wake_fd = -1;
}
