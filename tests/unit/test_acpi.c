// SPDX-License-Identifier: GPL-2.0
/*
 * The ACPI tables as a guest sees them: found by scanning the BIOS area,
 * walked RSDP -> XSDT -> tables with offsets taken from the ACPI 6.3 spec
 * (not from x86/acpi.c's structures), and disassembled plus recompiled by
 * ACPICA's iasl, an independent AML parser and resource-template checker.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "x86/acpi.h"
#include "core/guest_mem.h"
#include "x86/layout.h"
#include "core/util.h"
#include "tap.h"

struct found {
	const uint8_t *fadt, *madt, *mcfg, *dsdt, *facs, *xsdt, *rsdp;
};

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

/* A table inside the ACPI area, or NULL if it points anywhere else. */
static const uint8_t *table_at(struct guest_mem *mem, uint64_t gpa,
			       uint32_t *len)
{
	const uint8_t *t = gpa_to_hva(mem, gpa, 8);

	if (!t || gpa < ACPI_TABLES_ADDR ||
	    gpa + 8 > ACPI_TABLES_ADDR + ACPI_TABLES_SIZE)
		return NULL;
	*len = get_le32(t + 4);
	if (*len < 36 || gpa + *len > ACPI_TABLES_ADDR + ACPI_TABLES_SIZE)
		return NULL;
	return t;
}

static void check_table(const uint8_t *t, uint32_t len, const char *sig)
{
	ok(t && !memcmp(t, sig, 4), "%s: signature", sig);
	if (!t)
		return;
	is_int(sum(t, len), 0, "  checksum");
	ok(!memcmp(t + 10, "MVM   ", 6), "  OEM ID");
}

/* Like Linux: look for "RSD PTR " on 16-byte boundaries in 0xe0000+. */
static uint64_t scan_rsdp(struct guest_mem *mem)
{
	uint8_t *bios = gpa_to_hva(mem, BIOS_AREA_START,
				   BIOS_AREA_END - BIOS_AREA_START);
	uint64_t off;

	for (off = 0; off < BIOS_AREA_END - BIOS_AREA_START; off += 16)
		if (!memcmp(bios + off, "RSD PTR ", 8) && !sum(bios + off, 20))
			return BIOS_AREA_START + off;
	return 0;
}

static void walk(struct guest_mem *mem, uint64_t rsdp_gpa, struct found *f)
{
	const uint8_t *r = gpa_to_hva(mem, rsdp_gpa, 36), *x, *t;
	uint32_t len, tlen, i, n;

	memset(f, 0, sizeof(*f));
	f->rsdp = r;
	is_int(scan_rsdp(mem), rsdp_gpa, "RSDP found by a BIOS-area scan");
	is_int(sum(r, 20), 0, "RSDP: ACPI 1.0 checksum");
	is_int(sum(r, 36), 0, "RSDP: extended checksum");
	is_int(r[15], 2, "RSDP: revision 2");
	is_int(get_le32(r + 20), 36, "RSDP: length");

	x = table_at(mem, get_le64(r + 24), &len);
	f->xsdt = x;
	check_table(x, len, "XSDT");
	if (!x)
		return;
	n = (len - 36) / 8;
	is_int(len, 36 + 8 * n, "XSDT: whole entries");
	is_int(n, 3, "XSDT: FADT, MADT, MCFG");
	for (i = 0; i < n; i++) {
		t = table_at(mem, get_le64(x + 36 + 8 * i), &tlen);
		if (!t) {
			ok(0, "XSDT entry %u points into the ACPI area", i);
			continue;
		}
		if (!memcmp(t, "FACP", 4))
			f->fadt = t;
		else if (!memcmp(t, "APIC", 4))
			f->madt = t;
		else if (!memcmp(t, "MCFG", 4))
			f->mcfg = t;
		else
			ok(0, "XSDT entry %u: unexpected %.4s", i, t);
	}
}

static void check_fadt(struct guest_mem *mem, struct found *f)
{
	const uint8_t *t = f->fadt;
	uint32_t len = 0;
	uint64_t dsdt;

	check_table(t, t ? get_le32(t + 4) : 0, "FACP");
	if (!t)
		return;
	is_int(get_le32(t + 4), 276, "FADT: length of revision 6");
	is_int(t[8], 6, "FADT: revision");
	dsdt = get_le32(t + 40);
	is_int(get_le64(t + 140), dsdt, "FADT: X_DSDT == DSDT");
	f->dsdt = table_at(mem, dsdt, &len);
	check_table(f->dsdt, len, "DSDT");
	f->facs = gpa_to_hva(mem, get_le32(t + 36), 64);
	ok(f->facs && !memcmp(f->facs, "FACS", 4) &&
	   get_le32(f->facs + 4) == 64, "FADT: FIRMWARE_CTRL -> FACS");
	ok(IS_ALIGNED(get_le32(t + 36), 64), "FACS 64-byte aligned");
	is_int(get_le16(t + 46), ACPI_SCI_IRQ, "FADT: SCI_INT");
	is_int(get_le32(t + 48), 0, "FADT: SMI_CMD 0 (always in ACPI mode)");
	is_int(get_le32(t + 56), ACPI_PM_PORT, "FADT: PM1a_EVT_BLK");
	is_int(get_le32(t + 64), ACPI_PM_PORT + 4, "FADT: PM1a_CNT_BLK");
	is_int(t[88], 4, "FADT: PM1_EVT_LEN");
	is_int(t[89], 2, "FADT: PM1_CNT_LEN");
	is_int(get_le32(t + 76), 0, "FADT: no PM timer");
	is_int(t[148], 1, "FADT: X_PM1a_EVT_BLK in system I/O");
	is_int(t[149], 32, "FADT: X_PM1a_EVT_BLK width");
	is_int(get_le64(t + 152), ACPI_PM_PORT, "FADT: X_PM1a_EVT_BLK address");
	is_int(get_le64(t + 176), ACPI_PM_PORT + 4,
	       "FADT: X_PM1a_CNT_BLK address");
	ok(!(get_le32(t + 112) & (1u << 20)), "FADT: not HW-reduced");
	ok(get_le16(t + 109) & 2, "FADT: 8042 present");
	is_int(get_le64(t + 120), I8042_CMD_PORT, "FADT: RESET_REG");
	is_int(t[128], 0xfe, "FADT: RESET_VALUE");
}

static void check_madt(const uint8_t *t, unsigned int nr_cpus)
{
	uint32_t len, off;
	unsigned int lapics = 0, ioapics = 0, ids_ok = 1, irq0 = 0, sci = 0;

	check_table(t, t ? get_le32(t + 4) : 0, "APIC");
	if (!t)
		return;
	len = get_le32(t + 4);
	is_int(get_le32(t + 36), LAPIC_ADDR, "MADT: local APIC address");
	for (off = 44; off + 2 <= len && t[off + 1] >= 2; off += t[off + 1]) {
		const uint8_t *e = t + off;

		if (off + e[1] > len)
			break;
		switch (e[0]) {
		case 0:
			if (e[3] != lapics || e[2] != lapics ||
			    !(get_le32(e + 4) & 1))
				ids_ok = 0;
			lapics++;
			break;
		case 1:
			ioapics++;
			is_int(get_le32(e + 4), IOAPIC_ADDR,
			       "MADT: IOAPIC address");
			is_int(get_le32(e + 8), 0, "MADT: IOAPIC GSI base");
			is_int(e[2], nr_cpus, "MADT: IOAPIC id follows CPUs");
			break;
		case 2:
			if (e[3] == 0 && get_le32(e + 4) == 2)
				irq0++;
			if (e[3] == ACPI_SCI_IRQ &&
			    get_le32(e + 4) == ACPI_SCI_IRQ &&
			    get_le16(e + 8) == 0xd)
				sci++;
			break;
		}
	}
	is_int(off, len, "MADT: entries exactly fill the table");
	is_int(lapics, nr_cpus, "MADT: one local APIC per CPU");
	ok(ids_ok, "MADT: APIC IDs 0..n-1, enabled");
	is_int(ioapics, 1, "MADT: one IOAPIC");
	is_int(irq0, 1, "MADT: ISA IRQ0 -> GSI 2");
	is_int(sci, 1, "MADT: SCI level, active-high");
}

static void check_mcfg(const uint8_t *t)
{
	check_table(t, t ? get_le32(t + 4) : 0, "MCFG");
	if (!t)
		return;
	is_int(get_le32(t + 4), 60, "MCFG: one allocation");
	is_int(get_le64(t + 44), PCI_ECAM_BASE, "MCFG: ECAM base");
	is_int(get_le16(t + 52), 0, "MCFG: segment 0");
	is_int(t[54], 0, "MCFG: start bus");
	is_int(t[55], 0, "MCFG: end bus");
}

static int rm_entry(const char *path, const struct stat *sb, int type,
		    struct FTW *ftw)
{
	return remove(path);
}

static int write_file(const char *dir, const char *name, const void *p,
		      size_t len)
{
	char path[512];
	FILE *fp;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "wb");
	if (!fp)
		return -1;
	ret = fwrite(p, 1, len, fp) == len ? 0 : -1;
	return fclose(fp) || ret ? -1 : 0;
}

static char *slurp(const char *dir, const char *name)
{
	char path[512];
	uint8_t *buf;
	size_t len;
	char *s;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (read_file(path, &buf, &len))
		return NULL;
	s = realloc(buf, len + 1);
	if (!s) {
		free(buf);
		return NULL;
	}
	s[len] = 0;
	return s;
}

/* iasl's "0x<value>,   // <comment>" line of a resource descriptor. */
static bool has_field(const char *dsl, unsigned long long v, int digits,
		      const char *comment)
{
	char want[32];
	const char *p;

	snprintf(want, sizeof(want), "0x%0*llX,", digits, v);
	for (p = dsl; (p = strstr(p, want)); p++) {
		const char *q = p + strlen(want);

		while (*q == ' ')
			q++;
		if (!strncmp(q, "// ", 3) && !strncmp(q + 3, comment,
						      strlen(comment)))
			return true;
	}
	return false;
}

static int run_in(const char *dir, const char *cmd)
{
	char line[1024];

	snprintf(line, sizeof(line), "cd '%s' && %s >>iasl.log 2>&1", dir, cmd);
	return system(line);
}

static void check_iasl(const struct found *f, const struct acpi_machine *m)
{
	/* (iasl 20200925 cannot disassemble a bare RSDP, so it is left out.) */
	static const struct { const char *name; size_t off; } tabs[] = {
		{ "xsdt", offsetof(struct found, xsdt) },
		{ "facp", offsetof(struct found, fadt) },
		{ "facs", offsetof(struct found, facs) },
		{ "apic", offsetof(struct found, madt) },
		{ "mcfg", offsetof(struct found, mcfg) },
		{ "dsdt", offsetof(struct found, dsdt) },
	};
	char dir[] = "/tmp/mvm-acpi-XXXXXX", file[32], cmd[64];
	char *dsl, *log;
	unsigned int i, prt_entries = 0;
	const char *p;

	if (system("command -v iasl >/dev/null 2>&1")) {
		ok(0, "iasl found (install acpica-tools: the ACPI tests "
		   "need ACPICA's disassembler)");
		return;
	}
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(tabs); i++) {
		const uint8_t *t = *(const uint8_t *const *)
				   ((const char *)f + tabs[i].off);
		size_t len = get_le32(t + 4);

		snprintf(file, sizeof(file), "%s.dat", tabs[i].name);
		snprintf(cmd, sizeof(cmd), "iasl -d %s", file);
		ok(!write_file(dir, file, t, len) && !run_in(dir, cmd),
		   "iasl -d %s exits 0", file);
	}
	log = slurp(dir, "iasl.log");
	ok(log && !strstr(log, "Error") && !strstr(log, "Invalid"),
	   "iasl reports no errors");
	if (log && (strstr(log, "Error") || strstr(log, "Invalid")))
		tap_diag("iasl log:\n%s", log);
	free(log);

	dsl = slurp(dir, "dsdt.dsl");
	ok(dsl, "DSDT disassembled");
	if (dsl) {
		ok(strstr(dsl, "EisaId (\"PNP0A08\")"), "DSDT: PNP0A08 bridge");
		ok(strstr(dsl, "EisaId (\"PNP0A03\")"), "DSDT: PNP0A03 _CID");
		ok(strstr(dsl, "EisaId (\"PNP0C02\")"), "DSDT: PNP0C02");
		ok(strstr(dsl, "EisaId (\"PNP0501\")"), "DSDT: COM1");
		ok(strstr(dsl, "Name (_S5, Package"), "DSDT: _S5_ package");
		ok(strstr(dsl, "Name (_PRT, Package (0x80)"),
		   "DSDT: _PRT with 128 entries");
		for (p = dsl; (p = strstr(p, "Package (0x04)")); p++)
			prt_entries++;
		/* 128 routing entries plus \_S5's package. */
		is_int(prt_entries, 129, "DSDT: 4-element packages");
		ok(strstr(dsl, "WordBusNumber ("), "DSDT: bus range");
		ok(strstr(dsl, "WordIO ("), "DSDT: I/O window");
		ok(strstr(dsl, "DWordMemory (") &&
		   has_field(dsl, PCI_MMIO32_BASE, 8, "Range Minimum") &&
		   has_field(dsl, PCI_MMIO32_BASE + PCI_MMIO32_SIZE - 1, 8,
			     "Range Maximum") &&
		   has_field(dsl, PCI_MMIO32_SIZE, 8, "Length"),
		   "DSDT: 32-bit MMIO window");
		ok(strstr(dsl, "QWordMemory (") &&
		   has_field(dsl, m->mmio64_base, 16, "Range Minimum") &&
		   has_field(dsl, m->mmio64_base + m->mmio64_size - 1, 16,
			     "Range Maximum") &&
		   has_field(dsl, m->mmio64_size, 16, "Length"),
		   "DSDT: 64-bit MMIO window");
		ok(strstr(dsl, "Memory32Fixed (ReadWrite,") &&
		   has_field(dsl, PCI_ECAM_BASE, 8, "Address Base") &&
		   has_field(dsl, PCI_ECAM_SIZE, 8, "Address Length"),
		   "DSDT: ECAM reserved by a motherboard device");
		ok(has_field(dsl, 0xd00, 4, "Range Minimum") &&
		   has_field(dsl, 0xcf7, 4, "Range Maximum"),
		   "DSDT: I/O windows around 0xcf8-0xcff");
	}
	free(dsl);

	/*
	 * The compiler checks what the disassembler lets pass, e.g. that a
	 * window's length matches its fixed minimum and maximum.
	 */
	ok(!run_in(dir, "iasl -p recompiled dsdt.dsl"),
	   "iasl recompiles the disassembled DSDT");
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void test_tables(unsigned int nr_cpus, bool with_iasl)
{
	struct acpi_machine m = {
		.nr_cpus = nr_cpus,
		.mmio64_base = HIGH_RAM_START,
		.mmio64_size = PCI_MMIO64_SIZE,
	};
	struct guest_mem mem;
	struct found f;
	uint64_t rsdp = 0;

	tap_diag("%u CPU(s)", nr_cpus);
	if (guest_mem_init(&mem, 64 * MiB)) {
		ok(0, "guest_mem_init");
		return;
	}
	is_int(acpi_tables_build(&mem, &m, &rsdp), 0, "acpi_tables_build");
	is_int(rsdp, ACPI_TABLES_ADDR, "RSDP at ACPI_TABLES_ADDR");
	walk(&mem, rsdp, &f);
	check_fadt(&mem, &f);
	check_madt(f.madt, nr_cpus);
	check_mcfg(f.mcfg);
	if (with_iasl && f.fadt && f.madt && f.mcfg && f.dsdt && f.facs)
		check_iasl(&f, &m);
	guest_mem_destroy(&mem);
}

static void test_errors(void)
{
	struct acpi_machine m = { .nr_cpus = 1, .mmio64_base = HIGH_RAM_START,
				  .mmio64_size = PCI_MMIO64_SIZE };
	uint64_t rsdp;
	size_t size;
	uint8_t *buf;
	int ret = -ENOSPC, enospc = 1;

	/* Exactly-sized heap buffers: ASan catches a write past the end. */
	for (size = 0; size < ACPI_TABLES_SIZE; size++) {
		buf = malloc(size ? size : 1);
		ret = acpi_tables_write(buf, ACPI_TABLES_ADDR, size, &m, &rsdp);
		free(buf);
		if (ret != -ENOSPC)
			break;
	}
	is_int(ret, 0, "tables fit once the area is large enough");
	tap_diag("tables for 1 CPU need %zu bytes", size);
	ok(size > 36 + 64 + 276 + 1024, "every smaller area gave -ENOSPC");
	buf = malloc(1);
	enospc = acpi_tables_write(buf, ACPI_TABLES_ADDR, 0, &m, &rsdp);
	free(buf);
	is_int(enospc, -ENOSPC, "empty area: -ENOSPC");

	buf = malloc(ACPI_TABLES_SIZE);
	m.nr_cpus = 0;
	is_int(acpi_tables_write(buf, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE, &m,
				 &rsdp), -EINVAL, "0 CPUs: -EINVAL");
	m.nr_cpus = ACPI_MAX_CPUS + 1;
	is_int(acpi_tables_write(buf, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE, &m,
				 &rsdp), -EINVAL, "too many CPUs: -EINVAL");
	m.nr_cpus = ACPI_MAX_CPUS;
	is_int(acpi_tables_write(buf, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE, &m,
				 &rsdp), 0, "ACPI_MAX_CPUS fit");
	m.nr_cpus = 1;
	m.mmio64_base = PCI_MMIO64_ALIGN;
	is_int(acpi_tables_write(buf, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE, &m,
				 &rsdp), -EINVAL,
	       "64-bit window below 4 GiB (over the 32-bit hole): -EINVAL");
	m.mmio64_size = 0;
	is_int(acpi_tables_write(buf, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE, &m,
				 &rsdp), 0, "no 64-bit window: base ignored");
	m.mmio64_size = PCI_MMIO64_SIZE;
	m.mmio64_base = ~0ULL - 10;
	is_int(acpi_tables_write(buf, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE, &m,
				 &rsdp), -EINVAL, "wrapping 64-bit window");
	free(buf);
}

static void test_intx_swizzle(void)
{
	is_int(pci_intx_gsi(0, 0), PCI_INTX_IRQ_BASE, "slot 0 INTA");
	is_int(pci_intx_gsi(1, 0), PCI_INTX_IRQ_BASE + 1, "slot 1 INTA");
	is_int(pci_intx_gsi(1, 3), PCI_INTX_IRQ_BASE, "slot 1 INTD wraps");
	is_int(pci_intx_gsi(31, 3), PCI_INTX_IRQ_BASE + 2, "slot 31 INTD");
}

int main(void)
{
	test_intx_swizzle();
	test_tables(1, true);
	test_tables(4, true);
	test_errors();
	return tap_done();
}
