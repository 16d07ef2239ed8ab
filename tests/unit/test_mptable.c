// SPDX-License-Identifier: GPL-2.0
/*
 * The MP tables as a guest finds them: a "_MP_" floating pointer on a
 * 16-byte boundary of 0xf0000-0xfffff, then the "PCMP" table, walked entry
 * by entry with the sizes of MP spec 1.4 chapter 4.
 */
#include <stdlib.h>

#include "x86/acpi.h"
#include "core/guest_mem.h"
#include "x86/layout.h"
#include "x86/mptable.h"
#include "core/util.h"
#include "tap.h"

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static const uint8_t *find_mpf(struct guest_mem *mem, uint64_t *gpa)
{
	const uint8_t *p;

	for (*gpa = 0xf0000; *gpa < BIOS_AREA_END; *gpa += 16) {
		p = gpa_to_hva(mem, *gpa, 16);
		if (!memcmp(p, "_MP_", 4) && !sum(p, 16))
			return p;
	}
	return NULL;
}

struct counts {
	unsigned int cpus, bsp, buses, ioapics, isa, pci, lint, entries;
	bool ids_ok, routes_ok, isa_ok, buses_ok;
};

static void walk(const uint8_t *t, unsigned int nr_cpus, struct counts *c)
{
	uint16_t len = get_le16(t + 4);
	unsigned int off = 44, size;

	memset(c, 0, sizeof(*c));
	c->ids_ok = c->routes_ok = c->isa_ok = c->buses_ok = true;
	while (off < len) {
		const uint8_t *e = t + off;

		size = e[0] == 0 ? 20 : 8;
		if (e[0] > 4 || off + size > len)
			break;
		c->entries++;
		switch (e[0]) {
		case 0:
			if (e[1] != c->cpus || !(e[3] & 1))
				c->ids_ok = false;
			if (e[3] & 2) {
				c->bsp++;
				if (e[1] != 0)
					c->ids_ok = false;
			}
			c->cpus++;
			break;
		case 1:
			if (memcmp(e + 2, e[1] == 0 ? "PCI   " : "ISA   ", 6))
				c->buses_ok = false;
			c->buses++;
			break;
		case 2:
			c->ioapics++;
			is_int(get_le32(e + 4), IOAPIC_ADDR, "IOAPIC address");
			is_int(e[1], nr_cpus, "IOAPIC id follows the CPUs");
			ok(e[3] & 1, "IOAPIC enabled");
			break;
		case 3:
			if (e[6] != nr_cpus)
				c->routes_ok = false;
			if (e[4] == 1) {	/* ISA */
				c->isa++;
				if (e[7] != (e[5] == 0 ? 2 : e[5]) || e[5] == 2)
					c->isa_ok = false;
			} else {		/* PCI: device << 2 | pin */
				c->pci++;
				if (e[7] != pci_intx_gsi(e[5] >> 2, e[5] & 3) ||
				    get_le16(e + 2) != 0xf)
					c->routes_ok = false;
			}
			break;
		case 4:
			/* ExtINT on LINT0, NMI on LINT1, all local APICs. */
			if (e[6] == 0xff && ((e[1] == 3 && e[7] == 0) ||
					     (e[1] == 1 && e[7] == 1)))
				c->lint++;
			break;
		}
		off += size;
	}
	is_int(off, len, "entries exactly fill the table");
}

static void test_tables(unsigned int nr_cpus)
{
	struct guest_mem mem;
	const uint8_t *mpf, *t;
	struct counts c;
	uint64_t gpa;
	uint16_t len;

	tap_diag("%u CPU(s)", nr_cpus);
	if (guest_mem_init(&mem, 64 * MiB)) {
		ok(0, "guest_mem_init");
		return;
	}
	is_int(mptable_build(&mem, nr_cpus), 0, "mptable_build");
	mpf = find_mpf(&mem, &gpa);
	ok(mpf, "floating pointer found with a valid checksum");
	if (!mpf)
		goto out;
	is_int(gpa, MPTABLE_ADDR, "floating pointer at MPTABLE_ADDR");
	is_int(mpf[8], 1, "floating pointer: 16 bytes");
	is_int(mpf[9], 4, "floating pointer: spec 1.4");
	is_int(mpf[11], 0, "floating pointer: config table, no default");
	t = gpa_to_hva(&mem, get_le32(mpf + 4), 44);
	ok(t && !memcmp(t, "PCMP", 4), "config table signature");
	if (!t)
		goto out;
	len = get_le16(t + 4);
	ok(gpa_to_hva(&mem, get_le32(mpf + 4), len), "config table in RAM");
	is_int(sum(t, len), 0, "config table checksum");
	is_int(t[6], 4, "config table: spec 1.4");
	is_int(get_le32(t + 36), LAPIC_ADDR, "local APIC address");

	walk(t, nr_cpus, &c);
	is_int(c.entries, get_le16(t + 34), "entry count matches the walk");
	is_int(c.cpus, nr_cpus, "one processor entry per CPU");
	is_int(c.bsp, 1, "exactly one BSP");
	ok(c.ids_ok, "APIC IDs 0..n-1, enabled, CPU 0 is the BSP");
	is_int(c.buses, 2, "two buses");
	ok(c.buses_ok, "bus 0 is PCI, bus 1 is ISA");
	is_int(c.ioapics, 1, "one IOAPIC");
	is_int(c.isa, 15, "ISA IRQs 0-15 but the cascade");
	ok(c.isa_ok, "ISA IRQ0 on pin 2, others identity");
	is_int(c.pci, 128, "PCI INTx for 32 slots x 4 pins");
	ok(c.routes_ok, "PCI routes follow pci_intx_gsi(), level/low");
	is_int(c.lint, 2, "ExtINT on LINT0 and NMI on LINT1");
out:
	guest_mem_destroy(&mem);
}

static void test_errors(void)
{
	size_t size;
	uint8_t *buf;
	int ret = -ENOSPC;

	for (size = 0; size < MPTABLE_SIZE; size++) {
		buf = malloc(size ? size : 1);
		ret = mptable_write(buf, MPTABLE_ADDR, size, 2);
		free(buf);
		if (ret != -ENOSPC)
			break;
	}
	is_int(ret, 0, "table fits once the area is large enough");
	ok(size > 16 + 44 + 2 * 20, "every smaller area gave -ENOSPC");

	buf = malloc(MPTABLE_SIZE);
	is_int(mptable_write(buf, MPTABLE_ADDR, MPTABLE_SIZE, 0), -EINVAL,
	       "0 CPUs: -EINVAL");
	is_int(mptable_write(buf, MPTABLE_ADDR, MPTABLE_SIZE,
			     MPTABLE_MAX_CPUS + 1), -EINVAL,
	       "too many CPUs: -EINVAL");
	is_int(mptable_write(buf, MPTABLE_ADDR, MPTABLE_SIZE,
			     MPTABLE_MAX_CPUS), 0, "MPTABLE_MAX_CPUS fit");
	free(buf);
}

int main(void)
{
	test_tables(1);
	test_tables(4);
	test_errors();
	return tap_done();
}
