// SPDX-License-Identifier: GPL-2.0
/*
 * AML encoding, ACPI 6.3 chapter 20 (grammar) and section 6.4 (resource
 * descriptors).  Objects with a PkgLength are written body first; aml_end()
 * then moves the body up to make room for the PkgLength, whose size (1 to 4
 * bytes) depends on the body's length.
 */
#include <ctype.h>

#include "core/util.h"
#include "acpi_aml.h"

#define AML_ZERO_OP		0x00
#define AML_ONE_OP		0x01
#define AML_NAME_OP		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_WORD_PREFIX		0x0b
#define AML_DWORD_PREFIX	0x0c
#define AML_QWORD_PREFIX	0x0e
#define AML_SCOPE_OP		0x10
#define AML_BUFFER_OP		0x11
#define AML_PACKAGE_OP		0x12
#define AML_EXT_OP_PREFIX	0x5b
#define AML_DEVICE_OP		0x82	/* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR		'\\'

/* Resource descriptor tags (ACPI 6.3 tables 6-241 and 6-252). */
#define RES_IRQ_NOFLAGS		0x22	/* small item 4, length 2 */
#define RES_IO			0x47	/* small item 8, length 7 */
#define RES_END_TAG		0x79	/* small item 15, length 1 */
#define RES_MEM32_FIXED		0x86
#define RES_DWORD_ADDR		0x87
#define RES_WORD_ADDR		0x88
#define RES_QWORD_ADDR		0x8a

/* Address space descriptor fields (ACPI 6.3 section 6.4.3.5). */
#define RES_SPACE_MEM		0
#define RES_SPACE_IO		1
#define RES_SPACE_BUS		2
/*
 * General flags of a host bridge window: _MAF and _MIF set (fixed range),
 * positive decode, bit 0 clear = "produces and consumes", i.e. a window the
 * bridge forwards to its children.
 */
#define RES_GFLAGS_WINDOW	0x0c
#define RES_IO_RANGE_ENTIRE	0x03	/* _RNG: ISA and non-ISA ports */
#define RES_MEM_RW_UNCACHED	0x01	/* _RW = 1, _MEM = non-cacheable */

void aml_init(struct aml *a, void *buf, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->cap = cap;
}

long aml_finish(struct aml *a)
{
	if (a->overflow)
		return -ENOSPC;
	if (a->invalid || a->depth)
		return -EINVAL;
	return (long)a->len;
}

static void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->overflow || n > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void aml_le(struct aml *a, uint64_t v, unsigned int n)
{
	uint8_t b[8];

	put_leN(b, n, v);
	aml_bytes(a, b, n);
}

/* Shortest encoding of an integer constant (ACPI 6.3 section 20.2.3). */
static size_t integer_encode(uint8_t *out, uint64_t v)
{
	if (v == 0 || v == 1) {
		out[0] = v ? AML_ONE_OP : AML_ZERO_OP;
		return 1;
	}
	if (v <= 0xff) {
		out[0] = AML_BYTE_PREFIX;
		out[1] = v;
		return 2;
	}
	if (v <= 0xffff) {
		out[0] = AML_WORD_PREFIX;
		put_le16(out + 1, v);
		return 3;
	}
	if (v <= 0xffffffff) {
		out[0] = AML_DWORD_PREFIX;
		put_le32(out + 1, v);
		return 5;
	}
	out[0] = AML_QWORD_PREFIX;
	put_le64(out + 1, v);
	return 9;
}

/*
 * PkgLength (ACPI 6.3 section 20.2.4) counts itself.  One byte holds up to
 * 63; otherwise bits 7:6 of the lead byte give the number of extra bytes,
 * its bits 3:0 the low nibble and each extra byte the next 8 bits.
 */
static size_t pkglen_encode(uint8_t *out, size_t body)
{
	size_t n, i, total;

	if (body + 1 < 0x40) {
		out[0] = body + 1;
		return 1;
	}
	for (n = 2; n <= 4; n++) {
		total = body + n;
		if (total >= 1UL << (4 + 8 * (n - 1)))
			continue;
		out[0] = (n - 1) << 6 | (total & 0xf);
		for (i = 1; i < n; i++)
			out[i] = total >> (4 + 8 * (i - 1));
		return n;
	}
	return 0;
}

void aml_integer(struct aml *a, uint64_t v)
{
	uint8_t b[9];

	aml_bytes(a, b, integer_encode(b, v));
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v;
	int i;

	/*
	 * Three letters of 5 bits each ('A' = 1) then four hex digits, stored
	 * big-endian in a DWord (ACPI 6.3 section 19.6.35, EISAID macro).
	 */
	v = (uint32_t)(id[0] & 0x1f) << 26 | (uint32_t)(id[1] & 0x1f) << 21 |
	    (uint32_t)(id[2] & 0x1f) << 16;
	for (i = 3; i < 7; i++) {
		int c = tolower((unsigned char)id[i]);

		v |= (uint32_t)(isdigit(c) ? c - '0' : c - 'a' + 10)
		     << (4 * (6 - i));
	}
	aml_byte(a, AML_DWORD_PREFIX);
	aml_le(a, __builtin_bswap32(v), 4);
}

void aml_name_string(struct aml *a, const char *name)
{
	if (*name == AML_ROOT_CHAR)
		aml_byte(a, *name++);
	if (strlen(name) != 4)
		a->invalid = true;	/* a bug in the caller's table */
	aml_bytes(a, name, 4);
}

void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME_OP);
	aml_name_string(a, name);
}

static void aml_open(struct aml *a, bool is_buffer)
{
	if (a->depth >= AML_MAX_DEPTH) {
		a->invalid = true;
		a->overflow = true;	/* stop emitting: nesting is lost */
		return;
	}
	a->open[a->depth].start = a->len;
	a->open[a->depth].is_buffer = is_buffer;
	a->depth++;
}

void aml_scope_begin(struct aml *a, const char *name)
{
	aml_byte(a, AML_SCOPE_OP);
	aml_open(a, false);
	aml_name_string(a, name);
}

void aml_device_begin(struct aml *a, const char *name)
{
	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	aml_open(a, false);
	aml_name_string(a, name);
}

void aml_package_begin(struct aml *a, unsigned int nr_elements)
{
	if (nr_elements > 0xff)
		a->invalid = true;	/* NumElements is a ByteData */
	aml_byte(a, AML_PACKAGE_OP);
	aml_open(a, false);
	aml_byte(a, nr_elements);
}

void aml_buffer_begin(struct aml *a)
{
	aml_byte(a, AML_BUFFER_OP);
	aml_open(a, true);
}

void aml_end(struct aml *a)
{
	uint8_t pre[4 + 9];
	size_t start, body, nint = 0, n;

	if (!a->depth) {
		a->invalid = true;
		return;
	}
	a->depth--;
	if (a->overflow)
		return;
	start = a->open[a->depth].start;
	body = a->len - start;
	/* A buffer's BufferSize sits between its PkgLength and its bytes. */
	if (a->open[a->depth].is_buffer)
		nint = integer_encode(pre + 4, body);
	n = pkglen_encode(pre, body + nint);
	if (!n || n + nint > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memmove(a->buf + start + n + nint, a->buf + start, body);
	memcpy(a->buf + start, pre, n);
	memcpy(a->buf + start + n, pre + 4, nint);
	a->len += n + nint;
}

void aml_res_io(struct aml *a, uint16_t base, uint8_t len)
{
	aml_byte(a, RES_IO);
	aml_byte(a, 0x01);		/* decodes 16 address bits */
	aml_le(a, base, 2);		/* minimum base */
	aml_le(a, base, 2);		/* maximum base */
	aml_byte(a, 1);			/* alignment */
	aml_byte(a, len);
}

void aml_res_irq(struct aml *a, uint16_t mask)
{
	/* Without the flags byte: edge-triggered, active-high, exclusive. */
	aml_byte(a, RES_IRQ_NOFLAGS);
	aml_le(a, mask, 2);
}

void aml_res_mem32_fixed(struct aml *a, uint32_t base, uint32_t len)
{
	aml_byte(a, RES_MEM32_FIXED);
	aml_le(a, 9, 2);
	aml_byte(a, 0x01);		/* read-write */
	aml_le(a, base, 4);
	aml_le(a, len, 4);
}

/* Word/DWord/QWord address space descriptor with fixed min and max. */
static void aml_res_addr(struct aml *a, uint8_t tag, unsigned int width,
			 uint8_t space, uint8_t tflags, uint64_t min,
			 uint64_t max)
{
	aml_byte(a, tag);
	aml_le(a, 3 + 5 * width, 2);	/* bytes after the length field */
	aml_byte(a, space);
	aml_byte(a, RES_GFLAGS_WINDOW);
	aml_byte(a, tflags);
	aml_le(a, 0, width);		/* granularity */
	aml_le(a, min, width);
	aml_le(a, max, width);
	aml_le(a, 0, width);		/* translation offset */
	aml_le(a, max - min + 1, width);
}

void aml_res_bus_range(struct aml *a, uint16_t min, uint16_t max)
{
	aml_res_addr(a, RES_WORD_ADDR, 2, RES_SPACE_BUS, 0, min, max);
}

void aml_res_io_window(struct aml *a, uint16_t min, uint16_t max)
{
	aml_res_addr(a, RES_WORD_ADDR, 2, RES_SPACE_IO, RES_IO_RANGE_ENTIRE,
		     min, max);
}

void aml_res_mem32_window(struct aml *a, uint32_t min, uint32_t max)
{
	aml_res_addr(a, RES_DWORD_ADDR, 4, RES_SPACE_MEM, RES_MEM_RW_UNCACHED,
		     min, max);
}

void aml_res_mem64_window(struct aml *a, uint64_t min, uint64_t max)
{
	aml_res_addr(a, RES_QWORD_ADDR, 8, RES_SPACE_MEM, RES_MEM_RW_UNCACHED,
		     min, max);
}

void aml_res_end(struct aml *a)
{
	aml_byte(a, RES_END_TAG);
	aml_byte(a, 0);			/* checksum 0: "treat as correct" */
}
