// SPDX-License-Identifier: GPL-2.0
/*
 * bzImage loader for the 64-bit boot protocol (Documentation/arch/x86/
 * boot.rst, "64-bit BOOT PROTOCOL").  The file is the real-mode setup
 * (boot sector + setup_sects sectors, with struct setup_header at 0x1f1)
 * followed by the protected-mode kernel.  We load only the latter, at a
 * kernel_alignment-aligned address, and enter it at load + 0x200 in long
 * mode with %rsi pointing at the zero page; the setup code never runs.
 * That is the guest-decompression path: by default, once the image is
 * parsed and placed, x86/bzimage_host.c decompresses the payload on the
 * host instead and enters the kernel proper, falling back to this path
 * for the formats and kernels it cannot take.
 *
 * Offsets are those of struct setup_header in
 * arch/x86/include/uapi/asm/bootparam.h (the header sits at 0x1f1 both in
 * the file and in struct boot_params).
 */
#include <stddef.h>

#include "x86/boot.h"
#include "x86/layout.h"
#include "core/util.h"

#define BZ_MIN_LEN		1024	/* boot sector + a setup sector */
#define BZ_HDR_OFFSET		0x1f1
#define BZ_BOOT_FLAG_OFFSET	0x1fe
#define BZ_BOOT_FLAG		0xaa55
#define BZ_JUMP_OFFSET		0x200	/* jmp short; 0x201: its offset */
#define BZ_MAGIC_OFFSET		0x202
#define BZ_MAGIC		0x53726448	/* "HdrS" */
#define BZ_MIN_VERSION		0x020c	/* 2.12: xloadflags */
#define BZ_SECTOR		512
#define BZ_DEFAULT_SETUP_SECTS	4	/* boot.rst: "if 0, the real value is 4" */
#define BZ_ENTRY64_OFFSET	0x200	/* boot.rst, "64-bit BOOT PROTOCOL" */
/* boot_params keeps [0x1f1, 0x290) for the header (edd_mbr_sig_buffer). */
#define BZ_HDR_SLOT_END	offsetof(struct boot_params, edd_mbr_sig_buffer)

_Static_assert(offsetof(struct boot_params, hdr) == BZ_HDR_OFFSET,
	       "setup_header lives at 0x1f1 of the zero page");

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static int bzimage_parse(const struct boot_image *img, struct bzimage *bz)
{
	const uint8_t *d = img->data;
	const struct setup_header *h = &bz->hdr;
	unsigned int setup_sects;
	uint64_t sys_bytes;

	if (img->len < BZ_MIN_LEN) {
		pr_err("%s: too short (%zu bytes) for a bzImage (at least %d) and not an ELF vmlinux",
		       img->label, img->len, BZ_MIN_LEN);
		return -ENOEXEC;
	}
	if (get_le16(d + BZ_BOOT_FLAG_OFFSET) != BZ_BOOT_FLAG) {
		pr_err("%s: not a bzImage (no boot signature 0xAA55 at 0x1fe) nor an ELF vmlinux",
		       img->label);
		return -ENOEXEC;
	}
	if (get_le32(d + BZ_MAGIC_OFFSET) != BZ_MAGIC) {
		pr_err("%s: no 'HdrS' signature at 0x202: not a Linux bzImage",
		       img->label);
		return -ENOEXEC;
	}
	/* The host is x86 too: the file's little-endian header maps 1:1. */
	memcpy(&bz->hdr, d + BZ_HDR_OFFSET, sizeof(bz->hdr));

	if (h->version < BZ_MIN_VERSION) {
		pr_err("%s: boot protocol %u.%02u is too old: mvm needs 2.12 or later (Linux 3.8+) for the 64-bit entry point",
		       img->label, h->version >> 8, h->version & 0xff);
		return -EPROTONOSUPPORT;
	}
	if (!(h->loadflags & LOADED_HIGH)) {
		pr_err("%s: loadflags lacks LOADED_HIGH: zImages loaded at 0x10000 are not supported",
		       img->label);
		return -EOPNOTSUPP;
	}
	if (!(h->xloadflags & XLF_KERNEL_64)) {
		pr_err("%s: no 64-bit entry point (xloadflags lacks XLF_KERNEL_64): mvm boots only x86-64 kernels",
		       img->label);
		return -EOPNOTSUPP;
	}

	/*
	 * boot.rst: "the header ... ends at 0x202 + [0x201]" (0x201 is the
	 * offset byte of the jump at 0x200).  Copy at most what fits in the
	 * zero page's slot for it; BZ_MIN_LEN covers the largest value.
	 */
	bz->hdr_len = MIN((size_t)BZ_MAGIC_OFFSET + d[BZ_JUMP_OFFSET + 1],
			  BZ_HDR_SLOT_END) - BZ_HDR_OFFSET;

	setup_sects = h->setup_sects ? h->setup_sects : BZ_DEFAULT_SETUP_SECTS;
	bz->pm_offset = (size_t)(setup_sects + 1) * BZ_SECTOR;
	if (bz->pm_offset >= img->len) {
		pr_err("%s: truncated: setup_sects %u puts the kernel at 0x%zx, past the end of the file (%zu bytes)",
		       img->label, setup_sects, bz->pm_offset, img->len);
		return -ENODATA;
	}
	bz->pm_len = img->len - bz->pm_offset;

	/*
	 * syssize is the protected-mode size in 16-byte paragraphs, rounded
	 * up (arch/x86/boot/tools/build.c), so a complete file has at least
	 * syssize * 16 - 15 bytes after the setup sectors.  More is fine
	 * (e.g. an appended signature).
	 */
	sys_bytes = (uint64_t)h->syssize * 16;
	if (!h->syssize) {
		pr_err("%s: syssize is 0: no protected-mode kernel", img->label);
		return -EINVAL;
	}
	if (sys_bytes > ALIGN_UP((uint64_t)bz->pm_len, 16)) {
		pr_err("%s: truncated: syssize says %llu bytes of kernel after the setup sectors, the file has %zu",
		       img->label, (unsigned long long)sys_bytes, bz->pm_len);
		return -ENODATA;
	}

	if (h->relocatable_kernel) {
		if (!is_pow2(h->kernel_alignment)) {
			pr_err("%s: kernel_alignment 0x%x is not a power of two",
			       img->label, h->kernel_alignment);
			return -EINVAL;
		}
		bz->runtime_start = 0;	/* wherever we load it */
	} else {
		/*
		 * boot.rst "pref_address": a non-relocatable kernel moves
		 * itself to pref_address, and init_size counts from there.
		 */
		bz->runtime_start = h->pref_address ? h->pref_address
						    : HIGH_MEMORY_START;
		if (bz->runtime_start < HIGH_MEMORY_START) {
			pr_err("%s: non-relocatable kernel wants to run at 0x%llx, below 1 MiB",
			       img->label,
			       (unsigned long long)bz->runtime_start);
			return -EINVAL;
		}
		/* Its init_size window must end in RAM below the PCI hole
		 * (and the sum must not wrap past 2^64). */
		if (bz->runtime_start > MMIO_HOLE_START ||
		    h->init_size > MMIO_HOLE_START - bz->runtime_start) {
			pr_err("%s: non-relocatable kernel wants to run at 0x%llx with init_size 0x%x, beyond the 3 GiB of RAM below the PCI hole: no guest can hold it",
			       img->label,
			       (unsigned long long)bz->runtime_start,
			       h->init_size);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * End of the memory the kernel needs before it reads the e820 map when
 * loaded at `load`: boot.rst "init_size" counts from the runtime start
 * address (the load address for a relocatable kernel).
 */
static uint64_t bzimage_window_end(const struct bzimage *bz, uint64_t load)
{
	uint64_t start = bz->runtime_start ? bz->runtime_start : load;

	/* Both sums are small: load < 3 GiB, pm_len the file's size; a
	 * runtime_start near 2^64 was refused when the header was read. */
	return MAX(load + bz->pm_len, start + bz->hdr.init_size);
}

/* Try `load`; 0 if kernel and initrd fit, else -ENOMEM or -ENOSPC. */
static int bzimage_try(const struct guest_mem *mem,
		       const struct boot_config *cfg,
		       const struct bzimage *bz, uint64_t load,
		       struct bz_place *p)
{
	uint64_t limit;

	p->load = load;
	p->end = bzimage_window_end(bz, load);
	p->initrd = 0;
	if (p->end > mem->low_size)
		return -ENOMEM;
	if (!cfg->initrd.data)
		return 0;
	limit = boot_initrd_limit(mem, bz->hdr.initrd_addr_max);
	p->initrd = boot_initrd_addr(cfg->initrd.len, p->end, limit);
	return p->initrd ? 0 : -ENOSPC;
}

/*
 * Load address: a relocatable kernel goes to pref_address rounded up to
 * kernel_alignment if kernel and initrd fit there, else as low as allowed
 * (1 MiB rounded up to kernel_alignment); a non-relocatable one goes to
 * 1 MiB, the classic bzImage address (boot.rst, "LOADING THE REST OF THE
 * KERNEL").  Either way the kernel stays above the zero page, command
 * line, boot page tables and BIOS area, which all live below 1 MiB.
 */
static int bzimage_place(const struct guest_mem *mem,
			 const struct boot_config *cfg,
			 const struct bzimage *bz, struct bz_place *p)
{
	const struct setup_header *h = &bz->hdr;
	uint64_t align = h->relocatable_kernel ? h->kernel_alignment : 1;
	uint64_t low = ALIGN_UP(HIGH_MEMORY_START, align);
	int err;

	if (h->relocatable_kernel && h->pref_address >= HIGH_MEMORY_START &&
	    h->pref_address < mem->low_size) {
		err = bzimage_try(mem, cfg, bz,
				  ALIGN_UP(h->pref_address, align), p);
		if (!err)
			return 0;
	}
	err = bzimage_try(mem, cfg, bz, low, p);
	if (err == -ENOMEM) {
		pr_err("%s: kernel needs RAM up to 0x%llx (loaded at 0x%llx, init_size 0x%x) but guest RAM below 3 GiB ends at 0x%llx: give the guest at least %llu MiB",
		       cfg->kernel.label, (unsigned long long)p->end,
		       (unsigned long long)p->load, h->init_size,
		       (unsigned long long)mem->low_size,
		       (unsigned long long)(boot_ram_needed(p->end) / MiB));
	} else if (err == -ENOSPC) {
		boot_initrd_nospace(cfg, p->end,
				    boot_initrd_limit(mem, h->initrd_addr_max));
	}
	return err;
}

int bzimage_load(struct guest_mem *mem, const struct boot_config *cfg,
		 struct boot_entry *entry)
{
	const uint8_t *d = cfg->kernel.data;
	struct boot_params *bp;
	struct bzimage bz;
	struct bz_place p;
	uint8_t *dst;
	int err;

	err = bzimage_parse(&cfg->kernel, &bz);
	if (err)
		return err;
	/* boot.rst "cmdline_size": the maximum without the terminating 0. */
	err = boot_cmdline_check(cfg, bz.hdr.cmdline_size, "cmdline_size");
	if (err)
		return err;
	err = boot_initrd_check(cfg);
	if (err)
		return err;
	err = bzimage_place(mem, cfg, &bz, &p);
	if (err)
		return err;
	if (!cfg->guest_decompress) {
		err = bzimage_host_load(mem, cfg, &bz, &p, entry);
		if (err != BZ_HOST_FALLBACK)
			return err;
	}

	/* Everything fits: from here on only guest RAM is written. */
	bp = boot_zero_page(mem);
	dst = gpa_to_hva(mem, p.load, bz.pm_len);
	if (!bp || !dst)
		return -EFAULT;
	/* A clean zero page with the image's setup header (boot.rst). */
	memcpy((uint8_t *)bp + BZ_HDR_OFFSET, d + BZ_HDR_OFFSET, bz.hdr_len);
	memcpy(dst, d + bz.pm_offset, bz.pm_len);
	/* boot.rst "code32_start": defaults to the load address. */
	bp->hdr.code32_start = (uint32_t)p.load;
	err = boot_params_finish(mem, bp, cfg, p.initrd);
	if (err)
		return err;

	entry->rip = p.load + BZ_ENTRY64_OFFSET;
	entry->rsi = BOOT_ZERO_PAGE_ADDR;
	return 0;
}
