/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest physical address map and the fixed I/O ports of an mvm machine.
 * Everything that places something in the guest takes its address from here,
 * so this file is the machine's datasheet.
 *
 *   0x0000_0000  RAM (the IVT/BDA area; e820 RAM, unused by a 64-bit boot)
 *   0x0000_0500  boot GDT
 *   0x0000_6000  boot stack (top at 0x7000): boot.rst promises no stack
 *                for the 64-bit entry, but a valid %rsp costs nothing
 *   0x0000_7000  zero page (struct boot_params)
 *   0x0000_9000  boot page tables: PML4, PDPT, 4 PDs (identity map of 4 GiB
 *                with 2 MiB pages; 1 GiB pages are not used because not every
 *                KVM flavour accepts them, see shared/notes/kvm-host.md)
 *   0x0002_0000  kernel command line (up to 64 KiB)
 *   0x0009_fc00  EBDA (reserved)
 *   0x000e_0000  ACPI tables (RSDP first), 64 KiB
 *   0x000f_0000  MP table, 64 KiB
 *   0x0010_0000  RAM (kernel, initrd at the top) up to min(mem, 3 GiB)
 *   0xc000_0000  32-bit PCI MMIO window (BARs), 512 MiB
 *   0xe000_0000  PCI ECAM (bus 0 only: 1 MiB)
 *   0xfec0_0000  IOAPIC (in-kernel)
 *   0xfee0_0000  LAPIC (in-kernel)
 *   0x1_0000_0000 RAM above 3 GiB continues here
 *   after RAM     64-bit PCI MMIO window, 1 GiB aligned
 */
#ifndef MVM_LAYOUT_H
#define MVM_LAYOUT_H

#define BOOT_GDT_ADDR		0x500ULL
#define BOOT_STACK_TOP		0x7000ULL
#define BOOT_ZERO_PAGE_ADDR	0x7000ULL
#define BOOT_PML4_ADDR		0x9000ULL
#define BOOT_PDPT_ADDR		0xa000ULL
#define BOOT_PD_ADDR		0xb000ULL	/* 4 pages: 0xb000-0xefff */
#define BOOT_CMDLINE_ADDR	0x20000ULL
#define BOOT_CMDLINE_MAX	0x10000ULL
#define EBDA_START		0x9fc00ULL
#define BIOS_AREA_START		0xe0000ULL
#define ACPI_TABLES_ADDR	0xe0000ULL
#define ACPI_TABLES_SIZE	0x10000ULL
#define MPTABLE_ADDR		0xf0000ULL
#define MPTABLE_SIZE		0x10000ULL
#define BIOS_AREA_END		0x100000ULL
#define HIGH_MEMORY_START	0x100000ULL	/* the classic 1 MiB line */

#define MMIO_HOLE_START		0xc0000000ULL
#define MMIO_HOLE_END		0x100000000ULL
#define PCI_MMIO32_BASE		0xc0000000ULL
#define PCI_MMIO32_SIZE		0x20000000ULL
#define PCI_ECAM_BASE		0xe0000000ULL
#define PCI_ECAM_SIZE		0x100000ULL	/* bus 0: 32 dev * 8 fn * 4K */
#define IOAPIC_ADDR		0xfec00000ULL
#define IOAPIC_SIZE		0x1000ULL
#define LAPIC_ADDR		0xfee00000ULL
#define LAPIC_SIZE		0x1000ULL
#define HIGH_RAM_START		0x100000000ULL
#define PCI_MMIO64_ALIGN	0x40000000ULL
#define PCI_MMIO64_SIZE		0x1000000000ULL	/* 64 GiB */

/* Fixed I/O ports. */
#define I8042_DATA_PORT		0x60
#define I8042_CMD_PORT		0x64
#define RTC_PORT		0x70	/* index at 0x70, data at 0x71 */
#define DEBUG_EXIT_PORT		0xf4
#define SERIAL0_PORT		0x3f8
#define ACPI_PM_PORT		0x600	/* PM1a_EVT 0x600, PM1a_CNT 0x604 */
#define ACPI_PM_SIZE		0x10
#define PCI_CONFIG_ADDR_PORT	0xcf8
#define PCI_CONFIG_DATA_PORT	0xcfc
#define PCI_IO_WINDOW_BASE		0xc000ULL	/* PCI I/O BAR window */
#define PCI_IO_WINDOW_SIZE		0x4000ULL

/* ISA interrupt lines (IOAPIC pins with the in-kernel irqchip). */
#define SERIAL0_IRQ		4
#define RTC_IRQ			8
#define ACPI_SCI_IRQ		9
#define I8042_KBD_IRQ		1
/* PCI INTx pins are routed to IOAPIC pins 16..23 (INTA..INTD, swizzled). */
#define PCI_INTX_IRQ_BASE	16
#define IOAPIC_NR_PINS		24

#endif
