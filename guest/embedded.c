// SPDX-License-Identifier: GPL-2.0
/*
 * The embedded guest: what `mvm run` boots without -k.  It shows a new
 * user what the machine looks like from inside -- command line, CPUs,
 * memory map, PCI functions -- and powers off the way an OS would (ACPI
 * S5 with the PM1a_CNT port and SLP_TYP the tables give).
 */
#include "guest.h"
#include "acpi.h"
#include "pci.h"

#define MAX_CPUS	64
#define MAX_PCI		32

static struct cpu_info cpus[MAX_CPUS];
static struct pci_func funcs[MAX_PCI];

/* Linux's names, so the lines read like arch/x86/kernel/e820.c prints. */
static const char *e820_type_name(uint32_t type)
{
	switch (type) {
	case E820_RAM:		return "usable";
	case E820_RESERVED:	return "reserved";
	case E820_ACPI:		return "ACPI data";
	case E820_NVS:		return "ACPI NVS";
	case E820_UNUSABLE:	return "unusable";
	case E820_PMEM:		return "persistent (type 7)";
	default:		return "type ?";
	}
}

static void show_cpus(const void *rsdp)
{
	const struct acpi_sdt_header *madt = NULL;
	const char *src = "ACPI MADT";
	unsigned int i, n = 0;

	if (rsdp)
		madt = acpi_find_table(rsdp, "APIC");
	if (madt)
		n = acpi_madt_cpus(madt, cpus, MAX_CPUS);
	if (!n) {
		src = "MP table";
		n = mptable_cpus(cpus, MAX_CPUS);
	}
	if (!n) {
		guest_printf("no ACPI MADT or MP table: CPU list unknown\n");
		return;
	}
	guest_printf("found %u CPU%s (%s), APIC IDs:", n, n == 1 ? "" : "s",
		     src);
	for (i = 0; i < n; i++)
		guest_printf(" %u%s", cpus[i].apic_id,
			     cpus[i].enabled ? "" : "(off)");
	guest_printf("; this is APIC ID %u\n", this_cpu_apic_id());
}

static void show_e820(const void *bp)
{
	unsigned int i, n = bp_e820_entries(bp);
	uint64_t ram = 0;

	guest_printf("BIOS-provided physical RAM map (%u entries):\n", n);
	for (i = 0; i < n; i++) {
		const struct e820_entry *e = bp_e820(bp, i);

		guest_printf("BIOS-e820: [mem 0x%016llx-0x%016llx] %s\n",
			     (unsigned long long)e->addr,
			     (unsigned long long)(e->addr + e->size - 1),
			     e820_type_name(e->type));
		if (e->type == E820_RAM)
			ram += e->size;
	}
	guest_printf("usable RAM: %llu KiB\n", (unsigned long long)ram >> 10);
}

static void show_pci(void)
{
	unsigned int i, n = pci_scan_bus0(funcs, MAX_PCI);

	guest_printf("PCI bus 0: %u function%s\n", n, n == 1 ? "" : "s");
	for (i = 0; i < n; i++)
		guest_printf("  00:%02x.%u %04x:%04x class %06x\n",
			     funcs[i].dev, funcs[i].fn, funcs[i].vendor,
			     funcs[i].device, funcs[i].class);
}

static void set_poweroff(const void *rsdp)
{
	const struct acpi_sdt_header *fadt = NULL;
	uint16_t port;
	int typ;

	if (rsdp)
		fadt = acpi_find_table(rsdp, "FACP");
	if (fadt) {
		port = acpi_fadt_pm1a_cnt(fadt);
		typ = acpi_s5_slp_typ(fadt);
		if (port)
			guest_pm1a_cnt = port;
		if (typ >= 0)
			guest_s5_slp_typ = typ;
	}
	guest_printf("powering off: PM1a_CNT port 0x%x, SLP_TYP %u%s\n",
		     guest_pm1a_cnt, guest_s5_slp_typ,
		     fadt ? "" : " (defaults, no FADT)");
}

void guest_main(void *bp)
{
	const void *rsdp;

	guest_printf("mvm embedded guest: hello from the guest\n");
	guest_printf("command line: \"%s\"\n", bp_cmdline(bp));
	rsdp = acpi_find_rsdp(bp);
	if (rsdp)
		guest_printf("ACPI: RSDP at %p\n", rsdp);
	else
		guest_printf("ACPI: no RSDP found\n");
	show_cpus(rsdp);
	show_e820(bp);
	show_pci();
	set_poweroff(rsdp);
	guest_poweroff();
}
