/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KVM memory slots and ioeventfds as devices see them (through
 * pci/devctx.h): the VM implements them (core/vm.c), unit tests fake them.
 */
#ifndef MVM_MEMSLOT_H
#define MVM_MEMSLOT_H

#include <stdbool.h>
#include <stdint.h>

struct memslot_ops {
	/* Map host memory at a guest-physical range; returns a slot or -errno. */
	int (*map)(void *opaque, uint64_t gpa, uint64_t size, void *hva);
	int (*unmap)(void *opaque, int slot);
};

struct ioeventfd_ops {
	/*
	 * KVM_IOEVENTFD: a guest write of `len` bytes to MMIO `addr` signals
	 * `fd` in the kernel, without an exit to mvm (any value).
	 */
	int (*assign)(void *opaque, uint64_t addr, unsigned int len, int fd,
		      bool assign);
};

#endif
