// SPDX-License-Identifier: GPL-2.0
/*
 * The parts of the zero page (struct boot_params, "THE ZERO PAGE" in
 * Documentation/arch/x86/zero-page.rst) that do not depend on the kernel
 * format: command line, initrd placement, e820 table, RSDP pointer and the
 * loader-owned setup_header fields of Documentation/arch/x86/boot.rst.
 */
#include "x86/boot.h"
#include "x86/layout.h"
#include "core/util.h"

_Static_assert(sizeof(struct boot_params) == 0x1000,
	       "the zero page is exactly one page");
_Static_assert(BOOT_ZERO_PAGE_ADDR + 0x1000 <= BOOT_PML4_ADDR,
	       "zero page overlaps the boot page tables");

static size_t cmdline_len(const struct boot_config *cfg)
{
	return cfg->cmdline ? strlen(cfg->cmdline) : 0;
}

int boot_cmdline_check(const struct boot_config *cfg, uint64_t max_len,
		       const char *why)
{
	size_t len = cmdline_len(cfg);

	if (len > max_len) {
		pr_err("%s: command line too long: %zu bytes, the kernel accepts at most %llu (%s)",
		       cfg->kernel.label, len, (unsigned long long)max_len,
		       why);
		return -E2BIG;
	}
	/* Our buffer at BOOT_CMDLINE_ADDR must also hold the NUL. */
	if (len >= BOOT_CMDLINE_MAX) {
		pr_err("%s: command line too long: %zu bytes, mvm's command line buffer holds at most %llu",
		       cfg->kernel.label, len, BOOT_CMDLINE_MAX - 1);
		return -E2BIG;
	}
	return 0;
}

int boot_initrd_check(const struct boot_config *cfg)
{
	if (cfg->initrd.data && !cfg->initrd.len) {
		pr_err("%s: initrd is empty (0 bytes)", cfg->initrd.label);
		return -EINVAL;
	}
	return 0;
}

/*
 * The initrd goes as high as it can, like other loaders do, so the space
 * between the kernel and it stays free for the decompressor and KASLR.
 * Page alignment is all Linux asks for (it reserves the initrd with page
 * granularity); 2 MiB alignment would only waste up to 2 MiB of a small
 * guest's RAM.
 */
uint64_t boot_initrd_addr(uint64_t size, uint64_t lo, uint64_t limit)
{
	uint64_t addr;

	if (!size || size > limit)
		return 0;
	addr = ALIGN_DOWN(limit - size, BOOT_INITRD_ALIGN);
	return addr >= lo ? addr : 0;
}

uint64_t boot_initrd_limit(const struct guest_mem *mem,
			   uint64_t initrd_addr_max)
{
	/* boot.rst "initrd_addr_max": the highest address the initrd may
	 * occupy, i.e. its last byte, hence the + 1. */
	return MIN(initrd_addr_max + 1, mem->low_size);
}

uint64_t boot_ram_needed(uint64_t end)
{
	return ALIGN_UP(end, 2 * MiB);
}

int boot_initrd_nospace(const struct boot_config *cfg, uint64_t lo,
			uint64_t limit)
{
	uint64_t start = ALIGN_UP(lo, BOOT_INITRD_ALIGN);
	uint64_t space = limit > start ? limit - start : 0;

	pr_err("%s: initrd does not fit: %zu bytes, but only %llu bytes are free between the kernel (ends at 0x%llx) and 0x%llx; give the guest more RAM",
	       cfg->initrd.label, cfg->initrd.len, (unsigned long long)space,
	       (unsigned long long)lo, (unsigned long long)limit);
	return -ENOSPC;
}

struct boot_params *boot_zero_page(struct guest_mem *mem)
{
	struct boot_params *bp;

	bp = gpa_to_hva(mem, BOOT_ZERO_PAGE_ADDR, sizeof(*bp));
	if (bp)
		memset(bp, 0, sizeof(*bp));
	return bp;
}

int boot_params_finish(struct guest_mem *mem, struct boot_params *bp,
		       const struct boot_config *cfg, uint64_t initrd_gpa)
{
	size_t len = cmdline_len(cfg);
	uint8_t *dst;
	int n;

	/* Command line, NUL-terminated; boot_cmdline_check() sized it. */
	dst = gpa_to_hva(mem, BOOT_CMDLINE_ADDR, len + 1);
	if (!dst)
		return -EFAULT;
	if (len)
		memcpy(dst, cfg->cmdline, len);
	dst[len] = 0;
	bp->hdr.cmd_line_ptr = (uint32_t)BOOT_CMDLINE_ADDR;
	bp->ext_cmd_line_ptr = (uint32_t)(BOOT_CMDLINE_ADDR >> 32);

	bp->hdr.type_of_loader = BOOT_LOADER_TYPE_UNDEFINED;
	/*
	 * No CAN_USE_HEAP: heap_end_ptr is an offset into the real-mode
	 * setup code's segment and only that 16-bit code uses it.  With the
	 * 64-bit entry the setup code never runs (we do not even load it);
	 * the decompressor brings its own heap in its .bss.
	 */
	bp->hdr.loadflags &= (uint8_t)~CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = 0;
	/* No setup_data list: whatever the image's header held is void. */
	bp->hdr.setup_data = 0;

	if (cfg->initrd.data) {
		dst = gpa_to_hva(mem, initrd_gpa, cfg->initrd.len);
		if (!dst)
			return -EFAULT;
		memcpy(dst, cfg->initrd.data, cfg->initrd.len);
		/* Bits 32-63 go to ext_ramdisk_* (zero-page.rst, 0x0c0). */
		bp->hdr.ramdisk_image = (uint32_t)initrd_gpa;
		bp->ext_ramdisk_image = (uint32_t)(initrd_gpa >> 32);
		bp->hdr.ramdisk_size = (uint32_t)cfg->initrd.len;
		bp->ext_ramdisk_size =
			(uint32_t)((uint64_t)cfg->initrd.len >> 32);
	} else {
		bp->hdr.ramdisk_image = 0;
		bp->hdr.ramdisk_size = 0;
	}

	n = e820_build(mem, bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE);
	if (n < 0)
		return n;
	bp->e820_entries = (uint8_t)n;

	/* Read by kernels of protocol 2.14+; older ones ignore the field. */
	bp->acpi_rsdp_addr = cfg->rsdp_gpa;
	return 0;
}
