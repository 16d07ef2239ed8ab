// SPDX-License-Identifier: GPL-2.0
/*
 * ELF vmlinux loader.  An uncompressed x86-64 vmlinux is an ET_EXEC whose
 * PT_LOAD segments carry physical load addresses in p_paddr (the kernel's
 * linker script uses AT(ADDR(section) - LOAD_OFFSET)), and whose e_entry
 * is the physical address of startup_64 (ENTRY(phys_startup_64) in
 * arch/x86/kernel/vmlinux.lds.S).  startup_64 expects what the 64-bit boot
 * protocol provides - long mode, identity map, %rsi = zero page - because
 * it is where the bzImage decompressor itself jumps.
 *
 * There is no setup header in a vmlinux, so the zero page gets a
 * synthesized one saying what a protocol 2.15 loader would.
 */
#include <elf.h>

#include "x86/boot.h"
#include "x86/layout.h"
#include "core/util.h"

/* Virtual base of the kernel image mapping (__START_KERNEL_map). */
#define ELF_KERNEL_VBASE	0xffffffff80000000ULL
/*
 * A vmlinux has no cmdline_size field; x86's COMMAND_LINE_SIZE is 2048
 * including the NUL (arch/x86/include/asm/setup.h), and the kernel would
 * silently cut a longer line.
 */
#define ELF_CMDLINE_MAX		2047
#define ELF_BOOT_PROTOCOL	0x020f
#define BOOT_HDRS_MAGIC		0x53726448	/* "HdrS" */

bool elf_is_elf(const struct boot_image *img)
{
	return img->len >= SELFMAG && !memcmp(img->data, ELFMAG, SELFMAG);
}

void elf_kernel_phdr(const struct elf_kernel *k, unsigned int i,
		     Elf64_Phdr *ph)
{
	/* Bounds checked by elf_check_header(); memcpy for alignment. */
	memcpy(ph, k->img->data + k->eh.e_phoff + (uint64_t)i * sizeof(*ph),
	       sizeof(*ph));
}

bool elf_phdr_is_load(const Elf64_Phdr *ph)
{
	return ph->p_type == PT_LOAD && ph->p_memsz;
}

/*
 * Physical address of a segment: p_paddr, unless a tool left it zero, in
 * which case a kernel-map virtual address is turned back into physical.
 */
uint64_t elf_phdr_phys(const Elf64_Phdr *ph)
{
	if (ph->p_paddr)
		return ph->p_paddr;
	if (ph->p_vaddr >= ELF_KERNEL_VBASE)
		return ph->p_vaddr - ELF_KERNEL_VBASE;
	return ph->p_vaddr;
}

static int elf_check_header(const struct boot_image *img, Elf64_Ehdr *eh)
{
	const uint8_t *id = img->data;

	if (img->len < EI_NIDENT) {
		pr_err("%s: truncated: ELF identification needs %d bytes, the file has %zu",
		       img->label, EI_NIDENT, img->len);
		return -ENODATA;
	}
	if (id[EI_CLASS] != ELFCLASS64) {
		pr_err("%s: %s ELF: mvm boots only 64-bit (x86-64) kernels",
		       img->label,
		       id[EI_CLASS] == ELFCLASS32 ? "32-bit" : "unknown-class");
		return -ENOEXEC;
	}
	if (img->len < sizeof(*eh)) {
		pr_err("%s: truncated: ELF header needs %zu bytes, the file has %zu",
		       img->label, sizeof(*eh), img->len);
		return -ENODATA;
	}
	memcpy(eh, img->data, sizeof(*eh));
	if (id[EI_DATA] != ELFDATA2LSB) {
		pr_err("%s: big-endian ELF: mvm boots only x86-64 kernels",
		       img->label);
		return -ENOEXEC;
	}
	if (eh->e_machine != EM_X86_64) {
		pr_err("%s: ELF machine %u is not x86-64 (%u)", img->label,
		       eh->e_machine, EM_X86_64);
		return -ENOEXEC;
	}
	if (eh->e_type != ET_EXEC) {
		pr_err("%s: ELF type %u is not an executable (ET_EXEC): not a vmlinux",
		       img->label, eh->e_type);
		return -ENOEXEC;
	}
	if (eh->e_phnum && eh->e_phentsize != sizeof(Elf64_Phdr)) {
		pr_err("%s: ELF program header size %u, expected %zu",
		       img->label, eh->e_phentsize, sizeof(Elf64_Phdr));
		return -EINVAL;
	}
	if (eh->e_phoff > img->len ||
	    eh->e_phnum * sizeof(Elf64_Phdr) > img->len - eh->e_phoff) {
		pr_err("%s: truncated: %u program headers at 0x%llx run past the end of the file (%zu bytes)",
		       img->label, eh->e_phnum,
		       (unsigned long long)eh->e_phoff, img->len);
		return -ENODATA;
	}
	return 0;
}

/* Check one PT_LOAD against the file. */
static int elf_check_segment(const struct boot_image *img, unsigned int i,
			     const Elf64_Phdr *ph)
{
	if (ph->p_filesz > ph->p_memsz) {
		pr_err("%s: segment %u: p_filesz 0x%llx exceeds p_memsz 0x%llx",
		       img->label, i, (unsigned long long)ph->p_filesz,
		       (unsigned long long)ph->p_memsz);
		return -EINVAL;
	}
	if (ph->p_offset > img->len ||
	    ph->p_filesz > img->len - ph->p_offset) {
		pr_err("%s: truncated: segment %u (0x%llx bytes at file offset 0x%llx) runs past the end of the file (%zu bytes)",
		       img->label, i, (unsigned long long)ph->p_filesz,
		       (unsigned long long)ph->p_offset, img->len);
		return -ENODATA;
	}
	if (elf_phdr_phys(ph) + ph->p_memsz < elf_phdr_phys(ph)) {
		pr_err("%s: segment %u [0x%llx, +0x%llx) wraps around the address space",
		       img->label, i, (unsigned long long)elf_phdr_phys(ph),
		       (unsigned long long)ph->p_memsz);
		return -EINVAL;
	}
	return 0;
}

/*
 * Validate all PT_LOADs against the file (bounds, pairwise overlap) and
 * record their physical span.
 */
static int elf_check_segments(struct elf_kernel *k)
{
	const struct boot_image *img = k->img;
	unsigned int i, j, nr = 0;
	Elf64_Phdr a, b;
	int err;

	k->start = UINT64_MAX;
	k->end = 0;
	for (i = 0; i < k->eh.e_phnum; i++) {
		elf_kernel_phdr(k, i, &a);
		if (!elf_phdr_is_load(&a))
			continue;
		err = elf_check_segment(img, i, &a);
		if (err)
			return err;
		nr++;
		k->start = MIN(k->start, elf_phdr_phys(&a));
		k->end = MAX(k->end, elf_phdr_phys(&a) + a.p_memsz);
		for (j = 0; j < i; j++) {
			uint64_t sa = elf_phdr_phys(&a), sb;

			elf_kernel_phdr(k, j, &b);
			if (!elf_phdr_is_load(&b))
				continue;
			sb = elf_phdr_phys(&b);
			if (sa < sb + b.p_memsz && sb < sa + a.p_memsz) {
				pr_err("%s: segments %u and %u overlap at 0x%llx",
				       img->label, j, i,
				       (unsigned long long)MAX(sa, sb));
				return -EINVAL;
			}
		}
	}
	if (!nr) {
		pr_err("%s: ELF has no PT_LOAD segment: nothing to load",
		       img->label);
		return -ENOEXEC;
	}
	return 0;
}

/*
 * e_entry of a vmlinux is already physical; accept a virtual one too by
 * translating it through the segment that contains it.
 */
static int elf_entry(struct elf_kernel *k)
{
	uint64_t e = k->eh.e_entry;
	unsigned int i;
	Elf64_Phdr ph;

	for (i = 0; i < k->eh.e_phnum; i++) {
		elf_kernel_phdr(k, i, &ph);
		if (elf_phdr_is_load(&ph) && e >= elf_phdr_phys(&ph) &&
		    e - elf_phdr_phys(&ph) < ph.p_memsz) {
			k->entry = e;
			return 0;
		}
	}
	for (i = 0; i < k->eh.e_phnum; i++) {
		elf_kernel_phdr(k, i, &ph);
		if (elf_phdr_is_load(&ph) && e >= ph.p_vaddr &&
		    e - ph.p_vaddr < ph.p_memsz) {
			k->entry = elf_phdr_phys(&ph) + (e - ph.p_vaddr);
			return 0;
		}
	}
	pr_err("%s: ELF entry point 0x%llx is not inside any loaded segment",
	       k->img->label, (unsigned long long)e);
	return -EINVAL;
}

int elf_kernel_parse(const struct boot_image *img, struct elf_kernel *k)
{
	int err;

	memset(k, 0, sizeof(*k));
	k->img = img;
	err = elf_check_header(img, &k->eh);
	if (!err)
		err = elf_check_segments(k);
	if (!err)
		err = elf_entry(k);
	return err;
}

/* Each PT_LOAD inside guest RAM, above the low 1 MiB mvm keeps. */
static int elf_check_ram(const struct guest_mem *mem,
			 const struct elf_kernel *k)
{
	const char *label = k->img->label;
	uint64_t pa, need;
	unsigned int i;
	Elf64_Phdr ph;

	for (i = 0; i < k->eh.e_phnum; i++) {
		elf_kernel_phdr(k, i, &ph);
		if (!elf_phdr_is_load(&ph))
			continue;
		pa = elf_phdr_phys(&ph);
		if (pa < HIGH_MEMORY_START) {
			pr_err("%s: segment %u at 0x%llx is below 1 MiB, where mvm keeps the zero page and boot tables",
			       label, i, (unsigned long long)pa);
			return -EINVAL;
		}
		if (pa < mem->low_size && ph.p_memsz <= mem->low_size - pa)
			continue;
		if (pa >= MMIO_HOLE_START ||
		    ph.p_memsz > MMIO_HOLE_START - pa) {
			pr_err("%s: segment %u [0x%llx, +0x%llx) is outside guest RAM: mvm loads kernels below 3 GiB",
			       label, i, (unsigned long long)pa,
			       (unsigned long long)ph.p_memsz);
		} else {
			need = boot_ram_needed(pa + ph.p_memsz) / MiB;
			pr_err("%s: segment %u [0x%llx, +0x%llx) is outside guest RAM (ends at 0x%llx): give the guest at least %llu MiB",
			       label, i, (unsigned long long)pa,
			       (unsigned long long)ph.p_memsz,
			       (unsigned long long)mem->low_size,
			       (unsigned long long)need);
		}
		return -ENOMEM;
	}
	return 0;
}

static int elf_copy_segments(struct guest_mem *mem,
			     const struct elf_kernel *k)
{
	unsigned int i;
	Elf64_Phdr ph;
	uint8_t *dst;

	for (i = 0; i < k->eh.e_phnum; i++) {
		elf_kernel_phdr(k, i, &ph);
		if (!elf_phdr_is_load(&ph))
			continue;
		dst = gpa_to_hva(mem, elf_phdr_phys(&ph), ph.p_memsz);
		if (!dst)
			return -EFAULT;
		memcpy(dst, k->img->data + ph.p_offset, ph.p_filesz);
		/* The bss: guest RAM may hold a previous boot's bytes. */
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
	}
	return 0;
}

/* What a bzImage's header would have told the kernel (boot.rst fields). */
static void elf_synth_header(struct setup_header *h)
{
	h->boot_flag = 0xaa55;
	h->header = BOOT_HDRS_MAGIC;
	h->version = ELF_BOOT_PROTOCOL;
	h->loadflags = LOADED_HIGH;
	h->initrd_addr_max = (uint32_t)BOOT_INITRD_ADDR_MAX_DEFAULT;
	h->cmdline_size = ELF_CMDLINE_MAX;
	h->hardware_subarch = X86_SUBARCH_PC;
}

int elf_kernel_load(struct guest_mem *mem, const struct boot_config *cfg,
		    struct boot_entry *entry)
{
	uint64_t initrd = 0, limit;
	struct boot_params *bp;
	struct elf_kernel k;
	int err;

	err = elf_kernel_parse(&cfg->kernel, &k);
	if (!err)
		err = elf_check_ram(mem, &k);
	if (!err)
		err = boot_cmdline_check(cfg, ELF_CMDLINE_MAX,
					 "x86 COMMAND_LINE_SIZE, vmlinux has no cmdline_size");
	if (!err)
		err = boot_initrd_check(cfg);
	if (err)
		return err;
	if (cfg->initrd.data) {
		limit = boot_initrd_limit(mem, BOOT_INITRD_ADDR_MAX_DEFAULT);
		initrd = boot_initrd_addr(cfg->initrd.len, k.end, limit);
		if (!initrd)
			return boot_initrd_nospace(cfg, k.end, limit);
	}

	/* Everything fits: from here on only guest RAM is written. */
	bp = boot_zero_page(mem);
	if (!bp)
		return -EFAULT;
	err = elf_copy_segments(mem, &k);
	if (err)
		return err;
	elf_synth_header(&bp->hdr);
	err = boot_params_finish(mem, bp, cfg, initrd);
	if (err)
		return err;

	entry->rip = k.entry;
	entry->rsi = BOOT_ZERO_PAGE_ADDR;
	return 0;
}
