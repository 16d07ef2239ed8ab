// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/irq_router.h"
#include "x86/layout.h"
#include "debug/trace.h"
#include "core/util.h"

static int real_set_gsi_routing(void *opaque, const struct kvm_irq_routing *r)
{
	return ioctl((int)(intptr_t)opaque, KVM_SET_GSI_ROUTING, r) < 0 ?
	       -errno : 0;
}

static int real_irqfd(void *opaque, const struct kvm_irqfd *f)
{
	return ioctl((int)(intptr_t)opaque, KVM_IRQFD, f) < 0 ? -errno : 0;
}

static int real_signal_msi(void *opaque, const struct kvm_msi *m)
{
	/* > 0: delivered, 0: blocked by the guest (e.g. APIC disabled). */
	return ioctl((int)(intptr_t)opaque, KVM_SIGNAL_MSI, m) < 0 ?
	       -errno : 0;
}

const struct kvm_irq_ops kvm_irq_ops_real = {
	.set_gsi_routing = real_set_gsi_routing,
	.irqfd = real_irqfd,
	.signal_msi = real_signal_msi,
};

static bool gsi_used(const struct irq_router *r, unsigned int gsi)
{
	return r->used[gsi / 64] & (1ULL << (gsi % 64));
}

int irq_router_init(struct irq_router *r, const struct kvm_irq_ops *ops,
		    void *opaque, unsigned int nr_gsis)
{
	memset(r, 0, sizeof(*r));
	if (nr_gsis <= IRQ_ROUTER_FIRST_MSI_GSI)
		return -EINVAL;
	pthread_mutex_init(&r->lock, NULL);
	r->ops = ops;
	r->opaque = opaque;
	r->nr_gsis = nr_gsis;
	r->timer_fd = -1;
	r->used = calloc((nr_gsis + 63) / 64, sizeof(*r->used));
	r->msi = calloc(nr_gsis, sizeof(*r->msi));
	if (!r->used || !r->msi) {
		irq_router_destroy(r);
		return -ENOMEM;
	}
	/* The first commit installs the irqchip routes. */
	r->dirty = true;
	return 0;
}

void irq_router_destroy(struct irq_router *r)
{
	if (r->timer_fd >= 0) {
		if (r->loop)
			evloop_del(r->loop, r->timer_fd);
		close(r->timer_fd);
	}
	r->timer_fd = -1;
	free(r->used);
	free(r->msi);
	r->used = NULL;
	r->msi = NULL;
	pthread_mutex_destroy(&r->lock);
}

int irq_router_gsi_alloc(struct irq_router *r)
{
	unsigned int gsi;
	int ret = -ENOSPC;

	pthread_mutex_lock(&r->lock);
	/*
	 * KVM takes at most nr_gsis entries in one table (KVM_MAX_IRQ_ROUTES),
	 * and the irqchip routes are entries too.
	 */
	for (gsi = IRQ_ROUTER_FIRST_MSI_GSI;
	     gsi < r->nr_gsis &&
	     r->stats.gsis_in_use + IRQ_ROUTER_IRQCHIP_ENTRIES < r->nr_gsis;
	     gsi++) {
		if (!gsi_used(r, gsi)) {
			r->used[gsi / 64] |= 1ULL << (gsi % 64);
			memset(&r->msi[gsi], 0, sizeof(r->msi[gsi]));
			r->stats.gsis_in_use++;
			/* KVM may still hold a previous owner's route here. */
			r->dirty = true;
			ret = (int)gsi;
			break;
		}
	}
	if (ret < 0)
		r->stats.gsi_alloc_failures++;
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void irq_router_gsi_free(struct irq_router *r, int gsi)
{
	pthread_mutex_lock(&r->lock);
	if (gsi >= IRQ_ROUTER_FIRST_MSI_GSI && (unsigned int)gsi < r->nr_gsis &&
	    gsi_used(r, (unsigned int)gsi)) {
		r->used[gsi / 64] &= ~(1ULL << (gsi % 64));
		r->stats.gsis_in_use--;
		/* A stale route is harmless: no irqfd points at it. */
	}
	pthread_mutex_unlock(&r->lock);
}

void irq_router_set_msi(struct irq_router *r, int gsi, uint64_t addr,
			uint32_t data)
{
	struct kvm_irq_routing_msi m = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};

	pthread_mutex_lock(&r->lock);
	if (gsi >= 0 && (unsigned int)gsi < r->nr_gsis &&
	    memcmp(&r->msi[gsi], &m, sizeof(m))) {
		r->msi[gsi] = m;
		TRACE_IRQ_ROUTE(gsi, addr, data);
		r->dirty = true;
	}
	pthread_mutex_unlock(&r->lock);
}

bool irq_router_clean(struct irq_router *r)
{
	bool clean;

	pthread_mutex_lock(&r->lock);
	clean = !r->dirty;
	pthread_mutex_unlock(&r->lock);
	return clean;
}

static void add_irqchip(struct kvm_irq_routing *t, uint32_t gsi,
			uint32_t chip, uint32_t pin)
{
	struct kvm_irq_routing_entry *e = &t->entries[t->nr++];

	*e = (struct kvm_irq_routing_entry){
		.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
		.u.irqchip = { .irqchip = chip, .pin = pin },
	};
}

/*
 * The irqchip part of the table.  GSI 0 (the PIT) goes to IOAPIC pin 2,
 * matching the MADT's interrupt source override for ISA IRQ 0 (ACPI 6.3,
 * 5.2.12.5); IOAPIC pin 2 has no other source.  GSI 2 is the PIC cascade.
 */
static void build_irqchip_routes(struct kvm_irq_routing *t)
{
	uint32_t i;

	for (i = 0; i < 16; i++)
		if (i != 2)
			add_irqchip(t, i, i < 8 ? KVM_IRQCHIP_PIC_MASTER :
				    KVM_IRQCHIP_PIC_SLAVE, i % 8);
	add_irqchip(t, 0, KVM_IRQCHIP_IOAPIC, 2);
	for (i = 1; i < IOAPIC_NR_PINS; i++)
		if (i != 2)
			add_irqchip(t, i, KVM_IRQCHIP_IOAPIC, i);
}

/* Caller holds r->lock.  Returns the waiters to run after unlocking. */
static int commit_locked(struct irq_router *r,
			 struct irq_route_waiter **waiters)
{
	struct kvm_irq_routing *t;
	unsigned int gsi, max = 40 + r->nr_gsis, t_nr;
	int err = 0;

	struct irq_route_waiter *w;

	*waiters = r->waiters;
	r->waiters = NULL;
	for (w = *waiters; w; w = w->next)
		w->queued = false;
	if (!r->dirty)
		return 0;
	t = calloc(1, sizeof(*t) + max * sizeof(t->entries[0]));
	if (!t)
		return -ENOMEM;
	build_irqchip_routes(t);
	for (gsi = IRQ_ROUTER_FIRST_MSI_GSI; gsi < r->nr_gsis; gsi++) {
		struct kvm_irq_routing_entry *e;

		if (!gsi_used(r, gsi))
			continue;
		e = &t->entries[t->nr++];
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_MSI;
		e->u.msi = r->msi[gsi];
	}
	t_nr = t->nr;
	err = r->ops->set_gsi_routing(r->opaque, t);
	TRACE_IRQ_COMMIT(t_nr, err);
	free(t);
	if (err) {
		pr_warn_ratelimited("KVM_SET_GSI_ROUTING (%u routes) failed: %s",
				    t_nr, strerror(-err));
		return err;
	}
	r->stats.commits++;
	r->dirty = false;
	return 0;
}

static void run_waiters(struct irq_route_waiter *w)
{
	while (w) {
		struct irq_route_waiter *next = w->next;

		w->committed(w);
		w = next;
	}
}

void irq_router_cancel_waiter(struct irq_router *r, struct irq_route_waiter *w)
{
	struct irq_route_waiter **pp;

	pthread_mutex_lock(&r->lock);
	for (pp = &r->waiters; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	w->queued = false;
	pthread_mutex_unlock(&r->lock);
}

int irq_router_commit(struct irq_router *r)
{
	struct irq_route_waiter *w;
	int err;

	pthread_mutex_lock(&r->lock);
	err = commit_locked(r, &w);
	pthread_mutex_unlock(&r->lock);
	run_waiters(w);
	return err;
}

static void commit_timer_fired(void *opaque, int fd)
{
	struct irq_router *r = opaque;
	uint64_t expirations;

	if (read(fd, &expirations, sizeof(expirations)) < 0 &&
	    errno == EAGAIN)
		return;
	pthread_mutex_lock(&r->lock);
	r->timer_armed = false;
	pthread_mutex_unlock(&r->lock);
	irq_router_commit(r);
}

int irq_router_attach_loop(struct irq_router *r, struct evloop *loop)
{
	int err;

	r->timer_fd = timerfd_create(CLOCK_MONOTONIC,
				     TFD_CLOEXEC | TFD_NONBLOCK);
	if (r->timer_fd < 0)
		return -errno;
	err = evloop_add(loop, r->timer_fd, commit_timer_fired, r);
	if (err) {
		close(r->timer_fd);
		r->timer_fd = -1;
		return err;
	}
	r->loop = loop;
	return 0;
}

/*
 * Debounce: every change pushes the commit IRQ_ROUTER_COMMIT_DELAY_US
 * further out, but never more than IRQ_ROUTER_COMMIT_MAX_US after the
 * first change of the burst, so a guest that keeps changing routes still
 * sees them committed.  Interrupts of vectors waiting for the commit are
 * delivered by mvm meanwhile (msix_vectors), so nothing waits on it.
 */
bool irq_router_schedule(struct irq_router *r, struct irq_route_waiter *w)
{
	struct irq_route_waiter *none;
	bool committed = false;

	pthread_mutex_lock(&r->lock);
	if (r->loop) {
		uint64_t now = monotonic_ns(), due;
		struct itimerspec its = { 0 };

		if (w && !w->queued) {
			w->queued = true;
			w->next = r->waiters;
			r->waiters = w;
		}
		if (!r->timer_armed)
			r->burst_start_ns = now;
		due = MIN(now + IRQ_ROUTER_COMMIT_DELAY_US * 1000ULL,
			  r->burst_start_ns + IRQ_ROUTER_COMMIT_MAX_US * 1000ULL);
		due = MAX(due, now + 1000);
		its.it_value.tv_sec = (time_t)((due - now) / 1000000000ULL);
		its.it_value.tv_nsec = (long)((due - now) % 1000000000ULL);
		if (timerfd_settime(r->timer_fd, 0, &its, NULL) == 0)
			r->timer_armed = true;
	} else {
		/* No loop: commit now; the caller carries on itself, and
		 * queued waiters are left for the next irq_router_commit(). */
		none = r->waiters;
		committed = commit_locked(r, &none) == 0;
		r->waiters = none;
	}
	pthread_mutex_unlock(&r->lock);
	return committed;
}

static int do_irqfd(struct irq_router *r, const struct kvm_irqfd *f)
{
	int err;

	pthread_mutex_lock(&r->lock);
	r->stats.irqfd_calls++;
	pthread_mutex_unlock(&r->lock);
	err = r->ops->irqfd(r->opaque, f);
	TRACE_IRQFD((int)f->gsi, (int)f->fd,
		    !(f->flags & KVM_IRQFD_FLAG_DEASSIGN), err);
	if (err)
		pr_errno(-err, "KVM_IRQFD%s %s gsi %u fd %u failed",
			 f->flags & KVM_IRQFD_FLAG_RESAMPLE ? " (resample)" : "",
			 f->flags & KVM_IRQFD_FLAG_DEASSIGN ? "deassign" :
			 "assign", f->gsi, f->fd);
	return err;
}

int irq_router_irqfd(struct irq_router *r, int gsi, int efd, bool assign)
{
	struct kvm_irqfd f = {
		.fd = (uint32_t)efd, .gsi = (uint32_t)gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	return do_irqfd(r, &f);
}

int irq_router_irqfd_resample(struct irq_router *r, int gsi, int efd,
			      int resample_efd, bool assign)
{
	struct kvm_irqfd f = {
		.fd = (uint32_t)efd, .gsi = (uint32_t)gsi,
		.flags = assign ? KVM_IRQFD_FLAG_RESAMPLE :
				  KVM_IRQFD_FLAG_DEASSIGN,
		.resamplefd = assign ? (uint32_t)resample_efd : 0,
	};

	return do_irqfd(r, &f);
}

int irq_router_signal_msi(struct irq_router *r, uint64_t addr, uint32_t data)
{
	struct kvm_msi m = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};
	int err;

	pthread_mutex_lock(&r->lock);
	r->stats.signal_msi_calls++;
	pthread_mutex_unlock(&r->lock);
	err = r->ops->signal_msi(r->opaque, &m);
	TRACE_IRQ_SIGNAL_MSI(addr, data, err);
	if (err)
		pr_warn_ratelimited("KVM_SIGNAL_MSI %#llx/%#x failed: %s",
				    (unsigned long long)addr, data,
				    strerror(-err));
	return err;
}
