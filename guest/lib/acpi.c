// SPDX-License-Identifier: GPL-2.0
#include "guest.h"
#include "acpi.h"

#define RSDP_SIG		"RSD PTR "
#define MADT_LAPIC		0
#define MADT_X2APIC		9
#define MADT_ENABLED		(1 << 0)
#define MADT_ONLINE_CAPABLE	(1 << 1)
#define FADT_DSDT		40	/* u32 */
#define FADT_PM1A_CNT_BLK	64	/* u32 */
#define FADT_X_DSDT		140	/* u64, ACPI 2.0+ */
#define AML_NAME_OP		0x08
#define AML_PACKAGE_OP		0x12
#define AML_BYTE_PREFIX		0x0a

static uint32_t rd32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

uint8_t acpi_checksum(const void *p, unsigned int len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

/* ACPI 6.5 5.2.5.1: on 16-byte boundaries in the EBDA's first KiB or
 * 0xe0000-0xfffff; the first 20 bytes (ACPI 1.0 part) sum to zero. */
static const void *scan_rsdp(uint64_t start, uint64_t end)
{
	for (; start + 20 <= end; start += 16) {
		const void *p = (const void *)start;

		if (!memcmp(p, RSDP_SIG, 8) && !acpi_checksum(p, 20))
			return p;
	}
	return NULL;
}

const void *acpi_find_rsdp(const void *bp)
{
	uint64_t addr = bp_read(bp, BP_ACPI_RSDP_ADDR, 8);
	uint64_t ebda = (uint64_t)*(volatile uint16_t *)phys(0x40e) << 4;
	const void *p;

	if (addr && !memcmp((const void *)addr, RSDP_SIG, 8))
		return (const void *)addr;
	if (ebda >= 0x80000 && ebda < 0xa0000 &&
	    (p = scan_rsdp(ebda, ebda + 1024)))
		return p;
	return scan_rsdp(0xe0000, 0x100000);
}

static const struct acpi_sdt_header *valid_table(uint64_t addr)
{
	const struct acpi_sdt_header *h = (const void *)addr;

	if (!addr || addr >= MMIO_HOLE_END || h->length < sizeof(*h) ||
	    acpi_checksum(h, h->length))
		return NULL;
	return h;
}

const struct acpi_sdt_header *acpi_find_table(const void *rsdp,
					      const char sig[4])
{
	const uint8_t *r = rsdp;
	const struct acpi_sdt_header *root, *t;
	unsigned int i, n, esize;

	/* Revision >= 2: XSDT address at offset 24; else RSDT at 16. */
	if (r[15] >= 2 && (root = valid_table(rd64(r + 24))))
		esize = 8;
	else if ((root = valid_table(rd32(r + 16))))
		esize = 4;
	else
		return NULL;
	n = (root->length - sizeof(*root)) / esize;
	for (i = 0; i < n; i++) {
		const uint8_t *e = (const uint8_t *)(root + 1) + i * esize;

		t = valid_table(esize == 8 ? rd64(e) : rd32(e));
		if (t && !memcmp(t->signature, sig, 4))
			return t;
	}
	return NULL;
}

unsigned int acpi_madt_cpus(const struct acpi_sdt_header *madt,
			    struct cpu_info *out, unsigned int max)
{
	/* Entries follow the header, LAPIC address (4) and flags (4). */
	const uint8_t *p = (const uint8_t *)madt + sizeof(*madt) + 8;
	const uint8_t *end = (const uint8_t *)madt + madt->length;
	unsigned int n = 0;

	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		uint32_t flags, id;

		if (p[0] == MADT_LAPIC && p[1] >= 8) {
			id = p[3];
			flags = rd32(p + 4);
		} else if (p[0] == MADT_X2APIC && p[1] >= 16) {
			id = rd32(p + 4);
			flags = rd32(p + 8);
		} else {
			p += p[1];
			continue;
		}
		if ((flags & (MADT_ENABLED | MADT_ONLINE_CAPABLE)) && n < max) {
			out[n].apic_id = id;
			out[n].enabled = flags & MADT_ENABLED;
			n++;
		}
		p += p[1];
	}
	return n;
}

uint16_t acpi_fadt_pm1a_cnt(const struct acpi_sdt_header *fadt)
{
	if (fadt->length < FADT_PM1A_CNT_BLK + 4)
		return 0;
	return rd32((const uint8_t *)fadt + FADT_PM1A_CNT_BLK);
}

/*
 * AML: NameOp "_S5_" PackageOp PkgLength NumElements SLP_TYPa ...
 * (ACPI 6.5 20.2.5.1/20.2.5.4, 7.4.2).  PkgLength's bits 7:6 say how many
 * more bytes follow; SLP_TYPa is a BytePrefix constant, ZeroOp or OneOp.
 */
int acpi_s5_slp_typ(const struct acpi_sdt_header *fadt)
{
	const struct acpi_sdt_header *dsdt = NULL;
	const uint8_t *f = (const void *)fadt, *p, *end;

	if (fadt->length >= FADT_X_DSDT + 8)
		dsdt = valid_table(rd64(f + FADT_X_DSDT));
	if (!dsdt && fadt->length >= FADT_DSDT + 4)
		dsdt = valid_table(rd32(f + FADT_DSDT));
	if (!dsdt)
		return -1;
	end = (const uint8_t *)dsdt + dsdt->length;
	for (p = (const uint8_t *)(dsdt + 1); p + 10 <= end; p++) {
		if (memcmp(p, "_S5_", 4) || p[4] != AML_PACKAGE_OP)
			continue;
		if (p[-1] != AML_NAME_OP &&
		    !(p[-1] == '\\' && p[-2] == AML_NAME_OP))
			continue;
		p += 5;
		p += ((*p >> 6) & 3) + 1;	/* PkgLength */
		p++;				/* NumElements */
		if (*p == AML_BYTE_PREFIX)
			p++;
		return *p <= 1 || p[-1] == AML_BYTE_PREFIX ? *p : -1;
	}
	return -1;
}
