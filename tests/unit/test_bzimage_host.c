// SPDX-License-Identifier: GPL-2.0
/*
 * Host decompression of bzImages (x86/bzimage_host.c, x86/decompress.c)
 * through x86_boot_load(): a synthetic vmlinux.bin (kernel-like PT_LOADs
 * linked at 16 MiB, relocs appended) is compressed with each format's own
 * Debian tool, as the kernel's build does (scripts/Makefile.lib: the
 * size_append 4 bytes after all but gzip), and wrapped in a fake bzImage
 * whose payload_offset/payload_length point at it.  For each format: the
 * segments land at their physical addresses with the bss zeroed, the
 * entry is startup_64's, the zero page carries the bzImage's header; a
 * corrupt, a truncated and a wrongly sized payload are one-line errors
 * that leave the zero page alone.  Then the fallbacks (lzo, unknown
 * magic, no payload, --no-host-decompress, a non-relocatable kernel
 * linked elsewhere) and the placement rules.  A tool that is missing
 * skips its format's points.
 */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "lib/boot_load.h"
#include "lib/capture.h"
#include "lib/fake_bzimage.h"
#include "lib/sh.h"
#include "x86/boot.h"
#include "x86/decompress.h"
#include "core/guest_mem.h"
#include "x86/layout.h"
#include "core/util.h"

#define KLABEL		"bzImage"
#define LINK		0x1000000ULL	/* LOAD_PHYSICAL_ADDR */
#define ENTRY		(LINK + 0x40)
#define VBASE		0xffffffff80000000ULL
#define RELOCS_LEN	0x800
#define MAX_SEGS	4

struct seg {
	uint32_t type;
	uint64_t paddr, vaddr, offset, filesz, memsz;
};

struct vmlinux {
	unsigned int nr;
	struct seg seg[MAX_SEGS];
	uint64_t entry;
	uint8_t *bin;		/* vmlinux.bin + relocs */
	size_t len;
};

static char tmpdir[] = "/tmp/mvm-bzhost-XXXXXX";

static void __attribute__((format(printf, 2, 3))) skipf(int n,
							  const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	tap_skip(n, why);
}

static uint8_t seg_byte(unsigned int seg, uint64_t i)
{
	return (uint8_t)(seg * 37 + i * 11 + (i >> 9) + (i >> 13) * 3 + 1);
}

/* ELF header, program headers, segment bytes, then "relocs". */
static int vmlinux_build(struct vmlinux *v)
{
	Elf64_Ehdr eh = { 0 };
	uint64_t end = 0, j;
	unsigned int i;

	for (i = 0; i < v->nr; i++)
		end = MAX(end, v->seg[i].offset + v->seg[i].filesz);
	v->len = end + RELOCS_LEN;
	v->bin = calloc(1, v->len);
	if (!v->bin)
		return -1;
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = v->entry;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (uint16_t)v->nr;
	memcpy(v->bin, &eh, sizeof(eh));
	for (i = 0; i < v->nr; i++) {
		Elf64_Phdr ph = {
			.p_type = v->seg[i].type,
			.p_flags = PF_R | PF_W | PF_X,
			.p_offset = v->seg[i].offset,
			.p_vaddr = v->seg[i].vaddr,
			.p_paddr = v->seg[i].paddr,
			.p_filesz = v->seg[i].filesz,
			.p_memsz = v->seg[i].memsz,
			.p_align = 0x200000,
		};

		memcpy(v->bin + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
		for (j = 0; j < v->seg[i].filesz; j++)
			v->bin[v->seg[i].offset + j] = seg_byte(i, j);
	}
	for (j = 0; j < RELOCS_LEN; j++)
		v->bin[end + j] = (uint8_t)(j * 3);
	return 0;
}

/*
 * Like a vmlinux.bin: text at LOAD_PHYSICAL_ADDR, data with a bss, a
 * percpu segment (p_vaddr 0), a PT_NOTE.
 */
static int vmlinux_default(struct vmlinux *v)
{
	memset(v, 0, sizeof(*v));
	v->nr = 4;
	v->entry = ENTRY;
	v->seg[0] = (struct seg){ PT_LOAD, LINK, VBASE + LINK, 0x1000,
				  0x30000, 0x30000 };
	v->seg[1] = (struct seg){ PT_LOAD, LINK + 0x200000,
				  VBASE + LINK + 0x200000, 0x31000, 0x8000,
				  0x20000 };
	v->seg[2] = (struct seg){ PT_LOAD, LINK + 0x220000, 0, 0x39000,
				  0x3000, 0x3000 };
	v->seg[3] = (struct seg){ PT_NOTE, 0, 0, 0x1000, 0x40, 0x40 };
	return vmlinux_build(v);
}

/* Segment i of v at gpa, bss zeroed. */
static bool seg_at(const struct load_run *r, const struct vmlinux *v,
		   unsigned int i, uint64_t gpa)
{
	const struct seg *s = &v->seg[i];
	const uint8_t *p = r->mem.host + gpa;
	uint64_t j;

	if (memcmp(p, v->bin + s->offset, s->filesz))
		return false;
	for (j = s->filesz; j < s->memsz; j++)
		if (p[j])
			return false;
	return true;
}

static bool tool_exists(const char *cmd)
{
	char tool[64];

	sscanf(cmd, "%63s", tool);
	return !test_sh("command -v %s >/dev/null 2>&1", tool);
}

/*
 * Compress data with `cmd` (stdin to stdout) and, if `sized`, append the
 * size as the kernel's size_append does.  NULL if the tool failed.
 */
static uint8_t *compress(const char *cmd, bool sized, const uint8_t *data,
			 size_t len, size_t *out_len)
{
	char in[64], out[64];
	uint8_t *buf = NULL;
	long n;
	FILE *f;

	snprintf(in, sizeof(in), "%s/in", tmpdir);
	snprintf(out, sizeof(out), "%s/out", tmpdir);
	f = fopen(in, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f))
		return NULL;
	if (test_sh("%s <%s >%s 2>/dev/null", cmd, in, out))
		return NULL;
	f = fopen(out, "rb");
	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) > 0 &&
	    !fseek(f, 0, SEEK_SET)) {
		buf = malloc((size_t)n + 4);
		if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
			*out_len = (size_t)n;
			if (sized) {
				buf[n] = (uint8_t)len;
				buf[n + 1] = (uint8_t)(len >> 8);
				buf[n + 2] = (uint8_t)(len >> 16);
				buf[n + 3] = (uint8_t)(len >> 24);
				*out_len += 4;
			}
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

/* A fake bzImage around `payload`, loaded into mem_size bytes of RAM. */
static int run_payload(struct load_run *r, struct fake_bzimage_opts *o,
		       const uint8_t *payload, size_t len, uint64_t mem_size,
		       const uint8_t *initrd, size_t initrd_len,
		       bool guest_decompress)
{
	uint8_t *img;
	size_t ilen;

	o->payload = payload;
	o->payload_len = len;
	img = fake_bzimage_build(o, &ilen);
	if (!img)
		return -1;
	memset(r, 0, sizeof(*r));
	if (guest_mem_init(&r->mem, mem_size)) {
		free(img);
		return -1;
	}
	r->img = img;
	r->len = ilen;
	memset(load_zero_page(r), LOAD_CANARY, sizeof(struct boot_params));
	memset(r->mem.host + HIGH_MEMORY_START, LOAD_CANARY,
	       r->mem.low_size - HIGH_MEMORY_START);
	r->cfg.kernel = (struct boot_image){ img, ilen, KLABEL };
	r->cfg.initrd = (struct boot_image){ initrd, initrd_len,
					     LOAD_INITRD_LABEL };
	r->cfg.cmdline = "console=ttyS0";
	r->cfg.rsdp_gpa = ACPI_TABLES_ADDR;
	r->cfg.guest_decompress = guest_decompress;
	r->msg = CAPTURED(r->err = x86_boot_load(&r->mem, &r->cfg, &r->entry));
	return 0;
}

static bool zero_page_untouched(struct load_run *r)
{
	const uint8_t *p = (const uint8_t *)load_zero_page(r);
	size_t i;

	for (i = 0; i < sizeof(struct boot_params); i++)
		if (p[i] != LOAD_CANARY)
			return false;
	return true;
}

static bool one_line(const char *msg, const char *want)
{
	return !strncmp(msg, "mvm: " KLABEL, 5 + strlen(KLABEL)) &&
	       count_lines(msg) == 1 && strstr(msg, want);
}

/* The guest-decompression path: the protected-mode part at 16 MiB. */
static bool loaded_as_is(struct load_run *r, const struct fake_bzimage_opts *o)
{
	size_t pm = fake_bzimage_pm_offset(o);

	return !r->err && r->entry.rip == LINK + 0x200 &&
	       !memcmp(r->mem.host + LINK, r->img + pm, r->len - pm);
}

struct fmt {
	const char *name;
	const char *cmd;	/* the kernel's (scripts/Makefile.lib) */
	bool sized;		/* size_append */
	bool host;
};

static const struct fmt fmts[] = {
	{ "gzip", "gzip -n -f -9", false, true },
	{ "bzip2", "bzip2 -9", true, true },
	{ "lzma", "lzma -9", true, true },
	{ "xz", "xz --check=crc32 --x86 --lzma2=,dict=32MiB", true, true },
	{ "lzo", "lzop -9", true, false },
	{ "lz4", "lz4 -l -9", true, true },
	{ "zstd", "zstd -q -22 --ultra", true, true },
};

#define POINTS_GOOD	16
#define POINTS_BAD	4

static void check_good(const struct fmt *f, struct vmlinux *v,
		       const uint8_t *pl, size_t len)
{
	size_t initrd_len = 3 * MiB + 17;
	uint8_t *initrd = malloc(initrd_len);
	struct fake_bzimage_opts o;
	struct boot_params *bp;
	struct load_run r;
	uint64_t rd;

	memset(initrd, 0x3c, initrd_len);
	fake_bzimage_defaults(&o);
	if (run_payload(&r, &o, pl, len, 64 * MiB, initrd, initrd_len,
			false)) {
		skipf(POINTS_GOOD, "%s: setup failed", f->name);
		free(initrd);
		return;
	}
	bp = load_zero_page(&r);
	is_int(r.err, 0, "%s: loads", f->name);
	if (!ok(!r.msg[0], "%s: nothing printed", f->name))
		tap_diag("got: %s", r.msg);
	is_int(r.entry.rip, ENTRY, "%s: rip = the vmlinux's entry (startup_64)",
	       f->name);
	is_int(r.entry.rsi, BOOT_ZERO_PAGE_ADDR, "%s: rsi = zero page",
	       f->name);
	ok(seg_at(&r, v, 0, LINK), "%s: text at its p_paddr", f->name);
	ok(seg_at(&r, v, 1, LINK + 0x200000),
	   "%s: data at its p_paddr, bss zeroed", f->name);
	ok(seg_at(&r, v, 2, LINK + 0x220000),
	   "%s: percpu (p_vaddr 0) at its p_paddr", f->name);
	/* The bzImage's header, loader fields set. */
	is_int(bp->hdr.payload_length, len, "%s: zero page: image's payload_length",
	       f->name);
	is_int(bp->hdr.init_size, o.init_size, "%s: zero page: init_size",
	       f->name);
	is_int(bp->hdr.pref_address, LINK, "%s: zero page: pref_address",
	       f->name);
	is_int(bp->hdr.code32_start, LINK, "%s: code32_start = load address",
	       f->name);
	is_int(bp->hdr.loadflags, LOADED_HIGH,
	       "%s: loadflags: LOADED_HIGH, no KASLR_FLAG, no heap", f->name);
	is_int(bp->hdr.type_of_loader, 0xff, "%s: type_of_loader", f->name);
	ok(!strcmp((char *)r.mem.host + BOOT_CMDLINE_ADDR, "console=ttyS0") &&
	   bp->hdr.cmd_line_ptr == BOOT_CMDLINE_ADDR,
	   "%s: command line", f->name);
	rd = ALIGN_DOWN(64 * MiB - initrd_len, 4096);
	ok(bp->hdr.ramdisk_image == rd && bp->hdr.ramdisk_size == initrd_len &&
	   !memcmp(r.mem.host + rd, initrd, initrd_len),
	   "%s: initrd at the top of RAM", f->name);
	ok(rd >= LINK + o.init_size, "%s: initrd above the init_size window",
	   f->name);
	load_run_free(&r);
	free(initrd);
}

/* A payload that must not load: one line, the zero page untouched. */
static void check_bad(const char *name, const char *fname, uint8_t *pl,
		      size_t len, int err1, int err2, const char *want)
{
	struct fake_bzimage_opts o;
	struct load_run r;

	fake_bzimage_defaults(&o);
	if (run_payload(&r, &o, pl, len, 64 * MiB, NULL, 0, false)) {
		skipf(POINTS_BAD, "%s %s: setup failed", fname, name);
		return;
	}
	if (!ok(r.err == err1 || r.err == err2, "%s %s: refused (%d)", fname,
		name, r.err))
		tap_diag("got %d, want %d or %d", r.err, err1, err2);
	if (!ok(one_line(r.msg, want), "%s %s: one line saying '%s'", fname,
		name, want))
		tap_diag("got: %s", r.msg);
	ok(strstr(r.msg, fname) != NULL, "%s %s: the message names the format",
	   fname, name);
	ok(zero_page_untouched(&r), "%s %s: zero page untouched", fname, name);
	tap_diag("%.*s", (int)strcspn(r.msg, "\n"), r.msg);
	load_run_free(&r);
}

static void test_format(const struct fmt *f, struct vmlinux *v)
{
	char want[128];
	uint8_t *pl, *bad;
	size_t len, half;

	if (!tool_exists(f->cmd)) {
		skipf(f->host ? POINTS_GOOD + 4 * POINTS_BAD : 3,
		     "%s: '%s' not installed", f->name, f->cmd);
		return;
	}
	pl = compress(f->cmd, f->sized, v->bin, v->len, &len);
	if (!ok(pl != NULL, "%s: '%s' compresses the vmlinux.bin", f->name,
		f->cmd)) {
		skipf(f->host ? POINTS_GOOD + 4 * POINTS_BAD : 2,
		     "%s: no payload", f->name);
		return;
	}
	if (!f->host) {
		struct fake_bzimage_opts o;
		struct load_run r;

		fake_bzimage_defaults(&o);
		if (!run_payload(&r, &o, pl, len, 64 * MiB, NULL, 0, false)) {
			ok(loaded_as_is(&r, &o),
			   "%s: loaded as is for the guest to decompress",
			   f->name);
			snprintf(want, sizeof(want),
				 "%s payload: mvm has no decompressor for it, the kernel decompresses itself in the guest",
				 f->name);
			if (!ok(one_line(r.msg, want), "%s: a one-line notice",
				f->name))
				tap_diag("got: %s", r.msg);
			load_run_free(&r);
		}
		free(pl);
		return;
	}
	check_good(f, v, pl, len);

	/* 32 bytes of the stream's middle overwritten. */
	bad = malloc(len);
	memcpy(bad, pl, len);
	memset(bad + len / 2, 0xff, 32);
	snprintf(want, sizeof(want), "cannot decompress its %s payload: ",
		 f->name);
	check_bad("corrupt", f->name, bad, len, -EBADMSG, -ENODATA, want);

	/* The first half of the stream, then the size field. */
	half = (len - 4) / 2;
	memcpy(bad + half, pl + len - 4, 4);
	snprintf(want, sizeof(want),
		 "cannot decompress its %s payload: the compressed stream ends early (truncated)",
		 f->name);
	check_bad("truncated", f->name, bad, half + 4, -ENODATA, -ENODATA,
		  want);
	snprintf(want, sizeof(want), "cannot decompress its %s payload: ",
		 f->name);

	/* A size field one more, then one less, than the stream's. */
	memcpy(bad, pl, len);
	put_le32(bad + len - 4, (uint32_t)v->len + 1);
	check_bad("size field too big", f->name, bad, len, -EBADMSG, -EBADMSG,
		  want);
	put_le32(bad + len - 4, (uint32_t)v->len - 1);
	check_bad("size field too small", f->name, bad, len, -EBADMSG,
		  -EBADMSG, want);
	free(bad);
	free(pl);
}

static void test_formats(void)
{
	struct vmlinux v;
	size_t i;

	if (vmlinux_default(&v)) {
		ok(0, "vmlinux");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(fmts); i++)
		test_format(&fmts[i], &v);
	free(v.bin);
}

/* The uncompressed payload "is currently always ELF" (boot.rst). */
static void test_elf_payload(struct vmlinux *v)
{
	struct fake_bzimage_opts o;
	struct load_run r;

	fake_bzimage_defaults(&o);
	if (run_payload(&r, &o, v->bin, v->len, 64 * MiB, NULL, 0, false))
		return;
	ok(!r.err && !r.msg[0] && r.entry.rip == ENTRY &&
	   seg_at(&r, v, 0, LINK) && seg_at(&r, v, 1, LINK + 0x200000),
	   "uncompressed ELF payload: loaded as a vmlinux");
	load_run_free(&r);
}

static void test_fallbacks(struct vmlinux *v, const uint8_t *gz, size_t gzlen)
{
	struct fake_bzimage_opts o;
	uint8_t junk[64];
	struct load_run r;

	/* --no-host-decompress: the old path, silently, any payload. */
	fake_bzimage_defaults(&o);
	if (!run_payload(&r, &o, gz, gzlen, 64 * MiB, NULL, 0, true)) {
		ok(loaded_as_is(&r, &o) && !r.msg[0],
		   "--no-host-decompress: loaded as is, nothing printed");
		load_run_free(&r);
	}
	memset(junk, 0xee, sizeof(junk));
	junk[0] = 0x1f;
	junk[1] = 0x8b;
	fake_bzimage_defaults(&o);
	if (!run_payload(&r, &o, junk, sizeof(junk), 64 * MiB, NULL, 0,
			 true)) {
		ok(loaded_as_is(&r, &o) && !r.msg[0],
		   "--no-host-decompress: a corrupt payload is the guest's business");
		load_run_free(&r);
	}

	/* No payload_length: not a compressed kernel (mvm's test guests). */
	fake_bzimage_defaults(&o);
	if (!run_payload(&r, &o, NULL, 0, 64 * MiB, NULL, 0, false)) {
		ok(loaded_as_is(&r, &o) && !r.msg[0],
		   "no payload: loaded as is, nothing printed");
		load_run_free(&r);
	}

	/* A magic nobody knows. */
	junk[0] = 0xab;
	junk[1] = 0xcd;
	fake_bzimage_defaults(&o);
	if (!run_payload(&r, &o, junk, sizeof(junk), 64 * MiB, NULL, 0,
			 false)) {
		ok(loaded_as_is(&r, &o), "unknown magic: loaded as is");
		if (!ok(one_line(r.msg, "payload of unknown format (magic ab cd): the kernel decompresses itself in the guest"),
			"unknown magic: a one-line notice"))
			tap_diag("got: %s", r.msg);
		load_run_free(&r);
	}

	/* Not relocatable and linked away from pref_address: the guest's. */
	fake_bzimage_defaults(&o);
	o.relocatable = 0;
	o.pref_address = 2 * LINK;
	if (!run_payload(&r, &o, gz, gzlen, 128 * MiB, NULL, 0, false)) {
		is_int(r.err, 0, "non-relocatable linked elsewhere: loads");
		is_int(r.entry.rip, HIGH_MEMORY_START + 0x200,
		       "non-relocatable linked elsewhere: as is at 1 MiB");
		if (!ok(one_line(r.msg, "not relocatable, and linked at 0x1000000, not at 0x2000000 where its header says it runs: the kernel decompresses itself in the guest"),
			"non-relocatable linked elsewhere: a one-line notice"))
			tap_diag("got: %s", r.msg);
		load_run_free(&r);
	}

	/* Not relocatable, linked where it runs: decompressed here. */
	fake_bzimage_defaults(&o);
	o.relocatable = 0;
	if (!run_payload(&r, &o, gz, gzlen, 64 * MiB, NULL, 0, false)) {
		ok(!r.err && !r.msg[0] && r.entry.rip == ENTRY &&
		   seg_at(&r, v, 0, LINK),
		   "non-relocatable at its link address: decompressed on the host");
		load_run_free(&r);
	}
}

static void test_placement(struct vmlinux *v, const uint8_t *gz, size_t gzlen)
{
	uint64_t delta = LINK - 2 * MiB;
	struct fake_bzimage_opts o;
	uint8_t *initrd;
	struct load_run r;

	/*
	 * A 9 MiB initrd does not fit above 16 MiB + init_size in 32 MiB:
	 * the relocatable kernel goes to 2 MiB (as on the guest path), and
	 * startup_64 copes with the 14 MiB physical delta itself.
	 */
	initrd = calloc(1, 9 * MiB);
	fake_bzimage_defaults(&o);
	if (!run_payload(&r, &o, gz, gzlen, 32 * MiB, initrd, 9 * MiB,
			 false)) {
		is_int(r.err, 0, "moved down: loads");
		is_int(r.entry.rip, ENTRY - delta, "moved down: rip moved too");
		ok(seg_at(&r, v, 0, LINK - delta) &&
		   seg_at(&r, v, 1, LINK + 0x200000 - delta) &&
		   seg_at(&r, v, 2, LINK + 0x220000 - delta),
		   "moved down: every segment 14 MiB lower");
		is_int(load_zero_page(&r)->hdr.code32_start, 2 * MiB,
		       "moved down: code32_start");
		is_int(load_zero_page(&r)->hdr.ramdisk_image,
		       32 * MiB - 9 * MiB, "moved down: initrd at the top");
		load_run_free(&r);
	}
	free(initrd);
}

static void test_refusals(struct vmlinux *v, uint8_t *gz, size_t gzlen)
{
	struct fake_bzimage_opts o;
	struct vmlinux w;
	struct load_run r;
	uint8_t *pl, *img;
	size_t len;

	/* The header's payload runs past the file: nothing written. */
	fake_bzimage_defaults(&o);
	o.payload = gz;
	o.payload_len = gzlen;
	{
		size_t ilen;

		img = fake_bzimage_build(&o, &ilen);
		/* payload_length one more than the file holds */
		if (img)
			put_le32(img + 0x24c,
				 (uint32_t)(ilen - fake_bzimage_pm_offset(&o) -
					    FAKE_BZ_PAYLOAD_OFFSET + 1));
		load_expect_refusal(&r, load_run(&r, img, ilen, KLABEL,
						 64 * MiB, NULL, NULL, 0),
				    "payload past the end of the file", -ENODATA,
				    KLABEL, "truncated: payload_offset 0x400 + payload_length");
	}

	/* Size field beyond init_size (mkpiggy/header.S: never). */
	pl = malloc(gzlen);
	memcpy(pl, gz, gzlen);
	put_le32(pl + gzlen - 4, 0x800001);
	fake_bzimage_defaults(&o);
	o.payload = pl;
	o.payload_len = gzlen;
	img = fake_bzimage_build(&o, &len);
	load_expect_refusal(&r, load_run(&r, img, len, KLABEL, 64 * MiB, NULL,
					 NULL, 0),
			    "size field beyond init_size", -EBADMSG, KLABEL,
			    "corrupt gzip payload: its size field says 8388609 bytes, more than the header's init_size (8388608)");
	free(pl);

	/* The decompressed payload is no ELF. */
	pl = tool_exists("gzip") ?
	     compress("gzip -n -9", false, v->bin + 0x1000, 0x4000, &len) :
	     NULL;
	if (pl) {
		fake_bzimage_defaults(&o);
		if (!run_payload(&r, &o, pl, len, 64 * MiB, NULL, 0, false)) {
			is_int(r.err, -ENOEXEC, "not an ELF: refused");
			if (!ok(one_line(r.msg, "bzImage (gzip payload): not an ELF vmlinux"),
				"not an ELF: one line"))
				tap_diag("got: %s", r.msg);
			load_run_free(&r);
		}
		free(pl);
	} else {
		skipf(2, "no gzip");
	}

	/* Segments beyond init_size: the header lies about the kernel. */
	fake_bzimage_defaults(&o);
	o.init_size = 0x200000;
	if (!run_payload(&r, &o, gz, gzlen, 64 * MiB, NULL, 0, false)) {
		is_int(r.err, -EINVAL, "segments beyond init_size: refused");
		if (!ok(one_line(r.msg, "bzImage (gzip payload): segment [0x1200000, +0x20000) lies outside the init_size window [0x1000000, 0x1200000) of the header"),
			"segments beyond init_size: one line"))
			tap_diag("got: %s", r.msg);
		ok(zero_page_untouched(&r),
		   "segments beyond init_size: zero page untouched");
		load_run_free(&r);
	}

	/*
	 * Moving segment 0 down first would overwrite segment 1's bytes
	 * (parse_elf's in-order memmove has the same limit).
	 */
	memset(&w, 0, sizeof(w));
	w.nr = 2;
	w.entry = LINK;
	w.seg[0] = (struct seg){ PT_LOAD, LINK, VBASE + LINK, 0x2000, 0x2000,
				 0x2000 };
	w.seg[1] = (struct seg){ PT_LOAD, LINK + 0x100000,
				 VBASE + LINK + 0x100000, 0x1000, 0x1000,
				 0x1000 };
	pl = NULL;
	if (!vmlinux_build(&w) && tool_exists("gzip"))
		pl = compress("gzip -n -9", false, w.bin, w.len, &len);
	if (pl) {
		fake_bzimage_defaults(&o);
		if (!run_payload(&r, &o, pl, len, 64 * MiB, NULL, 0, false)) {
			is_int(r.err, -EINVAL, "unsafe move order: refused");
			if (!ok(one_line(r.msg, "segments cannot be moved into place in order: the one for 0x1000000 would overwrite the bytes of the one for 0x1100000"),
				"unsafe move order: one line"))
				tap_diag("got: %s", r.msg);
			load_run_free(&r);
		}
		free(pl);
	} else {
		skipf(2, "no gzip");
	}
	free(w.bin);
}

static void test_detect(void)
{
	static const uint8_t m[][4] = {
		{ 0x1f, 0x8b }, { 0x1f, 0x9e }, { 0x42, 0x5a }, { 0x5d, 0x00 },
		{ 0xfd, 0x37 }, { 0x89, 0x4c }, { 0x02, 0x21 }, { 0x28, 0xb5 },
		{ 0x7f, 'E', 'L', 'F' },
	};
	static const char *const names[] = {
		"gzip", "gzip (old magic 1f 9e)", "bzip2", "lzma", "xz", "lzo",
		"lz4", "zstd", "uncompressed ELF",
	};
	const struct payload_format *f;
	size_t i;

	/* lib/decompress.c's compressed_formats, and boot.rst's ELF. */
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		f = payload_format(m[i], 4);
		ok(f && !strcmp(f->name, names[i]), "magic %02x %02x is %s",
		   m[i][0], m[i][1], names[i]);
	}
	ok(!payload_format(m[0], 1), "one byte is no magic");
	ok(!payload_format((const uint8_t *)"\x7f" "ELG", 4),
	   "7f 45 4c 47 is no ELF");
}

/*
 * The legacy lz4 format beyond one block: a kernel-sized stream has 8 MiB
 * blocks (the Debian cloud kernel's 51 MiB, seven), and two streams may
 * follow each other, the second starting with the magic again (the
 * kernel's unlz4 skips it).
 */
static void test_lz4_blocks(void)
{
	size_t len = 9 * MiB + 12345, half = 4 * MiB + 77, a_len, b_len;
	uint8_t *data, *a, *b, *both, *out;
	char why[256];
	size_t i;
	int err;

	if (!tool_exists("lz4")) {
		skipf(2, "lz4: not installed");
		return;
	}
	data = malloc(len);
	out = malloc(len);
	for (i = 0; i < len; i++)
		data[i] = seg_byte(7, i) ^ (uint8_t)(i >> 20);
	a = compress("lz4 -l -9", true, data, len, &a_len);
	err = a ? payload_decompress(payload_format(a, a_len), a, a_len, out,
				     len, why, sizeof(why)) : -1;
	if (!ok(!err && !memcmp(out, data, len),
		"lz4: a 9 MiB payload (two blocks) decompresses"))
		tap_diag("%d: %s", err, err > 0 ? "" : why);

	/* Stream 1 (its size field dropped), stream 2, the whole size. */
	b = compress("lz4 -l -9", false, data, half, &b_len);
	free(a);
	a = compress("lz4 -l -9", true, data + half, len - half, &a_len);
	both = a && b ? malloc(b_len + a_len) : NULL;
	err = -1;
	if (both) {
		memcpy(both, b, b_len);
		memcpy(both + b_len, a, a_len);
		put_le32(both + b_len + a_len - 4, (uint32_t)len);
		memset(out, 0, len);
		err = payload_decompress(payload_format(both, b_len + a_len),
					 both, b_len + a_len, out, len, why,
					 sizeof(why));
	}
	if (!ok(!err && !memcmp(out, data, len),
		"lz4: two concatenated streams decompress as one"))
		tap_diag("%d: %s", err, err > 0 ? "" : why);
	free(both);
	free(a);
	free(b);
	free(out);
	free(data);
}

int main(void)
{
	struct vmlinux v;
	uint8_t *gz = NULL;
	size_t gzlen = 0;

	if (!mkdtemp(tmpdir)) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return tap_done();
	}
	test_detect();
	test_formats();
	test_lz4_blocks();
	if (!vmlinux_default(&v)) {
		test_elf_payload(&v);
		if (tool_exists("gzip"))
			gz = compress("gzip -n -9", false, v.bin, v.len, &gzlen);
		if (gz) {
			test_fallbacks(&v, gz, gzlen);
			test_placement(&v, gz, gzlen);
			test_refusals(&v, gz, gzlen);
		} else {
			skipf(1, "no gzip: the fallback and placement tests need it");
		}
		free(gz);
		free(v.bin);
	}
	test_sh("rm -rf %s", tmpdir);
	return tap_done();
}
