/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VM-wide interrupt router: the GSI allocator and KVM's GSI routing
 * table, plus irqfd and KVM_SIGNAL_MSI.  KVM_SET_GSI_ROUTING replaces the
 * whole table, so the router keeps every route (the irqchip pins and each
 * device's MSI routes) and rebuilds the table on commit.
 *
 * Commits are batched: a changed route marks the table dirty and arms a
 * debounce timer; one commit then covers every change of the burst (a
 * guest unmasking 2048 vectors one by one costs a handful of commits, not
 * 2048).
 * Devices that wait for a route to become live register a waiter and are
 * called back after the commit.
 *
 * KVM is reached through struct kvm_irq_ops so the router runs unchanged
 * against a recording fake in unit tests.
 */
#ifndef MVM_IRQ_ROUTER_H
#define MVM_IRQ_ROUTER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "core/evloop.h"

struct kvm_irq_ops {
	int (*set_gsi_routing)(void *opaque, const struct kvm_irq_routing *r);
	int (*irqfd)(void *opaque, const struct kvm_irqfd *f);
	int (*signal_msi)(void *opaque, const struct kvm_msi *m);
};

/* The irqchip pins (PIC 0-15, IOAPIC 0-23) keep the GSIs below this. */
#define IRQ_ROUTER_FIRST_MSI_GSI	24
/* Entries the irqchip routes take in every table: 15 PIC + 23 IOAPIC. */
#define IRQ_ROUTER_IRQCHIP_ENTRIES	38
/* Commit once routes stop changing for this long... */
#define IRQ_ROUTER_COMMIT_DELAY_US	1000
/* ...or at the latest this long after the burst's first change. */
#define IRQ_ROUTER_COMMIT_MAX_US	20000

struct irq_route_waiter {
	struct irq_route_waiter *next;
	void (*committed)(struct irq_route_waiter *w);
	bool queued;
};

struct irq_router_stats {
	uint64_t commits;
	uint64_t irqfd_calls;
	uint64_t signal_msi_calls;
	uint64_t gsis_in_use;
	uint64_t gsi_alloc_failures;
};

struct irq_router {
	pthread_mutex_t lock;
	const struct kvm_irq_ops *ops;
	void *opaque;
	unsigned int nr_gsis;		/* KVM_CAP_IRQ_ROUTING */
	uint64_t *used;			/* bitmap of allocated MSI GSIs */
	struct kvm_irq_routing_msi *msi;	/* route of each GSI */
	bool dirty;
	bool timer_armed;
	uint64_t burst_start_ns;
	int timer_fd;			/* -1: commit synchronously */
	struct evloop *loop;
	struct irq_route_waiter *waiters;
	struct irq_router_stats stats;
};

int irq_router_init(struct irq_router *r, const struct kvm_irq_ops *ops,
		    void *opaque, unsigned int nr_gsis);
/*
 * Batch commits on this event loop.  Without it (unit tests of other
 * layers, or before the loop runs) every irq_router_flush() commits.
 */
int irq_router_attach_loop(struct irq_router *r, struct evloop *loop);
void irq_router_destroy(struct irq_router *r);

/* A free GSI for an MSI route, or -ENOSPC. */
int irq_router_gsi_alloc(struct irq_router *r);
void irq_router_gsi_free(struct irq_router *r, int gsi);
/* Set the MSI message of an allocated GSI; marks the table dirty if new. */
void irq_router_set_msi(struct irq_router *r, int gsi, uint64_t addr,
			uint32_t data);
/* Is the committed table up to date? */
bool irq_router_clean(struct irq_router *r);
/*
 * Ask for a commit.  With an event loop it happens after
 * IRQ_ROUTER_COMMIT_DELAY_US and `w` (may be NULL) is called back on the
 * loop thread afterwards; returns false.  Without a loop it happens now,
 * `w` is not called, and the return value says whether it succeeded.
 */
bool irq_router_schedule(struct irq_router *r, struct irq_route_waiter *w);
/* Commit now if dirty (and run the waiters); returns 0 or -errno. */
int irq_router_commit(struct irq_router *r);
/* Take w off the waiting list (its owner is going away). */
void irq_router_cancel_waiter(struct irq_router *r, struct irq_route_waiter *w);

int irq_router_irqfd(struct irq_router *r, int gsi, int efd, bool assign);
/* A level-triggered irqfd (KVM_IRQFD_FLAG_RESAMPLE) for INTx. */
int irq_router_irqfd_resample(struct irq_router *r, int gsi, int efd,
			      int resample_efd, bool assign);
int irq_router_signal_msi(struct irq_router *r, uint64_t addr, uint32_t data);

/* The real KVM: ioctls on the VM fd passed as opaque (intptr_t). */
extern const struct kvm_irq_ops kvm_irq_ops_real;

#endif
