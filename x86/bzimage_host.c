// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side decompression of a bzImage: instead of loading the bzImage and
 * letting its decompressor (arch/x86/boot/compressed/) run as guest code,
 * mvm decompresses the payload here and enters the kernel proper at
 * startup_64 with the 64-bit boot protocol, as the ELF path does for a
 * vmlinux (elf_loader.c), with the bzImage's own setup header in the zero
 * page.
 *
 * The payload (boot.rst "payload_offset"/"payload_length", protocol 2.08+;
 * mvm needs 2.12 anyway) is vmlinux.bin: the vmlinux ELF stripped by
 * objcopy (arch/x86/boot/compressed/Makefile), its PT_LOAD segments at
 * their link-time physical addresses (from LOAD_PHYSICAL_ADDR, which the
 * header also gives as pref_address), followed on KASLR kernels by
 * vmlinux.relocs, which mvm does not need.  x86/decompress.c knows the
 * formats; the last 4 bytes of the payload are the decompressed size
 * (mkpiggy.c's z_output_len).
 *
 * Where the kernel goes, and why no relocation is needed.  The kernel's
 * decompressor (misc.c extract_kernel/parse_elf) decompresses into the
 * init_size window at the load address and memmoves each PT_LOAD to
 * load + (p_paddr - LOAD_PHYSICAL_ADDR).  mvm does the same, in guest RAM:
 * it places the image exactly as the guest-decompression path would
 * (bzimage_place(): pref_address if kernel and initrd fit, else as low as
 * kernel_alignment allows; init_size counted from there, the initrd above
 * that window), decompresses straight into the window and moves the
 * segments down in program-header order, as parse_elf does.  So the kernel
 * normally runs at its link-time physical address, and a host-decompressed
 * boot never needs more RAM than the guest-decompressed one.  Moving a
 * relocatable kernel elsewhere physically needs no relocation on x86-64:
 * startup_64 computes its load delta itself and fixes its page tables
 * (arch/x86/kernel/head64.c __startup_64, which only asks for a 2 MiB
 * aligned delta), and misc.c's handle_relocations() applies vmlinux.relocs
 * on x86-64 only when KASLR picked a different *virtual* address
 * ("64-bit relocations are only needed if KASLR has chosen a different
 * starting address offset from __START_KERNEL_map").  mvm picks none: the
 * kernel runs at its link-time virtual address, as with "nokaslr", and
 * KASLR_FLAG stays clear in loadflags so the kernel knows (it then also
 * leaves its memory regions unrandomized).  A kernel that is not
 * relocatable runs at its link address or not at all: if that is not
 * where its header says (pref_address), the guest decompresses it.
 *
 * Errors: everything about the header and the size field is checked before
 * guest RAM is written; a payload that turns out corrupt while being
 * decompressed is a one-line error with guest RAM from the load address up
 * already written, the zero page not (the VM never starts).  Fallbacks to
 * the guest's decompressor say so in one line: a format without a library
 * here (lzo, the old 1f 9e gzip magic, an unknown magic) and a kernel that
 * cannot be put where it must run.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "x86/boot.h"
#include "x86/decompress.h"
#include "x86/layout.h"
#include "core/util.h"

#define SIZE_FIELD		4
/* head64.c __startup_64: "Is the address not 2M aligned?" */
#define KERNEL_DELTA_ALIGN	(2 * MiB)

struct host_load {
	struct guest_mem *mem;
	const struct boot_config *cfg;
	const struct bzimage *bz;
	const struct bz_place *p;
	const char *label;		/* the bzImage */
	char dlabel[256];		/* its decompressed payload */
	const struct payload_format *fmt;
	uint64_t base;			/* where kernel and output go */
	size_t olen;
};

static const char host_fallback[] = "the kernel decompresses itself in the guest";

/* The payload inside the protected-mode kernel, bounds-checked. */
static int host_payload(struct host_load *h, const uint8_t **pl, size_t *len)
{
	const struct setup_header *hdr = &h->bz->hdr;

	if (hdr->payload_offset > h->bz->pm_len ||
	    hdr->payload_length > h->bz->pm_len - hdr->payload_offset) {
		pr_err("%s: truncated: payload_offset 0x%x + payload_length 0x%x run past the end of the protected-mode kernel (%zu bytes)",
		       h->label, hdr->payload_offset, hdr->payload_length,
		       h->bz->pm_len);
		return -ENODATA;
	}
	*pl = h->cfg->kernel.data + h->bz->pm_offset + hdr->payload_offset;
	*len = hdr->payload_length;
	return 0;
}

/* The decompressed size, from the payload's last 4 bytes. */
static int host_olen(struct host_load *h, const uint8_t *pl, size_t len)
{
	uint32_t init_size = h->bz->hdr.init_size;
	const char *what = h->fmt->sized ? "its size field says" : "it has";

	if (!h->fmt->sized) {
		h->olen = len;
	} else {
		if (len < h->fmt->magic_len + SIZE_FIELD) {
			pr_err("%s: corrupt %s payload: %zu bytes, too short for a compressed kernel",
			       h->label, h->fmt->name, len);
			return -EBADMSG;
		}
		h->olen = get_le32(pl + len - SIZE_FIELD);
	}
	/*
	 * init_size covers the decompressor's output buffer
	 * (arch/x86/boot/header.S INIT_SIZE >= ZO_INIT_SIZE, which holds
	 * z_output_len), and mvm decompresses into that window.
	 */
	if (h->olen > init_size) {
		pr_err("%s: corrupt %s payload: %s %zu bytes, more than the header's init_size (%u)",
		       h->label, h->fmt->name, what, h->olen, init_size);
		return -EBADMSG;
	}
	if (h->olen < sizeof(Elf64_Ehdr)) {
		pr_err("%s: corrupt %s payload: %s %zu bytes, too few for a vmlinux",
		       h->label, h->fmt->name, what, h->olen);
		return -EBADMSG;
	}
	return 0;
}

/*
 * The PT_LOADs, copied out of the image (the moves overwrite its
 * headers), in program-header order.
 */
static Elf64_Phdr *host_loads(const struct elf_kernel *k, unsigned int *nr)
{
	Elf64_Phdr *ph = calloc(k->eh.e_phnum ? k->eh.e_phnum : 1,
				sizeof(*ph));
	unsigned int i;

	*nr = 0;
	if (!ph)
		return NULL;
	for (i = 0; i < k->eh.e_phnum; i++) {
		elf_kernel_phdr(k, i, &ph[*nr]);
		if (elf_phdr_is_load(&ph[*nr]))
			(*nr)++;
	}
	return ph;
}

/*
 * Every segment inside the init_size window once moved by delta, and the
 * moves safe in order: segment i's destination must not overwrite the
 * bytes of a segment still to be moved (parse_elf relies on the same).
 */
static int host_check_moves(struct host_load *h, const Elf64_Phdr *ph,
			    unsigned int nr, uint64_t delta)
{
	uint64_t d, s, dj, end = h->p->end;
	unsigned int i, j;

	for (i = 0; i < nr; i++) {
		d = elf_phdr_phys(&ph[i]) + delta;
		if (d < h->base || d >= end || ph[i].p_memsz > end - d) {
			pr_err("%s: segment [0x%llx, +0x%llx) lies outside the init_size window [0x%llx, 0x%llx) of the header",
			       h->dlabel, (unsigned long long)d,
			       (unsigned long long)ph[i].p_memsz,
			       (unsigned long long)h->base,
			       (unsigned long long)end);
			return -EINVAL;
		}
		for (j = i + 1; j < nr; j++) {
			s = h->base + ph[j].p_offset;
			if (!ph[i].p_filesz || !ph[j].p_filesz ||
			    d >= s + ph[j].p_filesz ||
			    s >= d + ph[i].p_filesz)
				continue;
			dj = elf_phdr_phys(&ph[j]) + delta;
			pr_err("%s: segments cannot be moved into place in order: the one for 0x%llx would overwrite the bytes of the one for 0x%llx",
			       h->dlabel, (unsigned long long)d,
			       (unsigned long long)dj);
			return -EINVAL;
		}
	}
	return 0;
}

static int host_move(struct host_load *h, const Elf64_Phdr *ph,
		     unsigned int nr, uint64_t delta)
{
	uint8_t *dst, *src;
	unsigned int i;

	/* host_check_moves() kept everything inside the window, in RAM. */
	for (i = 0; i < nr; i++) {
		dst = gpa_to_hva(h->mem, elf_phdr_phys(&ph[i]) + delta,
				 ph[i].p_memsz);
		src = gpa_to_hva(h->mem, h->base + ph[i].p_offset,
				 ph[i].p_filesz);
		if (!dst || !src)
			return -EFAULT;
		memmove(dst, src, ph[i].p_filesz);
	}
	/* The bss and other p_memsz tails: after all moves, they overlap
	 * nothing that is still to be read. */
	for (i = 0; i < nr; i++) {
		dst = gpa_to_hva(h->mem, elf_phdr_phys(&ph[i]) + delta,
				 ph[i].p_memsz);
		memset(dst + ph[i].p_filesz, 0,
		       ph[i].p_memsz - ph[i].p_filesz);
	}
	return 0;
}

/*
 * The decompressed vmlinux at h->base: check it, move its segments into
 * place, return the entry point.  BZ_HOST_FALLBACK if it cannot run
 * where it is.
 */
static int host_place_elf(struct host_load *h, uint64_t *rip)
{
	struct boot_image img = {
		h->mem->host + h->base, h->olen, h->dlabel,
	};
	const struct setup_header *hdr = &h->bz->hdr;
	struct elf_kernel k;
	unsigned int nr;
	Elf64_Phdr *ph;
	uint64_t delta;
	int err;

	if (!elf_is_elf(&img)) {
		pr_err("%s: not an ELF vmlinux (starts %02x %02x %02x %02x): corrupt bzImage",
		       h->dlabel, img.data[0], img.data[1], img.data[2],
		       img.data[3]);
		return -ENOEXEC;
	}
	err = elf_kernel_parse(&img, &k);
	if (err)
		return err;
	delta = h->base - k.start;
	if (!hdr->relocatable_kernel && delta) {
		pr_info("%s: not relocatable, and linked at 0x%llx, not at 0x%llx where its header says it runs: %s",
			h->label, (unsigned long long)k.start,
			(unsigned long long)h->base, host_fallback);
		return BZ_HOST_FALLBACK;
	}
	if (delta % KERNEL_DELTA_ALIGN) {
		pr_info("%s: linked at 0x%llx, which is not 2 MiB away from its load address 0x%llx: %s",
			h->label, (unsigned long long)k.start,
			(unsigned long long)h->base, host_fallback);
		return BZ_HOST_FALLBACK;
	}
	ph = host_loads(&k, &nr);
	if (!ph)
		return -ENOMEM;
	err = host_check_moves(h, ph, nr, delta);
	if (!err)
		err = host_move(h, ph, nr, delta);
	free(ph);
	*rip = k.entry + delta;
	return err;
}

int bzimage_host_load(struct guest_mem *mem, const struct boot_config *cfg,
		      const struct bzimage *bz, const struct bz_place *p,
		      struct boot_entry *entry)
{
	struct host_load h = {
		.mem = mem, .cfg = cfg, .bz = bz, .p = p,
		.label = cfg->kernel.label,
	};
	const struct setup_header *hdr = &bz->hdr;
	struct boot_params *bp;
	const uint8_t *pl;
	char why[256];
	uint8_t *out;
	uint64_t rip;
	size_t len;
	int err;

	/* No payload: not a compressed kernel (mvm's own test guests). */
	if (!hdr->payload_length)
		return BZ_HOST_FALLBACK;
	err = host_payload(&h, &pl, &len);
	if (err)
		return err;
	h.fmt = payload_format(pl, len);
	if (!h.fmt) {
		pr_info("%s: payload of unknown format (magic %02x %02x): %s",
			h.label, pl[0], len > 1 ? pl[1] : 0, host_fallback);
		return BZ_HOST_FALLBACK;
	}
	if (!h.fmt->host) {
		pr_info("%s: %s payload: mvm has no decompressor for it, %s",
			h.label, h.fmt->name, host_fallback);
		return BZ_HOST_FALLBACK;
	}
	err = host_olen(&h, pl, len);
	if (err)
		return err;
	snprintf(h.dlabel, sizeof(h.dlabel), "%s (%s payload)", h.label,
		 h.fmt->name);

	/* bzimage_place() fitted [base, base + init_size) and the initrd. */
	h.base = bz->runtime_start ? bz->runtime_start : p->load;
	out = gpa_to_hva(mem, h.base, h.olen);
	if (!out || h.base + h.olen > p->end)
		return -EFAULT;
	err = payload_decompress(h.fmt, pl, len, out, h.olen, why,
				 sizeof(why));
	if (err) {
		pr_err("%s: cannot decompress its %s payload: %s (--no-host-decompress leaves it to the kernel)",
		       h.label, h.fmt->name, why);
		return err;
	}
	err = host_place_elf(&h, &rip);
	if (err)
		return err;

	/* A clean zero page with the image's setup header (boot.rst). */
	bp = boot_zero_page(mem);
	if (!bp)
		return -EFAULT;
	memcpy(&bp->hdr, cfg->kernel.data + offsetof(struct boot_params, hdr),
	       bz->hdr_len);
	/* boot.rst "code32_start": where the kernel was loaded. */
	bp->hdr.code32_start = (uint32_t)h.base;
	/* Set by the kernel's decompressor when it randomized: not here. */
	bp->hdr.loadflags &= (uint8_t)~KASLR_FLAG;
	err = boot_params_finish(mem, bp, cfg, p->initrd);
	if (err)
		return err;

	entry->rip = rip;
	entry->rsi = BOOT_ZERO_PAGE_ADDR;
	return 0;
}
