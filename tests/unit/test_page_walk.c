// SPDX-License-Identifier: GPL-2.0
/*
 * The guest page-table walker (x86/page_walk.c) on hand-built tables in a
 * synthetic guest RAM: 4-level long mode with 4K, 2M and 1G pages,
 * non-present entries at each level, non-canonical addresses, tables
 * outside RAM; 5-level, PAE, 32-bit (4M, PSE-36) and paging off.
 */
#include "tap.h"
#include "x86/page_walk.h"
#include "core/guest_mem.h"
#include "core/util.h"

#define P	0x1ULL
#define RW	0x2ULL
#define PS	0x80ULL
#define NX	(1ULL << 63)

#define CR0_PG		(1ULL << 31)
#define CR0_PE		1ULL
#define CR4_PSE		(1ULL << 4)
#define CR4_PAE		(1ULL << 5)
#define CR4_LA57	(1ULL << 12)
#define EFER_LMA	(1ULL << 10)
#define EFER_LME	(1ULL << 8)

static struct guest_mem mem;

static void pte64(uint64_t table, unsigned int idx, uint64_t v)
{
	put_le64(gpa_to_hva(&mem, table + idx * 8ULL, 8), v);
}

static void pte32(uint64_t table, unsigned int idx, uint32_t v)
{
	put_le32(gpa_to_hva(&mem, table + idx * 4ULL, 4), v);
}

static bool walks_to(const struct x86_mmu *mmu, uint64_t gva, uint64_t want,
		     uint64_t want_size)
{
	uint64_t gpa = 0, size = 0;
	int err = x86_gva_to_gpa(&mem, mmu, gva, &gpa, &size);

	if (err || gpa != want || size != want_size) {
		tap_diag("gva %#llx: err %d gpa %#llx size %#llx, want %#llx size %#llx",
			 (unsigned long long)gva, err, (unsigned long long)gpa,
			 (unsigned long long)size, (unsigned long long)want,
			 (unsigned long long)want_size);
		return false;
	}
	return true;
}

static bool faults(const struct x86_mmu *mmu, uint64_t gva)
{
	uint64_t gpa;

	return x86_gva_to_gpa(&mem, mmu, gva, &gpa, NULL) == -EFAULT;
}

static void test_long_mode(void)
{
	struct x86_mmu mmu = {
		.cr0 = CR0_PG | CR0_PE, .cr3 = 0x10000 | 0x18 /* PWT|PCD */,
		.cr4 = CR4_PAE, .efer = EFER_LMA | EFER_LME,
	};
	uint64_t gpa;

	/* PML4 0x10000; PDPT 0x11000; PD 0x12000; PT 0x13000. */
	pte64(0x10000, 0, 0x11000 | P | RW);
	pte64(0x11000, 0, 0x12000 | P | RW);
	pte64(0x12000, 0, 0x13000 | P | RW);
	pte64(0x13000, 5, 0x7000 | P | NX);
	pte64(0x13000, 6, 0x8000);			/* not present */
	pte64(0x12000, 1, 0x600000 | P | PS);		/* 2M */
	pte64(0x11000, 1, 0x80000000ULL | P | PS);	/* 1G */
	pte64(0x11000, 2, 0x0);				/* no PD */
	pte64(0x10000, 2, 0x7ff00000000ULL | P);	/* PDPT past RAM */
	/* Kernel half: PML4[511] -> PDPT 0x14000 [510] -> PD 0x15000 [8] */
	pte64(0x10000, 511, 0x14000 | P);
	pte64(0x14000, 510, 0x15000 | P);
	pte64(0x15000, 8, 0x1000000 | P | PS | NX | (1ULL << 12) /* PAT */);

	ok(walks_to(&mmu, 0x5abc, 0x7abc, 4096), "4K page (NX bit ignored)");
	ok(walks_to(&mmu, 0x201234, 0x601234, 2 * MiB), "2M page");
	ok(walks_to(&mmu, 0x40001234, 0x80001234ULL, GiB), "1G page");
	ok(walks_to(&mmu, 0x7fffffff, 0xbfffffffULL, GiB), "1G page, last byte");
	ok(walks_to(&mmu, 0xffffffff81012345ULL, 0x1012345, 2 * MiB),
	   "kernel-half 2M page (PAT bit is not address)");
	ok(faults(&mmu, 0x6000), "non-present PTE");
	ok(faults(&mmu, 0x400000), "non-present PDE");
	ok(faults(&mmu, 0x80000000ULL), "non-present PDPTE");
	ok(faults(&mmu, 0x8000000000ULL), "non-present PML4E");
	ok(faults(&mmu, 0x10000000000ULL), "PDPT outside guest RAM");
	ok(faults(&mmu, 0x0000800000000000ULL), "non-canonical (low)");
	ok(faults(&mmu, 0xffff7fffffffffffULL), "non-canonical (high)");
	gpa = 0;
	ok(x86_gva_to_gpa(&mem, &mmu, 0x5000, &gpa, NULL) == 0 &&
	   gpa == 0x7000, "page_size may be NULL");

	/* 5-level: PML5 0x16000 [0] -> the same PML4. */
	pte64(0x16000, 0, 0x10000 | P);
	mmu.cr3 = 0x16000;
	mmu.cr4 |= CR4_LA57;
	ok(walks_to(&mmu, 0x5abc, 0x7abc, 4096), "5-level: 4K page");
	ok(walks_to(&mmu, 0x40000000ULL, 0x80000000ULL, GiB), "5-level: 1G page");
	ok(faults(&mmu, 0x0001000000000000ULL),
	   "5-level: PML5[1] not present");
	ok(faults(&mmu, 0x0100000000000000ULL), "5-level: non-canonical");
}

static void test_legacy(void)
{
	struct x86_mmu off = { .cr0 = CR0_PE };
	struct x86_mmu pae = { .cr0 = CR0_PG | CR0_PE, .cr3 = 0x20020,
			       .cr4 = CR4_PAE };
	struct x86_mmu m32 = { .cr0 = CR0_PG | CR0_PE, .cr3 = 0x30000,
			       .cr4 = CR4_PSE };

	ok(walks_to(&off, 0x123456, 0x123456, 4096), "paging off: identity");

	/* PAE: PDPT at 0x20020 (32-byte aligned) -> PD 0x21000 -> PT 0x22000 */
	pte64(0x20020, 0, 0x21000 | P);
	pte64(0x21000, 0, 0x22000 | P);
	pte64(0x22000, 1, 0x9000 | P);
	pte64(0x21000, 1, 0xa00000 | P | PS);
	ok(walks_to(&pae, 0x1234, 0x9234, 4096), "PAE: 4K page");
	ok(walks_to(&pae, 0x212345, 0xa12345, 2 * MiB), "PAE: 2M page");
	ok(faults(&pae, 0x40000000), "PAE: PDPTE not present");
	ok(faults(&pae, 0x2000), "PAE: PTE not present");

	/* 32-bit: PD 0x30000 -> PT 0x31000, 4-byte entries. */
	pte32(0x30000, 0, 0x31000 | P);
	pte32(0x31000, 2, 0xb000 | P);
	pte32(0x30000, 1, 0xc00000 | P | PS);
	pte32(0x30000, 2, 0x400000 | P | PS | (0x3 << 13));	/* PSE-36 */
	ok(walks_to(&m32, 0x2123, 0xb123, 4096), "32-bit: 4K page");
	ok(walks_to(&m32, 0x400345, 0xc00345, 4 * MiB), "32-bit: 4M page");
	ok(walks_to(&m32, 0x800345, 0x300400345ULL, 4 * MiB),
	   "32-bit: PSE-36 high address bits");
	ok(faults(&m32, 0x3000), "32-bit: PTE not present");
	ok(faults(&m32, 0xc00000), "32-bit: PDE not present");
}

int main(void)
{
	if (guest_mem_init(&mem, 32 * MiB)) {
		tap_skip_all("cannot allocate guest RAM");
		return 0;
	}
	test_long_mode();
	test_legacy();
	guest_mem_destroy(&mem);
	return tap_done();
}
