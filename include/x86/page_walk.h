/* SPDX-License-Identifier: GPL-2.0 */
/* Guest-virtual to guest-physical through the guest's own page tables. */
#ifndef MVM_PAGE_WALK_H
#define MVM_PAGE_WALK_H

#include <stdint.h>

struct guest_mem;

/* The state a guest-virtual address is translated with. */
struct x86_mmu {
	uint64_t cr0, cr3, cr4, efer;
};

/*
 * Walk the guest's page tables in guest RAM: paging off (identity),
 * 32-bit (4K/4M), PAE (4K/2M), 4- and 5-level long mode (4K/2M/1G).
 * Returns 0 and *gpa, or -EFAULT (not present, non-canonical, a table
 * outside RAM).  *page_size (may be NULL): the mapping's size.
 */
int x86_gva_to_gpa(const struct guest_mem *mem, const struct x86_mmu *mmu,
		   uint64_t gva, uint64_t *gpa, uint64_t *page_size);

#endif
