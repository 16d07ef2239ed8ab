// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's page tables walked in guest RAM, as the MMU would (Intel SDM
 * vol. 3A, 4.3-4.5; AMD APM vol. 2, 5.3): for a debugger reading guest-
 * virtual memory while the vCPUs are stopped.  Accessed/dirty bits are
 * not set and permissions are not checked: a debugger sees everything
 * that is mapped.
 */
#include "core/guest_mem.h"
#include "core/util.h"
#include "x86/page_walk.h"

#define PAGE_SIZE_4K	4096ULL

#define PTE_P		(1ULL << 0)
#define PTE_PS		(1ULL << 7)
#define PTE_ADDR	0x000ffffffffff000ULL
#define CR0_PG		(1ULL << 31)
#define CR4_PSE		(1ULL << 4)
#define CR4_PAE		(1ULL << 5)
#define CR4_LA57	(1ULL << 12)
#define EFER_LMA	(1ULL << 10)

static int read_pte(const struct guest_mem *mem, uint64_t gpa,
		    unsigned int size, uint64_t *pte)
{
	const void *p = gpa_to_hva(mem, gpa, size);

	if (!p)
		return -EFAULT;
	*pte = size == 8 ? get_le64(p) : get_le32(p);
	return (*pte & PTE_P) ? 0 : -EFAULT;
}

static int map_to(uint64_t base, uint64_t size, uint64_t gva, uint64_t *gpa,
		  uint64_t *page_size)
{
	*gpa = (base & ~(size - 1)) | (gva & (size - 1));
	if (page_size)
		*page_size = size;
	return 0;
}

int x86_gva_to_gpa(const struct guest_mem *mem, const struct x86_mmu *mmu,
		   uint64_t gva, uint64_t *gpa, uint64_t *page_size)
{
	uint64_t pte, table;
	int level, levels;

	if (!(mmu->cr0 & CR0_PG))
		return map_to(gva & 0xffffffffULL, PAGE_SIZE_4K, gva, gpa,
			      page_size);
	if (mmu->efer & EFER_LMA) {
		unsigned int bits = (mmu->cr4 & CR4_LA57) ? 57 : 48;
		int64_t top = (int64_t)gva >> (bits - 1);

		if (top != 0 && top != -1)
			return -EFAULT;		/* non-canonical */
		levels = (mmu->cr4 & CR4_LA57) ? 5 : 4;
		table = mmu->cr3 & PTE_ADDR;
		for (level = levels; level >= 1; level--) {
			unsigned int shift = 12 + 9 * (unsigned int)(level - 1);

			if (read_pte(mem, table + ((gva >> shift) & 511) * 8, 8,
				     &pte))
				return -EFAULT;
			if (level == 1 || ((level == 2 || level == 3) &&
					   (pte & PTE_PS)))
				return map_to(pte & PTE_ADDR, 1ULL << shift, gva,
					      gpa, page_size);
			table = pte & PTE_ADDR;
		}
		return -EFAULT;
	}
	gva &= 0xffffffffULL;
	if (mmu->cr4 & CR4_PAE) {
		/* PDPT (4 entries) -> PD (2M pages) -> PT */
		if (read_pte(mem, (mmu->cr3 & 0xffffffe0ULL) + (gva >> 30) * 8,
			     8, &pte) ||
		    read_pte(mem, (pte & PTE_ADDR) + ((gva >> 21) & 511) * 8,
			     8, &pte))
			return -EFAULT;
		if (pte & PTE_PS)
			return map_to(pte & PTE_ADDR, 2 * MiB, gva, gpa,
				      page_size);
		if (read_pte(mem, (pte & PTE_ADDR) + ((gva >> 12) & 511) * 8,
			     8, &pte))
			return -EFAULT;
		return map_to(pte & PTE_ADDR, PAGE_SIZE_4K, gva, gpa,
			      page_size);
	}
	/* 32-bit: PD (4M pages with CR4.PSE, PSE-36 high bits) -> PT */
	if (read_pte(mem, (mmu->cr3 & 0xfffff000ULL) + (gva >> 22) * 4, 4,
		     &pte))
		return -EFAULT;
	if ((pte & PTE_PS) && (mmu->cr4 & CR4_PSE))
		return map_to((pte & 0xffc00000ULL) |
			      ((pte >> 13) & 0xffULL) << 32, 4 * MiB, gva, gpa,
			      page_size);
	if (read_pte(mem, (pte & 0xfffff000ULL) + ((gva >> 12) & 1023) * 4, 4,
		     &pte))
		return -EFAULT;
	return map_to(pte & 0xfffff000ULL, PAGE_SIZE_4K, gva, gpa, page_size);
}

