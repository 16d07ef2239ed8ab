/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A device's own irqfd routing table: for each MSI-X vector, the eventfd
 * its interrupt source signals, the GSI whose KVM route carries the
 * guest's message, and the state that ties them together:
 *
 *   vector -> eventfd -> (irqfd) -> GSI -> MSI route (address/data)
 *
 * A vector is "live" when its eventfd is attached to KVM with an irqfd and
 * its route is committed: the interrupt then reaches the guest without
 * passing through mvm.  Otherwise it is "polled": the event loop reads the
 * eventfd and either sets the vector's pending bit (guest-masked) or
 * injects it with KVM_SIGNAL_MSI (unmasked but its route not committed
 * yet, or no GSI left).  GSIs are spent only on vectors the guest has
 * unmasked, and kept across mask/unmask; they are returned when MSI-X is
 * disabled or the device is reset.
 *
 * All functions are called with the struct msix lock held, except where
 * said otherwise.
 */
#ifndef MVM_MSIX_VECTORS_H
#define MVM_MSIX_VECTORS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/evloop.h"
#include "core/irq_router.h"
#include "pci/msix.h"

struct msix_vector {
	int efd;		/* interrupt source; -1: none */
	int gsi;		/* -1: none */
	bool irqfd;		/* efd attached to gsi in KVM */
	bool polled;		/* efd watched by the event loop */
	/*
	 * The owner's side of the vector, so that everything behind one
	 * guest entry (msix->table[v]) is this one struct, not an array
	 * per field in the owner.  Only the owner reads and writes them.
	 * owner_efd: the eventfd the owner made for the vector (-1: none
	 * yet); it opens and closes it, and keeps it while the vector is
	 * not routed (efd == -1), e.g. VFIO across a host MSI-X disable,
	 * so a re-enable hands the host the same eventfd.  Close it only
	 * after msix_vectors_set_eventfd(v, -1).  host_live: the owner
	 * armed the source (VFIO: the host has owner_efd as the vector's
	 * trigger, and efd == owner_efd).
	 */
	int owner_efd;
	bool host_live;
	/*
	 * Per-vector delivery counts for `mvm stat`.  raised: interrupts
	 * the owner's source produced, where the owner counts them
	 * (msix_vectors_count_raised(); lock-free).  via_mvm: delivered by
	 * mvm itself (KVM_SIGNAL_MSI, or a replay into the irqfd).  masked:
	 * arrived while the guest had the vector masked (PBA bit set);
	 * those reach the guest later, counted in via_mvm when mvm replays
	 * them.  What KVM's irqfd delivered without mvm is not counted.
	 */
	uint64_t raised;
	uint64_t via_mvm;
	uint64_t masked;
};

struct msix_vectors_stats {
	uint64_t injected_by_mvm;	/* KVM_SIGNAL_MSI / efd writes */
	uint64_t pending_set;		/* interrupts while masked */
	uint64_t live;			/* vectors currently on irqfd */
};

/* What the event loop hands back for a polled vector. */
struct poll_ctx {
	struct msix_vectors *mv;
	unsigned int v;
};

struct msix_vectors {
	struct msix *msix;
	struct poll_ctx *poll;
	struct irq_router *router;
	struct evloop *loop;
	struct msix_vector *v;
	struct irq_route_waiter waiter;
	struct msix_vectors_stats stats;
};

int msix_vectors_init(struct msix_vectors *mv, struct msix *msix,
		      struct irq_router *router, struct evloop *loop);
/* Detach everything and free GSIs; eventfds stay the owner's. */
void msix_vectors_destroy(struct msix_vectors *mv);

/* Give vector v an interrupt source (or -1 to take it away). */
int msix_vectors_set_eventfd(struct msix_vectors *mv, unsigned int v,
			     int efd);
/* Bring v's wiring in line with the guest's view of it. */
void msix_vectors_sync(struct msix_vectors *mv, unsigned int v);
/* Return v's GSI and detach it (MSI-X disabled, reset). */
void msix_vectors_release(struct msix_vectors *mv, unsigned int v);
/*
 * Deliver vector v as the device would (used after a host re-enable that
 * may have lost an interrupt): pending bit if masked, else inject.
 */
void msix_vectors_fire(struct msix_vectors *mv, unsigned int v);
/* Forget interrupts counted on v's eventfd (its source was reset). */
void msix_vectors_drain(struct msix_vectors *mv, unsigned int v);
/*
 * Handle every polled vector now, on the calling thread (without the
 * msix lock held), as the event loop would: for tests and `mvm debug`.
 */
void msix_vectors_poll_now(struct msix_vectors *mv);

/* The owner's source raised vector v (any thread, no lock). */
static inline void msix_vectors_count_raised(struct msix_vectors *mv,
					     unsigned int v)
{
	__atomic_add_fetch(&mv->v[v].raised, 1, __ATOMIC_RELAXED);
}

/*
 * `mvm stat`: one line per vector that saw an interrupt, "DEV msix V
 * raised N via-mvm N masked N".  source: per-vector counts to print as
 * "raised" instead of the owner's own (a passthrough device's host
 * interrupt counts), NULL to use them, or NULL with !have_source to print
 * "-" when the owner does not count.  Takes the msix lock.
 */
void msix_vectors_stat(struct msix_vectors *mv, const char *dev,
		       const uint64_t *source, bool have_source, FILE *out);

#endif
