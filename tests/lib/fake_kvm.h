/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A recording stand-in for KVM's interrupt ioctls (struct kvm_irq_ops),
 * with KVM's delivery semantics where tests need them:
 *  - KVM_SET_GSI_ROUTING replaces the table;
 *  - an irqfd, when assigned to an eventfd that already has a count,
 *    injects at once (virt/kvm/eventfd.c: kvm_irqfd_assign checks the
 *    eventfd's pending state);
 *  - fake_kvm_poll() stands for KVM's eventfd wakeup: every assigned
 *    irqfd whose eventfd has a count injects the route committed for its
 *    GSI (one injection per poll, counts coalesce like a real eventfd);
 *  - KVM_SIGNAL_MSI injects the given message.
 * Injections are recorded as (address, data) in order.
 */
#ifndef MVM_FAKE_KVM_H
#define MVM_FAKE_KVM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/irq_router.h"

/* KVM_MAX_IRQ_ROUTES: entries of one table, irqchip routes included. */
#define FAKE_KVM_MAX_ROUTES	4096
#define FAKE_KVM_MAX_IRQFDS	4200
#define FAKE_KVM_MAX_MSGS	65536

struct fake_msg {
	uint64_t addr;
	uint32_t data;
	bool via_irqfd;
};

struct fake_kvm {
	pthread_mutex_t lock;
	unsigned int commits, irqfd_calls, signal_msi_calls;
	unsigned int nr_routes;
	struct kvm_irq_routing_entry routes[FAKE_KVM_MAX_ROUTES];
	unsigned int nr_irqfds;
	struct { int fd, gsi, resample; } irqfds[FAKE_KVM_MAX_IRQFDS];
	unsigned int nr_msgs;
	struct fake_msg msgs[FAKE_KVM_MAX_MSGS];
	int fail_commit;	/* next N commits fail with -EINVAL */
	int fail_irqfd;
};

extern const struct kvm_irq_ops fake_kvm_ops;
void fake_kvm_init(struct fake_kvm *k);
void fake_kvm_destroy(struct fake_kvm *k);
/* Forget routes, irqfds and recorded injections (a new VM). */
void fake_kvm_reset(struct fake_kvm *k);
/* Deliver pending irqfd events; returns how many were injected. */
unsigned int fake_kvm_poll(struct fake_kvm *k);
/* The committed MSI route of a GSI; false if none. */
bool fake_kvm_route(struct fake_kvm *k, int gsi, uint64_t *addr,
		    uint32_t *data);
bool fake_kvm_irqfd_assigned(struct fake_kvm *k, int fd);
/* Number of injections of `data` so far. */
unsigned int fake_kvm_count(struct fake_kvm *k, uint32_t data);

#endif
