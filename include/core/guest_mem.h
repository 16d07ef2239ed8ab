/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest RAM (anonymous, or a file when shared; hugetlbfs pages on
 * request) split around the 32-bit MMIO hole: guest-physical [0,
 * low_size) at host, [4 GiB, 4 GiB + high_size) at high_host, each
 * followed by a guard gap.  Every host access to guest memory goes
 * through gpa_to_hva(), which checks bounds.
 */
#ifndef MVM_GUEST_MEM_H
#define MVM_GUEST_MEM_H

#include <stdint.h>
#include <stddef.h>

#include <stdbool.h>

struct guest_mem {
	uint8_t *host;		/* low RAM, aligned to `align` (guest_mem.c) */
	uint8_t *high_host;	/* high RAM (NULL: none), after a guard gap */
	uint64_t map_len;	/* the reservation: RAM and guard gaps */
	uint64_t size;		/* total RAM bytes */
	uint64_t low_size;	/* RAM below the MMIO hole */
	uint64_t high_size;	/* RAM from HIGH_RAM_START */
	uint64_t align;		/* of host: 2 MiB, 1 GiB from 1 GiB of RAM */
	uint64_t page_size;	/* hugetlb page size, else 4 KiB */
	unsigned int flags;	/* GUEST_MEM_* it was made with */
	int fd;			/* shared RAM: its file; -1: private */
};

enum {
	/*
	 * A file mapped MAP_SHARED, so another process (a vhost-user
	 * back-end) can map guest RAM from mem->fd: byte i of the file is
	 * guest RAM byte i (low region, then high).  The file is on a
	 * private tmpfs with transparent huge pages (huge=always) when mvm
	 * can mount one (root, or a user namespace), else a memfd.
	 */
	GUEST_MEM_SHARED	= 1U << 0,
	/* hugetlbfs pages of the default size (MAP_HUGETLB / MFD_HUGETLB),
	 * reserved at allocation: -ENOMEM when the host has too few. */
	GUEST_MEM_HUGETLB	= 1U << 1,
	/* Every page allocated now (MADV_POPULATE_WRITE). */
	GUEST_MEM_PREALLOC	= 1U << 2,
	/* More than the host has available is allowed (vm_memory_alloc()
	 * refuses it otherwise); guest_mem itself ignores this. */
	GUEST_MEM_OVERCOMMIT	= 1U << 3,
};

/*
 * Allocate `size` bytes of guest RAM (a multiple of 2 MiB, and of the
 * huge page size with GUEST_MEM_HUGETLB); returns 0 or -errno.
 */
int guest_mem_alloc(struct guest_mem *mem, uint64_t size, unsigned int flags);
/* guest_mem_alloc() with no flags / with GUEST_MEM_SHARED. */
int guest_mem_init(struct guest_mem *mem, uint64_t size);
int guest_mem_init_shared(struct guest_mem *mem, uint64_t size);
void guest_mem_destroy(struct guest_mem *mem);

/* The host's default huge page size in bytes (0: none). */
uint64_t guest_mem_hugepage_size(void);
/* Field `key` of /proc/meminfo (or a file in its format); -1: none. */
long long guest_mem_meminfo(const char *meminfo, const char *key);

/* How guest RAM is backed now, from /proc/self/smaps (or a file like it). */
struct guest_mem_usage {
	uint64_t resident_kb;
	uint64_t huge_kb;	/* THP or hugetlbfs */
};
int guest_mem_usage(const struct guest_mem *mem, struct guest_mem_usage *u);
int guest_mem_usage_from(const struct guest_mem *mem, const char *smaps,
			 struct guest_mem_usage *u);
/* Host pointer for [gpa, gpa+len) if it lies entirely in one RAM region. */
void *gpa_to_hva(const struct guest_mem *mem, uint64_t gpa, uint64_t len);
/* End of guest-physical RAM (exclusive), used to place the 64-bit window. */
uint64_t guest_mem_top(const struct guest_mem *mem);

#endif
