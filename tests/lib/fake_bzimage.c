// SPDX-License-Identifier: GPL-2.0
/*
 * Builds bzImages in memory: boot sector and setup sectors are zero apart
 * from struct setup_header at 0x1f1 (arch/x86/include/uapi/asm/bootparam.h),
 * then the protected-mode part.  See fake_bzimage.h.
 */
#include <stdlib.h>
#include <string.h>
#include <asm/bootparam.h>

#include "lib/fake_bzimage.h"

#define HDR_OFFSET	0x1f1
#define SECTOR		512

void fake_bzimage_defaults(struct fake_bzimage_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->version = 0x020f;
	o->loadflags = LOADED_HIGH;
	o->xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
	o->relocatable = 1;
	o->pref_address = 0x1000000;
	o->kernel_alignment = 0x200000;
	o->init_size = 0x800000;
	o->cmdline_size = 2047;
	o->initrd_addr_max = 0x7fffffff;
	o->setup_sects = 4;
	o->payload_size = 64 * 1024;
	o->boot_flag = 0xaa55;
	o->magic = FAKE_BZ_MAGIC;
	/* The 2.15 header's last field ends at 0x268. */
	o->hdr_jump = 0x268 - 0x202;
	o->payload_offset = FAKE_BZ_PAYLOAD_OFFSET;
}

size_t fake_bzimage_pm_offset(const struct fake_bzimage_opts *o)
{
	return ((size_t)(o->setup_sects ? o->setup_sects : 4) + 1) * SECTOR;
}

uint8_t fake_bzimage_payload_byte(size_t i)
{
	return (uint8_t)((i * 131 + 7) ^ (i >> 8) ^ (i >> 16));
}

uint8_t *fake_bzimage_build(const struct fake_bzimage_opts *o, size_t *len)
{
	size_t pm_off = fake_bzimage_pm_offset(o);
	size_t payload = o->payload_size;
	struct setup_header h;
	uint8_t *img;
	size_t i, full;

	if (o->entry_code && payload < FAKE_BZ_ENTRY64 + o->entry_code_len)
		payload = FAKE_BZ_ENTRY64 + o->entry_code_len;
	if (o->payload && payload < o->payload_offset + o->payload_len)
		payload = o->payload_offset + o->payload_len;
	full = pm_off + payload;
	if (o->truncate > full)
		return NULL;
	img = calloc(1, full);
	if (!img)
		return NULL;

	memset(&h, 0, sizeof(h));
	h.setup_sects = o->setup_sects;
	h.syssize = (uint32_t)((payload + 15) / 16);
	h.boot_flag = o->boot_flag;
	h.jump = (uint16_t)(0xeb | o->hdr_jump << 8);	/* jmp short */
	h.header = o->magic;
	h.version = o->version;
	h.loadflags = o->loadflags;
	h.initrd_addr_max = o->initrd_addr_max;
	h.kernel_alignment = o->kernel_alignment;
	h.relocatable_kernel = o->relocatable;
	h.min_alignment = 21;
	h.xloadflags = o->xloadflags;
	h.cmdline_size = o->cmdline_size;
	h.pref_address = o->pref_address;
	h.init_size = o->init_size;
	if (o->payload) {
		h.payload_offset = o->payload_offset;
		h.payload_length = (uint32_t)o->payload_len;
	}
	memcpy(img + HDR_OFFSET, &h, sizeof(h));

	for (i = 0; i < payload; i++)
		img[pm_off + i] = fake_bzimage_payload_byte(i);
	if (o->entry_code)
		memcpy(img + pm_off + FAKE_BZ_ENTRY64, o->entry_code,
		       o->entry_code_len);
	if (o->payload)
		memcpy(img + pm_off + o->payload_offset, o->payload,
		       o->payload_len);
	*len = full - o->truncate;
	return img;
}
