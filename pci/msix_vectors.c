// SPDX-License-Identifier: GPL-2.0
/*
 * The per-device vector routing table (see include/pci/msix_vectors.h).
 *
 * Ordering rules that keep "exactly once" true:
 * - going live: stop polling, drain the eventfd, attach the irqfd, then
 *   re-signal the eventfd once if the drain found an interrupt or the
 *   pending bit was set.  An interrupt between the drain and the attach
 *   stays counted in the eventfd and KVM injects it when the irqfd is
 *   attached (virt/kvm/eventfd.c checks for a pending event at assign).
 * - going polled: detach the irqfd first, then poll; an interrupt between
 *   the two stays counted in the eventfd and the poll sees it.
 * - the poll callback re-checks `polled` under the msix lock before it
 *   reads the eventfd, so a callback racing with going live reads nothing.
 */
#include <stdlib.h>
#include <unistd.h>

#include "pci/msix_vectors.h"
#include "core/util.h"


static uint64_t drain(int efd)
{
	uint64_t n = 0;

	if (read(efd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

static void signal_efd(int efd)
{
	uint64_t one = 1;

	if (write(efd, &one, sizeof(one)) != sizeof(one))
		pr_warn_ratelimited("eventfd write failed: %s",
				    strerror(errno));
}

static void inject(struct msix_vectors *mv, unsigned int v)
{
	mv->stats.injected_by_mvm++;
	mv->v[v].via_mvm++;
	irq_router_signal_msi(mv->router, msix_vector_addr(mv->msix, v),
			      msix_vector_data(mv->msix, v));
}

/* Event loop: an interrupt on a vector that is not live. */
static void vector_polled(void *opaque, int fd)
{
	struct poll_ctx *pc = opaque;
	struct msix_vectors *mv = pc->mv;
	struct msix *m = mv->msix;
	unsigned int v = pc->v;

	pthread_mutex_lock(&m->lock);
	if (mv->v[v].polled && mv->v[v].efd == fd && drain(fd)) {
		if (msix_vector_masked(m, v)) {
			msix_set_pending(m, v, true);
			mv->stats.pending_set++;
			mv->v[v].masked++;
		} else {
			inject(mv, v);
		}
	}
	pthread_mutex_unlock(&m->lock);
}

static struct poll_ctx *poll_ctxs(struct msix_vectors *mv)
{
	return mv->poll;
}

static void start_polling(struct msix_vectors *mv, unsigned int v)
{
	struct msix_vector *x = &mv->v[v];

	if (x->polled || x->efd < 0)
		return;
	if (mv->loop && evloop_add(mv->loop, x->efd, vector_polled,
				   &poll_ctxs(mv)[v]) < 0) {
		pr_warn_ratelimited("%s: cannot watch vector %u's eventfd",
				    mv->msix->dev->name, v);
		return;
	}
	x->polled = true;
}

static void stop_polling(struct msix_vectors *mv, unsigned int v)
{
	struct msix_vector *x = &mv->v[v];

	if (!x->polled)
		return;
	if (mv->loop)
		evloop_del(mv->loop, x->efd);
	x->polled = false;
}

static void detach(struct msix_vectors *mv, unsigned int v)
{
	struct msix_vector *x = &mv->v[v];

	if (!x->irqfd)
		return;
	irq_router_irqfd(mv->router, x->gsi, x->efd, false);
	x->irqfd = false;
	mv->stats.live--;
}

/* Called by the router after a commit: bring waiting vectors live. */
static void routes_committed(struct irq_route_waiter *w)
{
	struct msix_vectors *mv = container_of(w, struct msix_vectors, waiter);
	struct msix *m = mv->msix;
	unsigned int v;

	pthread_mutex_lock(&m->lock);
	for (v = 0; v < m->nr; v++)
		if (mv->v[v].polled && mv->v[v].gsi >= 0)
			msix_vectors_sync(mv, v);
	pthread_mutex_unlock(&m->lock);
}

int msix_vectors_init(struct msix_vectors *mv, struct msix *msix,
		      struct irq_router *router, struct evloop *loop)
{
	unsigned int v;

	memset(mv, 0, sizeof(*mv));
	mv->v = calloc(msix->nr, sizeof(*mv->v));
	mv->poll = calloc(msix->nr, sizeof(*mv->poll));
	if (!mv->v || !mv->poll) {
		free(mv->v);
		free(mv->poll);
		mv->v = NULL;
		return -ENOMEM;
	}
	mv->msix = msix;
	mv->router = router;
	mv->loop = loop;
	mv->waiter.committed = routes_committed;
	for (v = 0; v < msix->nr; v++) {
		mv->v[v] = (struct msix_vector){ .efd = -1, .gsi = -1,
						 .owner_efd = -1 };
		poll_ctxs(mv)[v] = (struct poll_ctx){ .mv = mv, .v = v };
	}
	return 0;
}

void msix_vectors_destroy(struct msix_vectors *mv)
{
	unsigned int v;

	if (!mv->v)
		return;
	pthread_mutex_lock(&mv->msix->lock);
	for (v = 0; v < mv->msix->nr; v++) {
		detach(mv, v);
		if (mv->v[v].gsi >= 0)
			irq_router_gsi_free(mv->router, mv->v[v].gsi);
		mv->v[v].gsi = -1;
		stop_polling(mv, v);
	}
	pthread_mutex_unlock(&mv->msix->lock);
	/* No callback of the loop may still hold a pointer into us. */
	irq_router_cancel_waiter(mv->router, &mv->waiter);
	if (mv->loop)
		evloop_flush(mv->loop);
	free(mv->v);
	free(mv->poll);
	mv->v = NULL;
	mv->poll = NULL;
}

int msix_vectors_set_eventfd(struct msix_vectors *mv, unsigned int v,
			     int efd)
{
	struct msix_vector *x = &mv->v[v];

	if (x->efd == efd)
		return 0;
	detach(mv, v);
	stop_polling(mv, v);
	x->efd = efd;
	msix_vectors_sync(mv, v);
	return 0;
}

void msix_vectors_release(struct msix_vectors *mv, unsigned int v)
{
	struct msix_vector *x = &mv->v[v];

	detach(mv, v);
	if (x->gsi >= 0)
		irq_router_gsi_free(mv->router, x->gsi);
	x->gsi = -1;
	/* Keep watching: a masked interrupt must still set the PBA bit. */
	start_polling(mv, v);
}

static void go_live(struct msix_vectors *mv, unsigned int v)
{
	struct msix_vector *x = &mv->v[v];
	bool fire;

	stop_polling(mv, v);
	fire = drain(x->efd) || msix_pending(mv->msix, v);
	if (irq_router_irqfd(mv->router, x->gsi, x->efd, true)) {
		/* Stay on the slow path; the interrupt is not lost. */
		start_polling(mv, v);
		if (fire)
			inject(mv, v);
		msix_set_pending(mv->msix, v, false);
		return;
	}
	x->irqfd = true;
	mv->stats.live++;
	msix_set_pending(mv->msix, v, false);
	if (fire) {
		mv->stats.injected_by_mvm++;
		x->via_mvm++;
		signal_efd(x->efd);
	}
}

void msix_vectors_sync(struct msix_vectors *mv, unsigned int v)
{
	struct msix *m = mv->msix;
	struct msix_vector *x = &mv->v[v];

	if (x->efd < 0)
		return;
	/* MSI-X off: nothing of the vector survives but its source. */
	if (!m->enabled) {
		msix_vectors_release(mv, v);
		return;
	}
	if (msix_vector_masked(m, v)) {
		detach(mv, v);
		start_polling(mv, v);
		return;
	}
	/* Unmasked: it needs a GSI carrying the current message. */
	if (x->gsi < 0) {
		x->gsi = irq_router_gsi_alloc(mv->router);
		if (x->gsi < 0) {
			pr_warn_ratelimited("%s: no free GSI for MSI-X vector %u: delivering it through mvm (slower)",
					    m->dev->name, v);
			start_polling(mv, v);
			if (msix_pending(m, v)) {
				msix_set_pending(m, v, false);
				inject(mv, v);
			}
			return;
		}
	}
	irq_router_set_msi(mv->router, x->gsi, msix_vector_addr(m, v),
			   msix_vector_data(m, v));
	if (!irq_router_clean(mv->router) &&
	    !irq_router_schedule(mv->router, &mv->waiter)) {
		/* Live with a stale route would misdeliver: poll until the
		 * batched commit, then routes_committed() brings it live. */
		detach(mv, v);
		start_polling(mv, v);
		if (msix_pending(m, v)) {
			msix_set_pending(m, v, false);
			inject(mv, v);
		}
		return;
	}
	if (!x->irqfd)
		go_live(mv, v);
}

void msix_vectors_drain(struct msix_vectors *mv, unsigned int v)
{
	if (mv->v[v].efd >= 0)
		drain(mv->v[v].efd);
}

void msix_vectors_poll_now(struct msix_vectors *mv)
{
	unsigned int v;

	for (v = 0; v < mv->msix->nr; v++)
		if (mv->v[v].polled)
			vector_polled(&poll_ctxs(mv)[v], mv->v[v].efd);
}

void msix_vectors_fire(struct msix_vectors *mv, unsigned int v)
{
	if (msix_vector_masked(mv->msix, v)) {
		msix_set_pending(mv->msix, v, true);
		mv->stats.pending_set++;
		mv->v[v].masked++;
	} else {
		inject(mv, v);
	}
}

void msix_vectors_stat(struct msix_vectors *mv, const char *dev,
		       const uint64_t *source, bool have_source, FILE *out)
{
	struct msix *m = mv->msix;
	unsigned int v;

	if (!mv->v)
		return;
	pthread_mutex_lock(&m->lock);
	for (v = 0; v < m->nr; v++) {
		const struct msix_vector *x = &mv->v[v];
		uint64_t raised = source ? source[v] :
			__atomic_load_n(&x->raised, __ATOMIC_RELAXED);
		char rs[24] = "-";

		if (!raised && !x->via_mvm && !x->masked)
			continue;
		if (source || have_source)
			snprintf(rs, sizeof(rs), "%llu",
				 (unsigned long long)raised);
		fprintf(out, "%s msix %u raised %s via-mvm %llu masked %llu\n",
			dev, v, rs, (unsigned long long)x->via_mvm,
			(unsigned long long)x->masked);
	}
	pthread_mutex_unlock(&m->lock);
}
