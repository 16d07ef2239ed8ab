/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The KVM-less test machine: the board (machine.c) with its PCI step, on
 * a VM whose KVM is fake.  Guest RAM, the two I/O buses, the PCI bus and
 * struct device_ctx are the board's own; the GSI router runs on
 * fake_kvm, memory slots and ioeventfds are recorded here, INTx levels
 * too.  Device models under test are created on `ctx` as the board would.
 */
#ifndef MVM_TEST_MACHINE_H
#define MVM_TEST_MACHINE_H

#include <stdbool.h>

#include "lib/fake_kvm.h"
#include "machine.h"

#define TEST_MAX_IOEVENTFDS	64

struct test_ioeventfd {
	uint64_t addr;
	unsigned int len;
	int fd;
};

struct test_machine_opts {
	unsigned int nr_gsis;		/* 0: 1024 */
	bool ioeventfd;			/* offer (fake) KVM_IOEVENTFD */
	bool loop;			/* run the event loop thread */
};

struct test_machine {
	struct machine board;
	struct fake_kvm *kvm;
	/* The board's parts, for the tests' convenience. */
	struct iobus *pio, *mmio;
	struct pci_bus *pci;
	struct guest_mem *mem;
	struct irq_router *router;
	struct evloop *loop;		/* NULL without opts.loop */
	struct device_ctx *ctx;
	/* Fake KVM_IOEVENTFD: what is assigned now. */
	struct test_ioeventfd ioev[TEST_MAX_IOEVENTFDS];
	unsigned int nr_ioev;
	unsigned int ioev_assigns, ioev_deassigns;
	bool ioev_fail;			/* refuse assignments */
	/* Fake memory slots. */
	unsigned int slots_mapped;
	unsigned int slot_maps, slot_unmaps;
	/* INTx: level of each GSI, and how often each went high. */
	int intx_level[32];
	unsigned int intx_raises[32];
};

/* 64 MiB of RAM, the board's PCI bus, the router on `kvm` (reset). */
int test_machine_init(struct test_machine *t, struct fake_kvm *kvm,
		      const struct test_machine_opts *opts);
void test_machine_destroy(struct test_machine *t);

#endif
