// SPDX-License-Identifier: GPL-2.0
/*
 * A tiny driver for mbox-vf (docs/mbox-vf.md), run by test_g_mbox with
 * `--passthrough sim:mbox-vf`.  It does what Linux's PCI core and a VF
 * driver do, in order, and reports each step:
 *
 *  - find 1234:5f10 on bus 0, read its 64-bit BAR0 (mvm assigned it and
 *    enabled decoding), enable bus mastering;
 *  - walk the capabilities: MSI-X must be there, the vendor-specific one
 *    (0x09, host firmware details) must not: mvm hides it;
 *  - xAPIC on, IDT with counting handlers for 0x40..0x4f, sti;
 *  - MSI-X on the Linux way (msix_capability_init): Enable | Function
 *    Mask in one config write, every vector still masked, and at once a
 *    mailbox command.  The PF answers only if MSI-X is on in the *host*:
 *    this is the QEMU pci-assign bug of Dec 2012 (enable MSI-X on the
 *    device to match the guest);
 *  - program the table (vector i -> APIC 0, vector 0x40 + i), clear
 *    Function Mask, unmask the vectors one by one; the command's
 *    completion, raised on masked vector 0, must arrive once vector 0 is
 *    unmasked, exactly once;
 *  - doorbell every vector and see each interrupt arrive;
 *  - mask vector 3, ring it: no interrupt, its PBA bit set; unmask: the
 *    interrupt arrives once and the PBA bit clears.
 *
 * Waits are bounded spins on memory (no exits) with interrupts on.
 */
#include "guest.h"
#include "idt.h"
#include "pci.h"
#include "smp.h"

/* mbox-vf, as in include/vfio/vfio_sim.h (not includable here). */
#define MBOX_VENDOR		0x1234
#define MBOX_DEVICE		0x5f10
#define MBOX_REG_ID		0x00
#define MBOX_REG_CMD		0x04
#define MBOX_REG_STATUS		0x08
#define MBOX_REG_VECTOR		0x0c
#define MBOX_REG_RESULT		0x10
#define MBOX_REG_DOORBELL	0x14
#define MBOX_REG_HOST_IRQ	0x20
#define MBOX_REG_VECTORS	0x24
#define MBOX_ID			0x5f10cafe
#define MBOX_STATUS_DONE	2
#define MBOX_CMD		0x1234

#define PCI_CAP_ID_VNDR		0x09
#define PCI_CAP_ID_MSIX		0x11
#define PCI_MSIX_FLAGS		2
#define PCI_MSIX_FLAGS_QSIZE	0x07ff
#define PCI_MSIX_FLAGS_MASKALL	0x4000
#define PCI_MSIX_FLAGS_ENABLE	0x8000
#define PCI_MSIX_TABLE		4
#define PCI_MSIX_PBA		8
#define PCI_MSIX_BIR		0x7
#define MSIX_ENTRY_SIZE		16
#define MSIX_ADDR_LO		0
#define MSIX_ADDR_HI		4
#define MSIX_DATA		8
#define MSIX_CTRL		12
#define MSIX_CTRL_MASKBIT	1

#define VECTOR_BASE		0x40
#define MAX_VECTORS		16
#define MASK_TEST_VECTOR	3
#define WAIT_SPINS		50000000u
#define MSI_ADDR_APIC0		0xfee00000u

/* SYNC stages; test_g_mbox.c asserts on them. */
enum {
	ST_FOUND = 1,		/* dev << 3 | fn */
	ST_BAR0,		/* BAR0 address */
	ST_CMD,			/* command register before we set MASTER */
	ST_MSIX_CAP,		/* capability offset */
	ST_CAPS_SEEN,		/* bit per capability ID met on the walk */
	ST_TABLE,		/* MSI-X Table Offset/BIR dword */
	ST_PBA,			/* PBA Offset/BIR dword */
	ST_QSIZE,		/* table size */
	ST_ID,			/* MBOX_REG_ID */
	ST_IF0_INT,		/* int $0x7e with IF=0: hits | replays << 16 */
	ST_STATUS,		/* MBOX_REG_STATUS after the early command */
	ST_RESULT,		/* MBOX_REG_RESULT */
	ST_HOST_IRQ,		/* MBOX_REG_HOST_IRQ right after enable */
	ST_COMPLETION,		/* hits on 0x40 once vector 0 is unmasked */
	ST_VEC0_AFTER_UNMASK,	/* hits on 0x40 once all are unmasked */
	ST_DOORBELLS,		/* bitmap: vectors whose doorbell arrived */
	ST_MASKED_HITS,		/* hits on vector 3 while masked (delta) */
	ST_MASKED_PBA,		/* PBA dword 0 while vector 3 is masked */
	ST_UNMASKED_HITS,	/* delta after the unmask */
	ST_UNMASKED_PBA,	/* PBA dword 0 after the unmask */
	ST_HOST_IRQ_END,	/* MBOX_REG_HOST_IRQ at the end */
};

static uint64_t bar0;
static uint64_t table, pba;

static uint32_t reg_read(unsigned int reg)
{
	return mmio_read32(bar0 + reg);
}

static void reg_write(unsigned int reg, uint32_t v)
{
	mmio_write32(bar0 + reg, v);
}

static void entry_write(unsigned int v, unsigned int field, uint32_t val)
{
	mmio_write32(table + v * MSIX_ENTRY_SIZE + field, val);
}

/* Spin (no exits) until vector's count exceeds `than`; returns it. */
static uint32_t wait_hits_above(unsigned int vector, uint32_t than)
{
	unsigned int spins = 0;

	while (idt_hits_read(vector) <= than && ++spins < WAIT_SPINS)
		cpu_relax();
	return idt_hits_read(vector);
}

void guest_main(void *bp)
{
	struct pci_func f[32];
	unsigned int n, i, dev = 0, fn = 0, cap, nvec, spins;
	uint32_t lo, hi, tbl, pbar, cmd, delivered = 0, before;
	uint16_t ctrl;
	uint64_t seen = 0;
	int found = -1;

	n = pci_scan_bus0(f, 32);
	for (i = 0; i < n; i++)
		if (f[i].vendor == MBOX_VENDOR && f[i].device == MBOX_DEVICE)
			found = (int)i;
	GUEST_ASSERT(found >= 0);
	dev = f[found].dev;
	fn = f[found].fn;
	GUEST_SYNC(ST_FOUND, dev << 3 | fn);

	/* BAR0: 64-bit memory, assigned by mvm. */
	lo = pci_cfg_read32(0, dev, fn, PCI_BASE_ADDRESS_0);
	hi = pci_cfg_read32(0, dev, fn, PCI_BASE_ADDRESS_0 + 4);
	GUEST_ASSERT_EQ(lo & 0x7, 0x4);		/* memory, 64-bit */
	bar0 = (uint64_t)hi << 32 | (lo & ~0xfULL);
	GUEST_ASSERT(bar0 != 0);
	GUEST_SYNC(ST_BAR0, bar0);
	cmd = pci_cfg_read16(0, dev, fn, PCI_COMMAND);
	GUEST_SYNC(ST_CMD, cmd);
	GUEST_ASSERT(cmd & PCI_COMMAND_MEMORY);
	pci_cfg_write16(0, dev, fn, PCI_COMMAND, cmd | PCI_COMMAND_MASTER);
	GUEST_ASSERT(pci_cfg_read16(0, dev, fn, PCI_COMMAND) &
		     PCI_COMMAND_MASTER);

	/* Capabilities: MSI-X yes, vendor-specific no. */
	cap = pci_find_cap(0, dev, fn, PCI_CAP_ID_MSIX, &seen);
	GUEST_SYNC(ST_MSIX_CAP, cap);
	GUEST_SYNC(ST_CAPS_SEEN, seen);
	GUEST_ASSERT(cap != 0);
	GUEST_ASSERT(!(seen & (1ULL << PCI_CAP_ID_VNDR)));
	ctrl = pci_cfg_read16(0, dev, fn, cap + PCI_MSIX_FLAGS);
	GUEST_ASSERT(!(ctrl & PCI_MSIX_FLAGS_ENABLE));
	tbl = pci_cfg_read32(0, dev, fn, cap + PCI_MSIX_TABLE);
	pbar = pci_cfg_read32(0, dev, fn, cap + PCI_MSIX_PBA);
	nvec = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1;
	GUEST_SYNC(ST_TABLE, tbl);
	GUEST_SYNC(ST_PBA, pbar);
	GUEST_SYNC(ST_QSIZE, nvec);
	/* One BAR holds registers, table and PBA on this device. */
	GUEST_ASSERT_EQ(tbl & PCI_MSIX_BIR, 0);
	GUEST_ASSERT_EQ(pbar & PCI_MSIX_BIR, 0);
	table = bar0 + (tbl & ~PCI_MSIX_BIR);
	pba = bar0 + (pbar & ~PCI_MSIX_BIR);
	if (nvec > MAX_VECTORS)
		nvec = MAX_VECTORS;
	GUEST_ASSERT(nvec > MASK_TEST_VECTOR);

	GUEST_ASSERT(pci_map_mmio(bar0, 0x20000) != NULL);
	GUEST_SYNC(ST_ID, reg_read(MBOX_REG_ID));
	GUEST_ASSERT_EQ(reg_read(MBOX_REG_ID), MBOX_ID);
	GUEST_ASSERT_EQ(reg_read(MBOX_REG_VECTORS),
			(ctrl & PCI_MSIX_FLAGS_QSIZE) + 1);

	/* Interrupts: xAPIC on, handlers for 0x40.., IF=1. */
	idt_init();
	lapic_enable();
	GUEST_ASSERT(lapic_read(LAPIC_SVR) & APIC_SVR_ENABLE);
	/* A vector entered with IF=0 is a replay, not a hit (idt.c). */
	asm volatile("int $0x7e" ::: "memory");
	GUEST_SYNC(ST_IF0_INT, idt_hits_read(0x7e) | idt_replays << 16);
	irq_enable();

	/* Linux: Enable | Function Mask in one write, then talk at once. */
	pci_cfg_write16(0, dev, fn, cap + PCI_MSIX_FLAGS,
			PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	reg_write(MBOX_REG_VECTOR, 0);
	reg_write(MBOX_REG_CMD, MBOX_CMD);
	GUEST_SYNC(ST_STATUS, reg_read(MBOX_REG_STATUS));
	GUEST_SYNC(ST_RESULT, reg_read(MBOX_REG_RESULT));
	GUEST_SYNC(ST_HOST_IRQ, reg_read(MBOX_REG_HOST_IRQ));
	GUEST_ASSERT_EQ(reg_read(MBOX_REG_STATUS), MBOX_STATUS_DONE);
	GUEST_ASSERT_EQ(reg_read(MBOX_REG_RESULT), (uint32_t)~MBOX_CMD);
	/* Every vector is masked: nothing may have arrived. */
	GUEST_ASSERT_EQ(idt_hits_read(VECTOR_BASE), 0);

	for (i = 0; i < nvec; i++) {
		entry_write(i, MSIX_ADDR_LO, MSI_ADDR_APIC0);
		entry_write(i, MSIX_ADDR_HI, 0);
		entry_write(i, MSIX_DATA, VECTOR_BASE + i);
	}
	pci_cfg_write16(0, dev, fn, cap + PCI_MSIX_FLAGS,
			PCI_MSIX_FLAGS_ENABLE);

	/* The completion pends on vector 0 until it is unmasked. */
	GUEST_ASSERT_EQ(idt_hits_read(VECTOR_BASE), 0);
	entry_write(0, MSIX_CTRL, 0);
	GUEST_SYNC(ST_COMPLETION, wait_hits_above(VECTOR_BASE, 0));
	GUEST_ASSERT_EQ(idt_hits_read(VECTOR_BASE), 1);

	for (i = 1; i < nvec; i++)
		entry_write(i, MSIX_CTRL, 0);
	GUEST_SYNC(ST_VEC0_AFTER_UNMASK, idt_hits_read(VECTOR_BASE));

	/* Doorbells, one vector at a time. */
	for (i = 0; i < nvec; i++) {
		before = idt_hits_read(VECTOR_BASE + i);
		reg_write(MBOX_REG_DOORBELL, i);
		if (wait_hits_above(VECTOR_BASE + i, before) == before + 1)
			delivered |= 1u << i;
	}
	GUEST_SYNC(ST_DOORBELLS, delivered);
	GUEST_ASSERT_EQ(delivered, (1u << nvec) - 1);

	/* Masked: the interrupt waits in the PBA. */
	before = idt_hits_read(VECTOR_BASE + MASK_TEST_VECTOR);
	entry_write(MASK_TEST_VECTOR, MSIX_CTRL, MSIX_CTRL_MASKBIT);
	reg_write(MBOX_REG_DOORBELL, MASK_TEST_VECTOR);
	/* mvm may set the bit from its event loop: poll (each read exits). */
	for (spins = 0; spins < 100000; spins++)
		if (mmio_read32(pba) & (1u << MASK_TEST_VECTOR))
			break;
	GUEST_SYNC(ST_MASKED_HITS,
		   idt_hits_read(VECTOR_BASE + MASK_TEST_VECTOR) - before);
	GUEST_SYNC(ST_MASKED_PBA, mmio_read32(pba));
	GUEST_ASSERT_EQ(idt_hits_read(VECTOR_BASE + MASK_TEST_VECTOR), before);
	GUEST_ASSERT(mmio_read32(pba) & (1u << MASK_TEST_VECTOR));

	entry_write(MASK_TEST_VECTOR, MSIX_CTRL, 0);
	wait_hits_above(VECTOR_BASE + MASK_TEST_VECTOR, before);
	GUEST_SYNC(ST_UNMASKED_HITS,
		   idt_hits_read(VECTOR_BASE + MASK_TEST_VECTOR) - before);
	GUEST_SYNC(ST_UNMASKED_PBA, mmio_read32(pba));
	GUEST_ASSERT_EQ(idt_hits_read(VECTOR_BASE + MASK_TEST_VECTOR),
			before + 1);
	GUEST_ASSERT(!(mmio_read32(pba) & (1u << MASK_TEST_VECTOR)));

	GUEST_SYNC(ST_HOST_IRQ_END, reg_read(MBOX_REG_HOST_IRQ));
	irq_disable();
	guest_printf("g_mbox: %u vectors, mailbox and MSI-X OK\n", nvec);
	if (idt_replays > 1)
		guest_printf("g_mbox: %u replayed deliveries ignored\n",
			     idt_replays - 1);
	GUEST_DONE();
}
