/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Synthetic bzImages for tests.  fake_bzimage_defaults() describes a valid
 * protocol 2.15 relocatable 64-bit kernel; tests then turn one knob to
 * provoke one refusal.  The protected-mode part is filled with
 * fake_bzimage_payload_byte() so a test can check it landed intact; with
 * entry_code the bytes at payload offset 0x200 (the 64-bit entry point)
 * are real code, so a guest test can boot the image under KVM.  With
 * payload, the header's payload_offset/payload_length (boot.rst, 2.08+)
 * describe those bytes, put at payload_offset in the protected-mode part
 * (which grows to hold them): a compressed kernel for host decompression.
 */
#ifndef MVM_TESTS_FAKE_BZIMAGE_H
#define MVM_TESTS_FAKE_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

struct fake_bzimage_opts {
	uint16_t version;		/* boot protocol, 0x020f */
	uint8_t loadflags;		/* LOADED_HIGH */
	uint16_t xloadflags;		/* XLF_KERNEL_64 | ..._ABOVE_4G */
	uint8_t relocatable;		/* 1 */
	uint64_t pref_address;		/* 16 MiB */
	uint32_t kernel_alignment;	/* 2 MiB */
	uint32_t init_size;		/* 8 MiB */
	uint32_t cmdline_size;		/* 2047 */
	uint32_t initrd_addr_max;	/* 0x7fffffff */
	uint8_t setup_sects;		/* 4; 0 also means 4 */
	size_t payload_size;		/* protected-mode bytes, 64 KiB */
	size_t truncate;		/* bytes cut off the end, 0 */
	uint16_t boot_flag;		/* 0xaa55 */
	uint32_t magic;			/* "HdrS" */
	uint8_t hdr_jump;		/* byte 0x201: header end - 0x202 */
	const uint8_t *entry_code;	/* NULL, or code at payload + 0x200 */
	size_t entry_code_len;
	const uint8_t *payload;		/* NULL: payload_length 0 */
	size_t payload_len;
	uint32_t payload_offset;	/* FAKE_BZ_PAYLOAD_OFFSET */
};

#define FAKE_BZ_MAGIC		0x53726448	/* "HdrS" */
#define FAKE_BZ_ENTRY64		0x200	/* entry offset in the payload */
#define FAKE_BZ_PAYLOAD_OFFSET	0x400	/* after the 64-bit entry point */

void fake_bzimage_defaults(struct fake_bzimage_opts *o);
/* Build the image; returns a malloc()ed buffer (or NULL) and its length. */
uint8_t *fake_bzimage_build(const struct fake_bzimage_opts *o, size_t *len);
/* File offset of the protected-mode part: (setup_sects + 1) * 512. */
size_t fake_bzimage_pm_offset(const struct fake_bzimage_opts *o);
/* Byte i of the protected-mode part (outside entry_code). */
uint8_t fake_bzimage_payload_byte(size_t i);

#endif
