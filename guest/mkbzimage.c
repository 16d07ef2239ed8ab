// SPDX-License-Identifier: GPL-2.0
/*
 * mkbzimage: wrap a flat 64-bit guest binary (linked at 1 MiB, 64-bit entry
 * at offset 0x200) into a bzImage that any boot.rst loader accepts.
 *
 *   mkbzimage [-s setup.bin] [-e end_addr] payload.bin out.bzImage
 *
 * File layout: boot sector (0x000-0x1ff), setup header at 0x1f1, then the
 * real-mode setup code at 0x280 (setup.bin, optional), padded to
 * (setup_sects + 1) * 512 bytes; the protected-mode payload follows.
 * end_addr is the payload's _end (image + .bss + stacks), for init_size.
 * All offsets and field meanings are from Documentation/arch/x86/boot.rst.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOAD_ADDR		0x100000u	/* pref_address, code32_start */
#define SETUP_CODE_OFF		0x280u		/* CS:0x80, see setup16.S */
#define BOOT_PROTOCOL		0x020f
#define LOADED_HIGH		0x01
#define XLF_KERNEL_64		0x01
#define CMDLINE_SIZE		2047
#define KERNEL_INFO_MAGIC	"LToP"
#define VERSION_STRING		"mvm test guest"

/* Setup header offsets in the file (boot.rst, "THE REAL-MODE KERNEL HEADER"). */
enum {
	H_SETUP_SECTS = 0x1f1, H_SYSSIZE = 0x1f4, H_VID_MODE = 0x1fa,
	H_BOOT_FLAG = 0x1fe, H_JUMP = 0x200, H_HEADER = 0x202,
	H_VERSION = 0x206, H_START_SYS_SEG = 0x20c, H_KERNEL_VERSION = 0x20e,
	H_LOADFLAGS = 0x211, H_CODE32_START = 0x214,
	H_INITRD_ADDR_MAX = 0x22c, H_KERNEL_ALIGNMENT = 0x230,
	H_RELOCATABLE = 0x234, H_MIN_ALIGNMENT = 0x235, H_XLOADFLAGS = 0x236,
	H_CMDLINE_SIZE = 0x238, H_PREF_ADDRESS = 0x258, H_INIT_SIZE = 0x260,
	H_KERNEL_INFO_OFFSET = 0x268, H_END = 0x26c,
};

static void put16(uint8_t *p, unsigned int off, uint16_t v)
{
	p[off] = v;
	p[off + 1] = v >> 8;
}

static void put32(uint8_t *p, unsigned int off, uint32_t v)
{
	put16(p, off, v);
	put16(p, off + 2, v >> 16);
}

static void put64(uint8_t *p, unsigned int off, uint64_t v)
{
	put32(p, off, v);
	put32(p, off + 4, v >> 32);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f) {
		fprintf(stderr, "mkbzimage: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET))
		goto fail;
	buf = malloc(n ? n : 1);
	if (!buf || fread(buf, 1, n, f) != (size_t)n)
		goto fail;
	fclose(f);
	*len = n;
	return buf;
fail:
	fprintf(stderr, "mkbzimage: cannot read %s\n", path);
	free(buf);
	fclose(f);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: mkbzimage [-s setup.bin] [-e end_addr] payload.bin out\n");
	exit(2);
}

/* Find kernel_info in the payload head (guest.lds puts it below 0x200). */
static long find_kernel_info(const uint8_t *payload, size_t len)
{
	size_t lim = len < 0x200 ? len : 0x200;
	size_t i;

	for (i = 0; i + 16 <= lim; i += 4)
		if (!memcmp(payload + i, KERNEL_INFO_MAGIC, 4))
			return i;
	return -1;
}

int main(int argc, char **argv)
{
	static const uint8_t halt[] = { 0xfa, 0xf4, 0xeb, 0xfd }; /* cli;hlt;jmp */
	const char *setup_path = NULL;
	uint8_t *payload, *setup = NULL, *img;
	size_t plen, slen = sizeof(halt), setup_size, vstr_off, total;
	unsigned long long end = 0, mem;
	unsigned int setup_sects;
	long kinfo;
	FILE *out;
	int opt;

	while ((opt = getopt(argc, argv, "s:e:")) != -1) {
		switch (opt) {
		case 's':
			setup_path = optarg;
			break;
		case 'e':
			end = strtoull(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	payload = read_file(argv[optind], &plen);
	if (!payload)
		return 1;
	if (setup_path && !(setup = read_file(setup_path, &slen)))
		return 1;
	if (plen < 0x200 + 16) {
		fprintf(stderr, "mkbzimage: payload too small for a 64-bit entry at 0x200\n");
		return 1;
	}
	kinfo = find_kernel_info(payload, plen);
	if (kinfo < 0) {
		fprintf(stderr, "mkbzimage: no kernel_info (\"LToP\") in payload\n");
		return 1;
	}

	/* Boot sector + setup code + version string, whole sectors. */
	vstr_off = SETUP_CODE_OFF + slen;
	setup_size = (vstr_off + sizeof(VERSION_STRING) + 511) & ~511ul;
	setup_sects = setup_size / 512 - 1;
	if (setup_sects < 1 || setup_sects > 255) {
		fprintf(stderr, "mkbzimage: setup code too large\n");
		return 1;
	}
	mem = end > LOAD_ADDR ? end - LOAD_ADDR : 0;
	if (mem < plen)
		mem = plen;
	mem = (mem + 4095) & ~4095ull;
	if (mem > UINT32_MAX) {
		fprintf(stderr, "mkbzimage: init_size too large\n");
		return 1;
	}

	total = setup_size + plen;
	img = calloc(1, total);
	if (!img)
		return 1;
	memcpy(img, halt, sizeof(halt));	/* if a BIOS boots sector 0 */
	img[H_SETUP_SECTS] = setup_sects;
	put32(img, H_SYSSIZE, (plen + 15) / 16);
	put16(img, H_VID_MODE, 0xffff);		/* "normal" */
	put16(img, H_BOOT_FLAG, 0xaa55);
	/* Real-mode entry at setup + 0x200: jmp short to CS:0x80. */
	img[H_JUMP] = 0xeb;
	img[H_JUMP + 1] = SETUP_CODE_OFF - H_JUMP - 2;
	memcpy(img + H_HEADER, "HdrS", 4);
	put16(img, H_VERSION, BOOT_PROTOCOL);
	put16(img, H_START_SYS_SEG, 0x1000);
	put16(img, H_KERNEL_VERSION, vstr_off - 0x200);
	img[H_LOADFLAGS] = LOADED_HIGH;
	put32(img, H_CODE32_START, LOAD_ADDR);
	put32(img, H_INITRD_ADDR_MAX, 0x7fffffff);
	/* Not relocatable: the loader must use pref_address. */
	put32(img, H_KERNEL_ALIGNMENT, LOAD_ADDR);
	img[H_RELOCATABLE] = 0;
	img[H_MIN_ALIGNMENT] = 20;
	put16(img, H_XLOADFLAGS, XLF_KERNEL_64);
	put32(img, H_CMDLINE_SIZE, CMDLINE_SIZE);
	put64(img, H_PREF_ADDRESS, LOAD_ADDR);
	put32(img, H_INIT_SIZE, mem);
	put32(img, H_KERNEL_INFO_OFFSET, kinfo);
	memcpy(img + SETUP_CODE_OFF, setup ? setup : halt, slen);
	memcpy(img + vstr_off, VERSION_STRING, sizeof(VERSION_STRING));
	memcpy(img + setup_size, payload, plen);

	out = fopen(argv[optind + 1], "wb");
	if (!out || fwrite(img, 1, total, out) != total || fclose(out)) {
		fprintf(stderr, "mkbzimage: cannot write %s\n", argv[optind + 1]);
		return 1;
	}
	free(img);
	free(payload);
	free(setup);
	return 0;
}
