/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading a Linux kernel for the x86 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst): a bzImage or an ELF vmlinux goes into
 * guest RAM, the command line and initrd next to it, and a zero page
 * (struct boot_params) at BOOT_ZERO_PAGE_ADDR describes it all, including
 * the e820 memory map.  Everything here only writes into a struct
 * guest_mem; the vCPU is started elsewhere with rip/rsi from boot_entry.
 *
 * Every refusal prints one line naming the input file and the reason and
 * returns -errno; nothing is written to guest RAM unless the whole load is
 * known to fit.
 */
#ifndef MVM_BOOT_H
#define MVM_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <elf.h>
#include <asm/bootparam.h>
#include <asm/e820.h>		/* E820_RAM, E820_RESERVED */

#include "core/guest_mem.h"

struct boot_image {
	const uint8_t *data;
	size_t len;
	const char *label;	/* file name for messages */
};

struct boot_config {
	struct boot_image kernel;	/* bzImage or ELF vmlinux */
	struct boot_image initrd;	/* data == NULL: none */
	const char *cmdline;		/* full command line; NULL: empty */
	uint64_t rsdp_gpa;		/* 0: none; else acpi_rsdp_addr */
	/*
	 * --no-host-decompress: load a bzImage as is and let its own
	 * decompressor run in the guest, instead of decompressing its
	 * payload here (x86/bzimage_host.c).
	 */
	bool guest_decompress;
};

struct boot_entry {
	uint64_t rip;
	uint64_t rsi;		/* zero page GPA */
};

/*
 * Detect the kernel format and load it.  Errors (all with one message):
 *   -ENOEXEC          not a bzImage / ELF vmlinux, or an unusable ELF kind
 *   -EPROTONOSUPPORT  bzImage boot protocol older than 2.12
 *   -EOPNOTSUPP       bzImage lacks LOADED_HIGH or a 64-bit entry point
 *   -ENODATA          file truncated (payload or segment past end of file),
 *                     or a bzImage payload's compressed stream ends early
 *   -EINVAL           inconsistent header, overlapping segments, empty initrd
 *   -E2BIG            command line longer than the kernel accepts
 *   -ENOMEM           kernel does not fit in guest RAM
 *   -ENOSPC           initrd does not fit in guest RAM next to the kernel
 *   -EBADMSG          bzImage payload corrupt, or not the size it says
 *                     (host decompression; -ENOEXEC: not a vmlinux)
 * A bzImage's payload is decompressed here unless cfg->guest_decompress;
 * a format mvm has no decompressor for, or a kernel that would have to
 * move and cannot, is loaded as is with a one-line notice instead.  A
 * corrupt payload may leave guest RAM from the kernel's load address up
 * written (the zero page is not).
 */
int x86_boot_load(struct guest_mem *mem, const struct boot_config *cfg,
		  struct boot_entry *entry);

/*
 * e820 map matching guest_mem's layout; returns the number of entries,
 * -E2BIG if `max` is too small, -EINVAL if RAM ends below 1 MiB.
 */
int e820_build(const struct guest_mem *mem, struct boot_e820_entry *map,
	       unsigned int max);

/*
 * Loader internals shared by x86/bzimage.c, x86/elf_loader.c and
 * x86/zero_page.c (exposed for unit tests).
 */

/* Linux's own default for initrd_addr_max since protocol 2.03 kernels. */
#define BOOT_INITRD_ADDR_MAX_DEFAULT	0x7fffffffULL
/* Initrd start alignment: a page is all Linux needs (see zero_page.c). */
#define BOOT_INITRD_ALIGN		0x1000ULL
/* Our loader has no assigned id (boot.rst, "type_of_loader"). */
#define BOOT_LOADER_TYPE_UNDEFINED	0xff

int bzimage_load(struct guest_mem *mem, const struct boot_config *cfg,
		 struct boot_entry *entry);
int elf_kernel_load(struct guest_mem *mem, const struct boot_config *cfg,
		    struct boot_entry *entry);
/* True if the image starts with the ELF magic. */
bool elf_is_elf(const struct boot_image *img);

/* A bzImage as x86/bzimage.c parsed it. */
struct bzimage {
	struct setup_header hdr;	/* as found in the file */
	size_t hdr_len;			/* bytes to copy from 0x1f1 */
	size_t pm_offset;		/* protected-mode kernel in the file */
	size_t pm_len;
	uint64_t runtime_start;		/* 0 if relocatable */
};

/* Where bzimage.c places a bzImage: the load address and init_size. */
struct bz_place {
	uint64_t load;
	uint64_t end;			/* end of the init_size window */
	uint64_t initrd;
};

/*
 * Host decompression of a placed bzImage (x86/bzimage_host.c): 0 when
 * loaded, -errno after a one-line error, or BZ_HOST_FALLBACK when the
 * guest must decompress it (a one-line notice said why, unless the image
 * has no payload at all).
 */
#define BZ_HOST_FALLBACK	1
int bzimage_host_load(struct guest_mem *mem, const struct boot_config *cfg,
		      const struct bzimage *bz, const struct bz_place *p,
		      struct boot_entry *entry);

/* An ELF vmlinux checked against its file (x86/elf_loader.c). */
struct elf_kernel {
	const struct boot_image *img;
	Elf64_Ehdr eh;
	uint64_t start;		/* lowest PT_LOAD physical address */
	uint64_t end;		/* end of the highest PT_LOAD */
	uint64_t entry;		/* physical entry point */
};

/*
 * Check the ELF header, every PT_LOAD against the file (bounds, p_filesz
 * <= p_memsz, no two overlapping) and the entry point; one line and
 * -errno if something is wrong.  Guest RAM is not looked at.
 */
int elf_kernel_parse(const struct boot_image *img, struct elf_kernel *k);
/* Program header i (i < k->eh.e_phnum). */
void elf_kernel_phdr(const struct elf_kernel *k, unsigned int i,
		     Elf64_Phdr *ph);
/* A PT_LOAD with something in it. */
bool elf_phdr_is_load(const Elf64_Phdr *ph);
/* Its physical load address (p_paddr, or p_vaddr made physical). */
uint64_t elf_phdr_phys(const Elf64_Phdr *ph);

/*
 * Refuse a command line longer than max_len bytes (without the NUL) or
 * than our BOOT_CMDLINE_MAX buffer; `why` names the limit in the message.
 */
int boot_cmdline_check(const struct boot_config *cfg, uint64_t max_len,
		       const char *why);
/* Refuse an empty initrd file; 0 if there is none or it is non-empty. */
int boot_initrd_check(const struct boot_config *cfg);
/*
 * Highest BOOT_INITRD_ALIGN-aligned address for `size` bytes in
 * [lo, limit); 0 if it does not fit.  limit is exclusive.
 */
uint64_t boot_initrd_addr(uint64_t size, uint64_t lo, uint64_t limit);
/* Print the "initrd does not fit" message; returns -ENOSPC. */
int boot_initrd_nospace(const struct boot_config *cfg, uint64_t lo,
			uint64_t limit);
/* Exclusive top of the initrd window: min(initrd_addr_max + 1, low RAM). */
uint64_t boot_initrd_limit(const struct guest_mem *mem,
			   uint64_t initrd_addr_max);
/* Smallest RAM size (2 MiB multiple, as guest_mem wants) covering `end`. */
uint64_t boot_ram_needed(uint64_t end);

/* The zero page in guest RAM, cleared. */
struct boot_params *boot_zero_page(struct guest_mem *mem);
/*
 * Common tail of both loaders, once everything is known to fit: copy the
 * command line and initrd (at initrd_gpa) into RAM and fill the zero
 * page's loader-owned fields (type_of_loader, cmd_line_ptr, ramdisk_*,
 * e820 table, acpi_rsdp_addr).  The header must already be in bp->hdr.
 */
int boot_params_finish(struct guest_mem *mem, struct boot_params *bp,
		       const struct boot_config *cfg, uint64_t initrd_gpa);

#endif
