/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest RAM: one anonymous MAP_NORESERVE mapping, 2 MiB-aligned so KVM
 * can map transparent huge pages whole, split around the 32-bit MMIO
 * hole.  Bytes [0, low_size) are guest-physical [0, low_size); the rest
 * is guest-physical [4 GiB, 4 GiB + high_size).  Every host access to guest
 * memory goes through gpa_to_hva(), which checks bounds.
 */
#ifndef MVM_GUEST_MEM_H
#define MVM_GUEST_MEM_H

#include <stdint.h>
#include <stddef.h>

struct guest_mem {
	uint8_t *host;
	uint64_t size;		/* total RAM bytes */
	uint64_t low_size;	/* RAM below the MMIO hole */
	uint64_t high_size;	/* RAM from HIGH_RAM_START */
	int fd;			/* shared RAM: its file; -1: private */
};

/* Allocate `size` bytes of guest RAM; returns 0 or -errno. */
int guest_mem_init(struct guest_mem *mem, uint64_t size);
/*
 * The same, as a file mapped MAP_SHARED, so another process (a
 * vhost-user back-end) can map guest RAM from mem->fd: byte i of the
 * file is byte i of mem->host.  The file is on a private tmpfs with
 * transparent huge pages (huge=always) when mvm can mount one (root, or
 * a user namespace), else a memfd.
 */
int guest_mem_init_shared(struct guest_mem *mem, uint64_t size);
void guest_mem_destroy(struct guest_mem *mem);
/* Host pointer for [gpa, gpa+len) if it lies entirely in one RAM region. */
void *gpa_to_hva(const struct guest_mem *mem, uint64_t gpa, uint64_t len);
/* End of guest-physical RAM (exclusive), used to place the 64-bit window. */
uint64_t guest_mem_top(const struct guest_mem *mem);

#endif
