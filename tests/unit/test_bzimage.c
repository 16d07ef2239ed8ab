// SPDX-License-Identifier: GPL-2.0
/*
 * The bzImage path of x86_boot_load() on synthetic images: what a good
 * image leaves in guest RAM and the zero page, where kernel and initrd
 * go, and that every malformed input is refused with its own errno and a
 * one-line message naming the file, without touching guest RAM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "lib/boot_load.h"
#include "lib/capture.h"
#include "lib/fake_bzimage.h"
#include "x86/boot.h"
#include "core/guest_mem.h"
#include "x86/layout.h"
#include "core/util.h"

#define KLABEL		"bzImage"

static uint8_t *pattern_buf(size_t len, uint8_t seed)
{
	uint8_t *p = malloc(len ? len : 1);
	size_t i;

	for (i = 0; p && i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed + (i >> 12));
	return p;
}

/* Build the image (cut to cut_to bytes unless 0) and load it. */
static int run_load(struct load_run *r, const struct fake_bzimage_opts *o,
		    uint64_t mem_size, const char *cmdline,
		    const uint8_t *initrd, size_t initrd_len, size_t cut_to)
{
	uint8_t *img;
	size_t len;

	img = fake_bzimage_build(o, &len);
	return load_run(r, img, cut_to ? cut_to : len, KLABEL, mem_size,
			cmdline, initrd, initrd_len);
}

/* One refusal: errno, message text and prefix, one line, RAM intact. */
static void expect_refusal(const char *name, const struct fake_bzimage_opts *o,
			   uint64_t mem_size, const char *cmdline,
			   const uint8_t *initrd, size_t initrd_len,
			   size_t cut_to, int want_err, const char *label,
			   const char *want_msg)
{
	struct load_run r;

	load_expect_refusal(&r, run_load(&r, o, mem_size, cmdline, initrd,
					 initrd_len, cut_to),
			    name, want_err, label, want_msg);
}

static void test_good(void)
{
	const char *cmdline = "console=ttyS0 root=/dev/vda rw";
	size_t initrd_len = MiB + 123;
	uint8_t *initrd = pattern_buf(initrd_len, 3);
	struct fake_bzimage_opts o;
	struct boot_params *bp;
	size_t pm_off;
	uint64_t rd;
	struct load_run r;

	fake_bzimage_defaults(&o);
	pm_off = fake_bzimage_pm_offset(&o);
	if (run_load(&r, &o, 64 * MiB, cmdline, initrd, initrd_len, 0)) {
		ok(0, "good: setup");
		return;
	}
	bp = load_zero_page(&r);
	is_int(r.err, 0, "good image loads");
	is_int(r.msg[0], 0, "good image: nothing printed");
	is_int(r.entry.rip, 0x1000000 + 0x200, "rip = pref_address + 0x200");
	is_int(r.entry.rsi, BOOT_ZERO_PAGE_ADDR, "rsi = zero page");
	ok(!memcmp(r.mem.host + 0x1000000, r.img + pm_off, r.len - pm_off),
	   "protected-mode kernel copied to the load address");
	ok(r.mem.host[0x1000000 - 1] == LOAD_CANARY &&
	   r.mem.host[0x1000000 + r.len - pm_off] == LOAD_CANARY,
	   "nothing written around the kernel");

	/* The header came from the image. */
	is_int(bp->hdr.boot_flag, 0xaa55, "zero page: boot_flag");
	is_int(bp->hdr.header, FAKE_BZ_MAGIC, "zero page: HdrS");
	is_int(bp->hdr.version, 0x020f, "zero page: version");
	is_int(bp->hdr.setup_sects, 4, "zero page: setup_sects");
	is_int(bp->hdr.syssize, (o.payload_size + 15) / 16, "zero page: syssize");
	is_int(bp->hdr.kernel_alignment, 0x200000, "zero page: kernel_alignment");
	is_int(bp->hdr.init_size, 0x800000, "zero page: init_size");
	is_int(bp->hdr.pref_address, 0x1000000, "zero page: pref_address");
	is_int(bp->hdr.xloadflags, o.xloadflags, "zero page: xloadflags");
	is_int(bp->hdr.cmdline_size, 2047, "zero page: cmdline_size");
	is_int(bp->hdr.jump, 0xeb | (0x66 << 8), "zero page: jump");
	/* ... and the rest of the page is clean. */
	is_int(bp->sentinel, 0, "zero page: sentinel clear");
	is_int(bp->screen_info.orig_video_isVGA, 0, "zero page: no video info");
	is_int(((uint8_t *)bp)[0x268], 0, "zero page: nothing past the header end");

	/* Loader-owned fields. */
	is_int(bp->hdr.type_of_loader, 0xff, "type_of_loader = 0xff");
	is_int(bp->hdr.loadflags, LOADED_HIGH, "loadflags: LOADED_HIGH, no heap");
	is_int(bp->hdr.heap_end_ptr, 0, "heap_end_ptr unset");
	is_int(bp->hdr.code32_start, 0x1000000, "code32_start = load address");
	is_int(bp->hdr.setup_data, 0, "no setup_data");
	is_int(bp->hdr.cmd_line_ptr, BOOT_CMDLINE_ADDR, "cmd_line_ptr");
	is_int(bp->ext_cmd_line_ptr, 0, "ext_cmd_line_ptr");
	ok(!strcmp((char *)r.mem.host + BOOT_CMDLINE_ADDR, cmdline),
	   "command line in guest RAM, NUL-terminated");

	rd = ALIGN_DOWN(64 * MiB - initrd_len, 4096);
	is_int(bp->hdr.ramdisk_image, rd, "initrd at the top of RAM, page aligned");
	is_int(bp->hdr.ramdisk_size, initrd_len, "ramdisk_size");
	is_int(bp->ext_ramdisk_image, 0, "ext_ramdisk_image");
	is_int(bp->ext_ramdisk_size, 0, "ext_ramdisk_size");
	ok(rd >= 0x1000000 + 0x800000, "initrd above the init_size window");
	ok(!memcmp(r.mem.host + rd, initrd, initrd_len), "initrd bytes in RAM");

	load_check_e820_rsdp(&r);

	load_run_free(&r);
	free(initrd);
}

static void test_placement(void)
{
	struct fake_bzimage_opts o;
	struct boot_params *bp;
	uint8_t *initrd;
	struct load_run r;

	/* A distro init_size (51 MiB) does not fit at 16 MiB in 64 MiB. */
	fake_bzimage_defaults(&o);
	o.init_size = 0x3378000;
	if (!run_load(&r, &o, 64 * MiB, "", NULL, 0, 0)) {
		is_int(r.err, 0, "big init_size: loads");
		is_int(r.entry.rip, 0x200000 + 0x200,
		       "big init_size: falls back to 1 MiB aligned up to 2 MiB");
		bp = load_zero_page(&r);
		is_int(bp->hdr.ramdisk_image, 0, "no initrd: ramdisk_image 0");
		is_int(bp->hdr.ramdisk_size, 0, "no initrd: ramdisk_size 0");
		is_int(r.mem.host[BOOT_CMDLINE_ADDR], 0, "empty command line");
		load_run_free(&r);
	}

	/* pref_address is rounded up to kernel_alignment. */
	fake_bzimage_defaults(&o);
	o.pref_address = 0x1100000;
	o.kernel_alignment = 0x400000;
	if (!run_load(&r, &o, 64 * MiB, NULL, NULL, 0, 0)) {
		is_int(r.entry.rip, 0x1400000 + 0x200,
		       "pref_address rounded up to kernel_alignment");
		load_run_free(&r);
	}

	/* Not relocatable: 1 MiB, but init_size counts from pref_address. */
	fake_bzimage_defaults(&o);
	o.relocatable = 0;
	o.kernel_alignment = 0x300000;	/* ignored when not relocatable */
	initrd = pattern_buf(7 * MiB, 9);
	if (!run_load(&r, &o, 32 * MiB, NULL, initrd, 7 * MiB, 0)) {
		is_int(r.err, 0, "non-relocatable: loads");
		is_int(r.entry.rip, HIGH_MEMORY_START + 0x200,
		       "non-relocatable: loaded at 1 MiB");
		ok(!memcmp(r.mem.host + HIGH_MEMORY_START,
			   r.img + fake_bzimage_pm_offset(&o), o.payload_size),
		   "non-relocatable: payload at 1 MiB");
		ok(load_zero_page(&r)->hdr.ramdisk_image >= 0x1000000 + 0x800000,
		   "non-relocatable: initrd above pref_address + init_size");
		load_run_free(&r);
	}
	free(initrd);
	initrd = pattern_buf(9 * MiB, 9);
	expect_refusal("non-relocatable: window from pref_address leaves no room",
		       &o, 32 * MiB, NULL, initrd, 9 * MiB, 0, -ENOSPC, LOAD_INITRD_LABEL,
		       "only 8388608 bytes are free");

	/* A non-relocatable kernel that wants to run where pref_address +
	 * init_size wraps past 2^64: impossible, refused (it was accepted). */
	fake_bzimage_defaults(&o);
	o.relocatable = 0;
	o.pref_address = 0xfffffffffff00000ULL;
	expect_refusal("non-relocatable: pref_address + init_size wraps",
		       &o, 32 * MiB, NULL, NULL, 0, 0, -EINVAL, KLABEL,
		       "beyond the 3 GiB of RAM below the PCI hole");

	/* An initrd that fits only if the kernel moves down from 16 MiB. */
	fake_bzimage_defaults(&o);
	if (!run_load(&r, &o, 32 * MiB, NULL, initrd, 9 * MiB, 0)) {
		is_int(r.err, 0, "initrd forces the kernel below pref_address");
		is_int(r.entry.rip, 0x200000 + 0x200,
		       "kernel at 2 MiB to make room for the initrd");
		is_int(load_zero_page(&r)->hdr.ramdisk_image, 32 * MiB - 9 * MiB,
		       "initrd at the top");
		load_run_free(&r);
	}
	free(initrd);

	/* initrd_addr_max is the initrd's last allowed byte. */
	fake_bzimage_defaults(&o);
	o.initrd_addr_max = 0x1ffffff;
	initrd = pattern_buf(4096, 1);
	if (!run_load(&r, &o, 64 * MiB, NULL, initrd, 4096, 0)) {
		is_int(load_zero_page(&r)->hdr.ramdisk_image, 0x2000000 - 4096,
		       "initrd ends at initrd_addr_max + 1");
		load_run_free(&r);
	}
	free(initrd);
}

static void test_header_variants(void)
{
	struct fake_bzimage_opts o;
	struct load_run r;
	char *line;

	/* setup_sects == 0 means 4 (boot.rst). */
	fake_bzimage_defaults(&o);
	o.setup_sects = 0;
	if (!run_load(&r, &o, 64 * MiB, NULL, NULL, 0, 0)) {
		is_int(r.err, 0, "setup_sects 0: loads");
		ok(!memcmp(r.mem.host + 0x1000000, r.img + 5 * 512,
			   o.payload_size),
		   "setup_sects 0: kernel taken from 5 * 512");
		load_run_free(&r);
	}
	fake_bzimage_defaults(&o);
	o.setup_sects = 27;
	if (!run_load(&r, &o, 64 * MiB, NULL, NULL, 0, 0)) {
		ok(!r.err && !memcmp(r.mem.host + 0x1000000,
				     r.img + 28 * 512, o.payload_size),
		   "setup_sects 27: kernel taken from 28 * 512");
		load_run_free(&r);
	}

	/* The header ends at 0x202 + byte 0x201: a longer one is copied. */
	fake_bzimage_defaults(&o);
	o.hdr_jump = 0x6a;
	{
		uint8_t *img;
		size_t len;
		struct boot_entry e;
		struct guest_mem mem;
		struct boot_config cfg = { 0 };

		img = fake_bzimage_build(&o, &len);
		if (img && !guest_mem_init(&mem, 64 * MiB)) {
			img[0x268] = 0x5a;
			img[0x26c] = 0x77;
			cfg.kernel.data = img;
			cfg.kernel.len = len;
			cfg.kernel.label = KLABEL;
			is_int(x86_boot_load(&mem, &cfg, &e), 0,
			       "longer header: loads");
			is_int(mem.host[BOOT_ZERO_PAGE_ADDR + 0x268], 0x5a,
			       "header bytes up to 0x202 + [0x201] copied");
			is_int(mem.host[BOOT_ZERO_PAGE_ADDR + 0x26c], 0,
			       "bytes past the header end not copied");
			guest_mem_destroy(&mem);
		}
		free(img);
	}

	/* syssize rounds up to 16 bytes: a payload of 1000 bytes is whole. */
	fake_bzimage_defaults(&o);
	o.payload_size = 1000;
	if (!run_load(&r, &o, 64 * MiB, NULL, NULL, 0, 0)) {
		is_int(r.err, 0, "payload not a multiple of 16: loads");
		load_run_free(&r);
	}

	/* A command line of exactly cmdline_size bytes is fine. */
	fake_bzimage_defaults(&o);
	o.cmdline_size = 16;
	if (!run_load(&r, &o, 64 * MiB, "0123456789abcdef", NULL, 0, 0)) {
		is_int(r.err, 0, "command line of cmdline_size bytes: loads");
		ok(!strcmp((char *)r.mem.host + BOOT_CMDLINE_ADDR,
			   "0123456789abcdef"), "command line copied");
		load_run_free(&r);
	}

	/* Our own 64 KiB buffer limits even a kernel that accepts more. */
	fake_bzimage_defaults(&o);
	o.cmdline_size = 0xffffffff;
	line = malloc(BOOT_CMDLINE_MAX + 1);
	if (line) {
		memset(line, 'x', BOOT_CMDLINE_MAX);
		line[BOOT_CMDLINE_MAX] = 0;
		expect_refusal("command line longer than mvm's buffer", &o,
			       64 * MiB, line, NULL, 0, 0, -E2BIG, KLABEL,
			       "buffer holds at most 65535");
		line[BOOT_CMDLINE_MAX - 1] = 0;
		if (!run_load(&r, &o, 64 * MiB, line, NULL, 0, 0)) {
			is_int(r.err, 0, "65535-byte command line: loads");
			load_run_free(&r);
		}
		free(line);
	}
}

static void test_refusals(void)
{
	struct fake_bzimage_opts o;
	uint8_t *big = pattern_buf(24 * MiB, 5);
	uint8_t one = 0;

	fake_bzimage_defaults(&o);
	expect_refusal("too short", &o, 64 * MiB, NULL, NULL, 0, 1000,
		       -ENOEXEC, KLABEL, "too short (1000 bytes)");

	fake_bzimage_defaults(&o);
	o.boot_flag = 0;
	expect_refusal("no 0xAA55", &o, 64 * MiB, NULL, NULL, 0, 0,
		       -ENOEXEC, KLABEL,
		       "not a bzImage (no boot signature 0xAA55 at 0x1fe) nor an ELF vmlinux");

	fake_bzimage_defaults(&o);
	o.magic = 0x12345678;
	expect_refusal("no HdrS", &o, 64 * MiB, NULL, NULL, 0, 0, -ENOEXEC,
		       KLABEL, "no 'HdrS' signature at 0x202: not a Linux bzImage");

	fake_bzimage_defaults(&o);
	o.version = 0x020b;
	expect_refusal("protocol 2.11", &o, 64 * MiB, NULL, NULL, 0, 0,
		       -EPROTONOSUPPORT, KLABEL,
		       "boot protocol 2.11 is too old");

	fake_bzimage_defaults(&o);
	o.loadflags = 0;
	expect_refusal("no LOADED_HIGH", &o, 64 * MiB, NULL, NULL, 0, 0,
		       -EOPNOTSUPP, KLABEL, "lacks LOADED_HIGH");

	fake_bzimage_defaults(&o);
	o.xloadflags = XLF_CAN_BE_LOADED_ABOVE_4G;
	expect_refusal("no XLF_KERNEL_64", &o, 64 * MiB, NULL, NULL, 0, 0,
		       -EOPNOTSUPP, KLABEL, "lacks XLF_KERNEL_64");

	fake_bzimage_defaults(&o);
	o.truncate = 100;
	expect_refusal("truncated payload", &o, 64 * MiB, NULL, NULL, 0, 0,
		       -ENODATA, KLABEL,
		       "truncated: syssize says 65536 bytes of kernel after the setup sectors, the file has 65436");

	fake_bzimage_defaults(&o);
	o.truncate = o.payload_size;
	expect_refusal("no payload at all", &o, 64 * MiB, NULL, NULL, 0, 0,
		       -ENODATA, KLABEL,
		       "setup_sects 4 puts the kernel at 0xa00, past the end of the file (2560 bytes)");

	fake_bzimage_defaults(&o);
	o.cmdline_size = 16;
	expect_refusal("command line > cmdline_size", &o, 64 * MiB,
		       "0123456789abcdefg", NULL, 0, 0, -E2BIG, KLABEL,
		       "command line too long: 17 bytes, the kernel accepts at most 16 (cmdline_size)");

	fake_bzimage_defaults(&o);
	o.init_size = 128 * MiB;
	expect_refusal("init_size too big for RAM", &o, 64 * MiB, NULL, NULL,
		       0, 0, -ENOMEM, KLABEL,
		       "give the guest at least 130 MiB");

	fake_bzimage_defaults(&o);
	expect_refusal("initrd too big", &o, 32 * MiB, NULL, big, 24 * MiB, 0,
		       -ENOSPC, LOAD_INITRD_LABEL,
		       "initrd does not fit: 25165824 bytes, but only 23068672 bytes are free");

	fake_bzimage_defaults(&o);
	o.initrd_addr_max = 0x7fffff;	/* ends below the kernel */
	expect_refusal("initrd_addr_max below the kernel", &o, 64 * MiB, NULL,
		       big, 4096, 0, -ENOSPC, LOAD_INITRD_LABEL, "initrd does not fit");

	fake_bzimage_defaults(&o);
	expect_refusal("empty initrd", &o, 64 * MiB, NULL, &one, 0, 0,
		       -EINVAL, LOAD_INITRD_LABEL, "initrd is empty");

	fake_bzimage_defaults(&o);
	o.kernel_alignment = 0x300000;
	expect_refusal("kernel_alignment not a power of two", &o, 64 * MiB,
		       NULL, NULL, 0, 0, -EINVAL, KLABEL,
		       "kernel_alignment 0x300000 is not a power of two");

	fake_bzimage_defaults(&o);
	o.kernel_alignment = 0;
	expect_refusal("kernel_alignment 0", &o, 64 * MiB, NULL, NULL, 0, 0,
		       -EINVAL, KLABEL, "kernel_alignment 0x0 is not");
	free(big);
}

static void test_not_a_kernel(void)
{
	uint8_t junk[4096] = { 0 };
	struct boot_config cfg = { 0 };
	struct guest_mem mem;
	struct boot_entry e;
	const char *msg;
	int err;

	if (guest_mem_init(&mem, 64 * MiB)) {
		ok(0, "guest_mem_init");
		return;
	}
	cfg.kernel.data = junk;
	cfg.kernel.len = sizeof(junk);
	cfg.kernel.label = "junk.bin";
	msg = CAPTURED(err = x86_boot_load(&mem, &cfg, &e));
	is_int(err, -ENOEXEC, "zeros: refused");
	ok(!strcmp(msg, "mvm: junk.bin: not a bzImage (no boot signature 0xAA55 at 0x1fe) nor an ELF vmlinux\n"),
	   "zeros: the exact message");

	cfg.kernel.len = 0;
	msg = CAPTURED(err = x86_boot_load(&mem, &cfg, &e));
	is_int(err, -ENOEXEC, "empty kernel file: refused");
	ok(strstr(msg, "junk.bin: kernel image is empty") != NULL,
	   "empty kernel file: message");

	cfg.kernel.len = sizeof(junk);
	cfg.kernel.label = NULL;
	msg = CAPTURED(err = x86_boot_load(&mem, &cfg, &e));
	ok(err == -ENOEXEC && !strncmp(msg, "mvm: kernel: ", 13),
	   "no label: messages say 'kernel'");
	guest_mem_destroy(&mem);
}

int main(void)
{
	test_good();
	test_placement();
	test_header_variants();
	test_refusals();
	test_not_a_kernel();
	return tap_done();
}
