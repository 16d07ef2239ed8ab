// SPDX-License-Identifier: GPL-2.0
/*
 * The ELF vmlinux path of x86_boot_load() on synthetic ELF64 images:
 * segments land at their physical addresses with the bss zeroed, the
 * entry point is made physical, the zero page carries a synthesized setup
 * header, and each malformed image is refused with its own errno and a
 * one-line message, leaving guest RAM alone.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "lib/boot_load.h"
#include "x86/boot.h"
#include "core/guest_mem.h"
#include "x86/layout.h"
#include "core/util.h"

#define KLABEL		"vmlinux"
#define VBASE		0xffffffff80000000ULL
#define MAX_SEGS	8
#define SEG_ALIGN	0x1000

struct seg {
	uint32_t type;
	uint64_t paddr, vaddr, filesz, memsz;
};

struct elf_spec {
	uint8_t class;
	uint16_t machine, type;
	uint64_t entry;
	unsigned int nr;
	struct seg seg[MAX_SEGS];
	size_t cut_to;		/* 0: whole file */
};

static uint8_t seg_byte(unsigned int seg, uint64_t i)
{
	return (uint8_t)(seg * 37 + i * 11 + (i >> 9) + 1);
}

/* A vmlinux-like image: ehdr, phdrs, then each segment's bytes. */
static uint8_t *elf_build(const struct elf_spec *s, size_t *len)
{
	uint64_t off = SEG_ALIGN, offs[MAX_SEGS];
	Elf64_Ehdr eh = { 0 };
	unsigned int i;
	uint8_t *img;
	uint64_t j;

	for (i = 0; i < s->nr; i++) {
		offs[i] = off;
		off = ALIGN_UP(off + s->seg[i].filesz, SEG_ALIGN);
	}
	img = calloc(1, off);
	if (!img)
		return NULL;
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = s->class;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = s->type;
	eh.e_machine = s->machine;
	eh.e_version = EV_CURRENT;
	eh.e_entry = s->entry;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (uint16_t)s->nr;
	memcpy(img, &eh, sizeof(eh));
	for (i = 0; i < s->nr; i++) {
		Elf64_Phdr ph = {
			.p_type = s->seg[i].type,
			.p_flags = PF_R | PF_W | PF_X,
			.p_offset = offs[i],
			.p_vaddr = s->seg[i].vaddr,
			.p_paddr = s->seg[i].paddr,
			.p_filesz = s->seg[i].filesz,
			.p_memsz = s->seg[i].memsz,
			.p_align = SEG_ALIGN,
		};

		memcpy(img + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
		for (j = 0; j < s->seg[i].filesz; j++)
			img[offs[i] + j] = seg_byte(i, j);
	}
	*len = s->cut_to ? s->cut_to : off;
	return img;
}

/* Two segments like a vmlinux's text and data+bss, and a PT_NOTE. */
static void spec_default(struct elf_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->class = ELFCLASS64;
	s->machine = EM_X86_64;
	s->type = ET_EXEC;
	s->entry = 0x1000000;
	s->nr = 3;
	s->seg[0] = (struct seg){ PT_LOAD, 0x1000000, VBASE + 0x1000000,
				  0x3000, 0x3000 };
	s->seg[1] = (struct seg){ PT_NOTE, 0, 0, 0x40, 0x40 };
	s->seg[2] = (struct seg){ PT_LOAD, 0x1200000, VBASE + 0x1200000,
				  0x1800, 0x5000 };
}

static int run_load(struct load_run *r, const struct elf_spec *s,
		    uint64_t mem_size, const char *cmdline,
		    const uint8_t *initrd, size_t initrd_len)
{
	uint8_t *img;
	size_t len;

	img = elf_build(s, &len);
	return load_run(r, img, len, KLABEL, mem_size, cmdline, initrd,
			initrd_len);
}

static bool seg_loaded(struct load_run *r, unsigned int i, uint64_t pa,
		       uint64_t filesz, uint64_t memsz)
{
	const uint8_t *p = r->mem.host + pa;
	uint64_t j;

	for (j = 0; j < filesz; j++)
		if (p[j] != seg_byte(i, j))
			return false;
	for (; j < memsz; j++)
		if (p[j])
			return false;
	return p[memsz] == LOAD_CANARY && p[-1] == LOAD_CANARY;
}

static void expect_refusal(const char *name, const struct elf_spec *s,
			   uint64_t mem_size, const char *cmdline,
			   const uint8_t *initrd, size_t initrd_len,
			   int want_err, const char *label,
			   const char *want_msg)
{
	struct load_run r;

	load_expect_refusal(&r, run_load(&r, s, mem_size, cmdline, initrd,
					 initrd_len),
			    name, want_err, label, want_msg);
}

static void test_good(void)
{
	const char *cmdline = "console=ttyS0 earlyprintk=serial";
	size_t initrd_len = 300 * KiB + 5;
	uint8_t *initrd = malloc(initrd_len);
	struct boot_params *bp;
	struct elf_spec s;
	uint64_t rd;
	struct load_run r;

	memset(initrd, 0x3c, initrd_len);
	spec_default(&s);
	if (run_load(&r, &s, 64 * MiB, cmdline, initrd, initrd_len)) {
		ok(0, "good: setup");
		free(initrd);
		return;
	}
	bp = load_zero_page(&r);
	is_int(r.err, 0, "good vmlinux loads");
	is_int(r.msg[0], 0, "good vmlinux: nothing printed");
	is_int(r.entry.rip, 0x1000000, "rip = physical e_entry");
	is_int(r.entry.rsi, BOOT_ZERO_PAGE_ADDR, "rsi = zero page");
	ok(seg_loaded(&r, 0, 0x1000000, 0x3000, 0x3000),
	   "text segment at its p_paddr");
	ok(seg_loaded(&r, 2, 0x1200000, 0x1800, 0x5000),
	   "data segment at its p_paddr, bss zeroed, nothing past p_memsz");

	is_int(bp->hdr.boot_flag, 0xaa55, "synthesized boot_flag");
	is_int(bp->hdr.header, 0x53726448, "synthesized HdrS");
	is_int(bp->hdr.version, 0x020f, "synthesized version 2.15");
	is_int(bp->hdr.type_of_loader, 0xff, "type_of_loader = 0xff");
	is_int(bp->hdr.loadflags, LOADED_HIGH, "loadflags");
	is_int(bp->hdr.cmdline_size, 2047, "cmdline_size = COMMAND_LINE_SIZE - 1");
	is_int(bp->sentinel, 0, "sentinel clear");
	is_int(bp->hdr.cmd_line_ptr, BOOT_CMDLINE_ADDR, "cmd_line_ptr");
	ok(!strcmp((char *)r.mem.host + BOOT_CMDLINE_ADDR, cmdline),
	   "command line in guest RAM");
	rd = ALIGN_DOWN(64 * MiB - initrd_len, 4096);
	is_int(bp->hdr.ramdisk_image, rd, "initrd at the top of RAM");
	is_int(bp->hdr.ramdisk_size, initrd_len, "ramdisk_size");
	ok(!memcmp(r.mem.host + rd, initrd, initrd_len), "initrd bytes in RAM");
	load_check_e820_rsdp(&r);
	load_run_free(&r);

	/* The initrd goes above the highest segment, even with little room. */
	spec_default(&s);
	s.seg[2].memsz = 0x1e00000 - 0x1200000;	/* ends at 30 MiB */
	if (!run_load(&r, &s, 32 * MiB, NULL, initrd, initrd_len)) {
		rd = load_zero_page(&r)->hdr.ramdisk_image;
		ok(!r.err && rd >= 0x1e00000 && rd + initrd_len <= 32 * MiB,
		   "initrd between the last segment and the end of RAM");
		load_run_free(&r);
	}
	free(initrd);
	initrd = calloc(1, 2 * MiB + 1);
	expect_refusal("initrd does not fit above the segments", &s, 32 * MiB,
		       NULL, initrd, 2 * MiB + 1, -ENOSPC, LOAD_INITRD_LABEL,
		       "initrd does not fit: 2097153 bytes, but only 2097152 bytes are free");
	free(initrd);
}

static void test_addresses(void)
{
	struct elf_spec s;
	struct load_run r;

	/* A virtual e_entry is translated through its segment. */
	spec_default(&s);
	s.entry = VBASE + 0x1000100;
	if (!run_load(&r, &s, 64 * MiB, NULL, NULL, 0)) {
		is_int(r.entry.rip, 0x1000100, "virtual e_entry made physical");
		load_run_free(&r);
	}

	/* p_paddr 0: the kernel-map virtual address is made physical. */
	spec_default(&s);
	s.seg[0].paddr = 0;
	s.entry = VBASE + 0x1000000;
	if (!run_load(&r, &s, 64 * MiB, NULL, NULL, 0)) {
		is_int(r.err, 0, "p_paddr 0: loads");
		ok(seg_loaded(&r, 0, 0x1000000, 0x3000, 0x3000),
		   "p_paddr 0: loaded at p_vaddr - 0xffffffff80000000");
		is_int(r.entry.rip, 0x1000000, "p_paddr 0: entry made physical");
		load_run_free(&r);
	}

	/* Like vmlinux's percpu segment: p_vaddr 0, real p_paddr. */
	spec_default(&s);
	s.seg[3] = (struct seg){ PT_LOAD, 0x1400000, 0, 0x800, 0x2000 };
	s.nr = 4;
	if (!run_load(&r, &s, 64 * MiB, NULL, NULL, 0)) {
		is_int(r.err, 0, "percpu-like segment: loads");
		ok(seg_loaded(&r, 3, 0x1400000, 0x800, 0x2000),
		   "percpu-like segment: p_paddr wins over p_vaddr 0");
		load_run_free(&r);
	}

	/* PT_LOADs with p_memsz 0 carry nothing and are skipped. */
	spec_default(&s);
	s.seg[3] = (struct seg){ PT_LOAD, 0x10, 0x10, 0, 0 };
	s.nr = 4;
	if (!run_load(&r, &s, 64 * MiB, NULL, NULL, 0)) {
		is_int(r.err, 0, "empty PT_LOAD ignored");
		load_run_free(&r);
	}
}

static void test_refusals(void)
{
	struct elf_spec s;
	uint8_t one = 1;
	char *line;

	spec_default(&s);
	s.class = ELFCLASS32;
	expect_refusal("32-bit ELF", &s, 64 * MiB, NULL, NULL, 0, -ENOEXEC,
		       KLABEL, "32-bit ELF: mvm boots only 64-bit (x86-64) kernels");

	spec_default(&s);
	s.machine = EM_386;
	expect_refusal("wrong machine", &s, 64 * MiB, NULL, NULL, 0, -ENOEXEC,
		       KLABEL, "ELF machine 3 is not x86-64 (62)");

	spec_default(&s);
	s.type = ET_DYN;
	expect_refusal("not ET_EXEC", &s, 64 * MiB, NULL, NULL, 0, -ENOEXEC,
		       KLABEL, "ELF type 3 is not an executable (ET_EXEC)");

	spec_default(&s);
	s.seg[2].paddr = 0x1002000;
	expect_refusal("overlapping segments", &s, 64 * MiB, NULL, NULL, 0,
		       -EINVAL, KLABEL, "segments 0 and 2 overlap at 0x1002000");

	spec_default(&s);
	s.cut_to = 0x4000;	/* segment 2's bytes (at 0x5000) are gone */
	expect_refusal("segment outside the file", &s, 64 * MiB, NULL, NULL, 0,
		       -ENODATA, KLABEL,
		       "truncated: segment 2 (0x1800 bytes at file offset 0x5000) runs past the end of the file (16384 bytes)");

	spec_default(&s);
	s.cut_to = sizeof(Elf64_Ehdr) + 100;
	expect_refusal("program headers outside the file", &s, 64 * MiB, NULL,
		       NULL, 0, -ENODATA, KLABEL,
		       "truncated: 3 program headers at 0x40");

	spec_default(&s);
	s.cut_to = 40;
	expect_refusal("ELF header truncated", &s, 64 * MiB, NULL, NULL, 0,
		       -ENODATA, KLABEL, "truncated: ELF header needs 64 bytes");

	spec_default(&s);
	s.seg[2].paddr = 0x3ffe000;
	expect_refusal("segment past the end of RAM", &s, 64 * MiB, NULL, NULL,
		       0, -ENOMEM, KLABEL,
		       "segment 2 [0x3ffe000, +0x5000) is outside guest RAM (ends at 0x4000000): give the guest at least 66 MiB");

	spec_default(&s);
	s.seg[2].paddr = 0xd0000000;
	expect_refusal("segment in the MMIO hole", &s, 64 * MiB, NULL, NULL, 0,
		       -ENOMEM, KLABEL, "mvm loads kernels below 3 GiB");

	spec_default(&s);
	s.seg[2].paddr = 0x90000;
	expect_refusal("segment below 1 MiB", &s, 64 * MiB, NULL, NULL, 0,
		       -EINVAL, KLABEL, "segment 2 at 0x90000 is below 1 MiB");

	spec_default(&s);
	s.seg[2].filesz = 0x6000;
	expect_refusal("p_filesz > p_memsz", &s, 64 * MiB, NULL, NULL, 0,
		       -EINVAL, KLABEL, "p_filesz 0x6000 exceeds p_memsz 0x5000");

	spec_default(&s);
	s.seg[0].type = PT_NOTE;
	s.seg[2].type = PT_DYNAMIC;
	expect_refusal("no PT_LOAD", &s, 64 * MiB, NULL, NULL, 0, -ENOEXEC,
		       KLABEL, "no PT_LOAD segment");

	spec_default(&s);
	s.entry = 0x2000000;
	expect_refusal("entry outside the segments", &s, 64 * MiB, NULL, NULL,
		       0, -EINVAL, KLABEL,
		       "entry point 0x2000000 is not inside any loaded segment");

	spec_default(&s);
	line = malloc(2049);
	if (line) {
		memset(line, 'a', 2048);
		line[2048] = 0;
		expect_refusal("command line > COMMAND_LINE_SIZE - 1", &s,
			       64 * MiB, line, NULL, 0, -E2BIG, KLABEL,
			       "2048 bytes, the kernel accepts at most 2047");
		free(line);
	}

	spec_default(&s);
	expect_refusal("empty initrd", &s, 64 * MiB, NULL, &one, 0, -EINVAL,
		       LOAD_INITRD_LABEL, "initrd is empty");
}

int main(void)
{
	test_good();
	test_addresses();
	test_refusals();
	return tap_done();
}
