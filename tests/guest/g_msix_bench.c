// SPDX-License-Identifier: GPL-2.0
/*
 * MSI-X cost, guest side (bench/msix.sh runs it through bench/msix_bench.c
 * with `--passthrough sim:mbox-vf,vectors=N,host=...`):
 *
 *  1. enable MSI-X the Linux way for the whole table the device offers
 *     (Enable | Function Mask, program every entry, clear Function Mask,
 *     unmask every vector one by one) and count TSC cycles for it;
 *  2. ring the doorbell of vector 0 M times (kernel command line
 *     "msix_bench.m=M", default 2000), waiting for each interrupt, and
 *     count cycles.
 *
 * Reports (SYNC stage, value): 1 table size, 2 cycles of enable + program,
 * 3 cycles of the unmasks, 4 mailbox status after the enable, 5 M,
 * 6 interrupts received, 7 cycles of the doorbell loop.
 */
#include "guest.h"
#include "idt.h"
#include "pci.h"
#include "smp.h"

#define MBOX_VENDOR		0x1234
#define MBOX_DEVICE		0x5f10
#define MBOX_REG_CMD		0x04
#define MBOX_REG_STATUS		0x08
#define MBOX_REG_VECTOR		0x0c
#define MBOX_REG_DOORBELL	0x14

#define PCI_CAP_ID_MSIX		0x11
#define PCI_MSIX_FLAGS		2
#define PCI_MSIX_FLAGS_QSIZE	0x07ff
#define PCI_MSIX_FLAGS_MASKALL	0x4000
#define PCI_MSIX_FLAGS_ENABLE	0x8000
#define PCI_MSIX_TABLE		4
#define PCI_MSIX_BIR		0x7
#define MSIX_ENTRY_SIZE		16

#define VECTOR_BASE		0x40
#define DEFAULT_M		2000
#define WAIT_SPINS		50000000u

static unsigned int cmdline_uint(const char *cmdline, const char *key,
				 unsigned int def)
{
	size_t klen = strlen(key);
	const char *p = cmdline;
	unsigned int v = 0;

	for (; *p; p++) {
		if ((p != cmdline && p[-1] != ' ') || memcmp(p, key, klen))
			continue;
		p += klen;
		if (*p < '0' || *p > '9')
			return def;
		while (*p >= '0' && *p <= '9')
			v = v * 10 + (unsigned int)(*p++ - '0');
		return v;
	}
	return def;
}

void guest_main(void *bp)
{
	unsigned int m = cmdline_uint(bp_cmdline(bp), "msix_bench.m=",
				      DEFAULT_M);
	struct pci_func f[32];
	unsigned int n, i, dev = 0, fn = 0, cap, nvec, got = 0;
	uint64_t bar0, table, t0, t1, t2;
	uint32_t lo, hi, tbl;
	int found = -1;

	n = pci_scan_bus0(f, 32);
	for (i = 0; i < n; i++)
		if (f[i].vendor == MBOX_VENDOR && f[i].device == MBOX_DEVICE)
			found = (int)i;
	GUEST_ASSERT(found >= 0);
	dev = f[found].dev;
	fn = f[found].fn;
	lo = pci_cfg_read32(0, dev, fn, PCI_BASE_ADDRESS_0);
	hi = pci_cfg_read32(0, dev, fn, PCI_BASE_ADDRESS_0 + 4);
	bar0 = (uint64_t)hi << 32 | (lo & ~0xfULL);
	pci_cfg_write16(0, dev, fn, PCI_COMMAND,
			pci_cfg_read16(0, dev, fn, PCI_COMMAND) |
			PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cap = pci_find_cap(0, dev, fn, PCI_CAP_ID_MSIX, NULL);
	GUEST_ASSERT(cap);
	nvec = (pci_cfg_read16(0, dev, fn, cap + PCI_MSIX_FLAGS) &
		PCI_MSIX_FLAGS_QSIZE) + 1;
	tbl = pci_cfg_read32(0, dev, fn, cap + PCI_MSIX_TABLE);
	GUEST_ASSERT_EQ(tbl & PCI_MSIX_BIR, 0);
	table = bar0 + (tbl & ~PCI_MSIX_BIR);
	GUEST_ASSERT(pci_map_mmio(bar0, 0x20000) != NULL);
	GUEST_SYNC(1, nvec);

	idt_init();
	lapic_enable();
	irq_enable();

	t0 = rdtsc();
	pci_cfg_write16(0, dev, fn, cap + PCI_MSIX_FLAGS,
			PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	for (i = 0; i < nvec; i++) {
		uint64_t e = table + i * MSIX_ENTRY_SIZE;

		mmio_write32(e, 0xfee00000u);
		mmio_write32(e + 4, 0);
		mmio_write32(e + 8, VECTOR_BASE + (i & 15));
	}
	pci_cfg_write16(0, dev, fn, cap + PCI_MSIX_FLAGS,
			PCI_MSIX_FLAGS_ENABLE);
	t1 = rdtsc();
	for (i = 0; i < nvec; i++)
		mmio_write32(table + i * MSIX_ENTRY_SIZE + 12, 0);
	t2 = rdtsc();
	GUEST_SYNC(2, t1 - t0);
	GUEST_SYNC(3, t2 - t1);

	/* The device answers now; its completion goes to vector 0. */
	mmio_write32(bar0 + MBOX_REG_VECTOR, 0);
	mmio_write32(bar0 + MBOX_REG_CMD, 0x1234);
	GUEST_SYNC(4, mmio_read32(bar0 + MBOX_REG_STATUS));
	/* Let the completion (and NORESIZE re-fires) land before timing. */
	for (i = 0; i < 100000; i++)
		cpu_relax();

	t0 = rdtsc();
	for (i = 0; i < m; i++) {
		uint32_t before = idt_hits_read(VECTOR_BASE);
		unsigned int spins = 0;

		mmio_write32(bar0 + MBOX_REG_DOORBELL, 0);
		while (idt_hits_read(VECTOR_BASE) == before &&
		       ++spins < WAIT_SPINS)
			cpu_relax();
		if (idt_hits_read(VECTOR_BASE) == before)
			break;	/* lost: stop, the host reports 'got' < M */
		got++;
	}
	t1 = rdtsc();
	GUEST_SYNC(5, m);
	GUEST_SYNC(6, got);
	GUEST_SYNC(7, t1 - t0);
	irq_disable();
	GUEST_DONE();
}
