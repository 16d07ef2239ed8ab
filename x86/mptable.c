// SPDX-License-Identifier: GPL-2.0
/*
 * Intel MultiProcessor Specification 1.4 tables, chapter 4: a floating
 * pointer at MPTABLE_ADDR (in the 0xf0000-0xfffff area the guest scans)
 * followed by the configuration table.  The interrupt routing is the same
 * as the ACPI tables': ISA IRQ n on IOAPIC pin n except IRQ0 on pin 2, and
 * PCI INTx as pci_intx_gsi().
 */
#include "x86/acpi.h"
#include "x86/layout.h"
#include "x86/mptable.h"
#include "core/util.h"

struct mpf {
	char signature[4];		/* "_MP_" */
	uint32_t config_addr;
	uint8_t length;			/* in 16-byte units */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));
_Static_assert(sizeof(struct mpf) == 16, "MP spec table 4-1");

struct mpc_header {
	char signature[4];		/* "PCMP" */
	uint16_t length;		/* base table, header included */
	uint8_t spec_rev;
	uint8_t checksum;
	char oem_id[8];
	char product_id[12];
	uint32_t oem_table;
	uint16_t oem_table_size;
	uint16_t entry_count;
	uint32_t lapic_addr;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct mpc_header) == 44, "MP spec table 4-2");

enum {
	MP_PROCESSOR = 0,
	MP_BUS = 1,
	MP_IOAPIC = 2,
	MP_IOINTR = 3,
	MP_LINTR = 4,
};

struct mpc_cpu {
	uint8_t type;
	uint8_t apic_id;
	uint8_t apic_ver;
	uint8_t flags;
	uint32_t signature;
	uint32_t features;
	uint32_t reserved[2];
} __attribute__((packed));
_Static_assert(sizeof(struct mpc_cpu) == 20, "MP spec table 4-4");

#define MP_CPU_EN		0x01
#define MP_CPU_BP		0x02	/* the bootstrap processor */

struct mpc_bus {
	uint8_t type;
	uint8_t id;
	char name[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type;
	uint8_t id;
	uint8_t version;
	uint8_t flags;			/* bit 0: enabled */
	uint32_t addr;
} __attribute__((packed));

/* I/O and local interrupt assignment entries share one layout. */
struct mpc_intr {
	uint8_t type;
	uint8_t irq_type;
	uint16_t flags;
	uint8_t src_bus;
	uint8_t src_irq;
	uint8_t dst_apic;
	uint8_t dst_pin;
} __attribute__((packed));

enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };

/* Interrupt flags, MP spec table 4-10: polarity 1:0, trigger 3:2. */
#define MP_IRQ_ACTIVE_LOW	0x3
#define MP_IRQ_LEVEL		(0x3 << 2)

#define MP_BUS_PCI		0
#define MP_BUS_ISA		1
#define MP_ALL_LAPICS		0xff

/* Versions reported by KVM's in-kernel local APIC and IOAPIC. */
#define MP_LAPIC_VERSION	0x14
#define MP_IOAPIC_VERSION	0x11
/* Family 6, and CPUID.1:EDX FPU | APIC, as the spec asks. */
#define MP_CPU_SIGNATURE	0x600
#define MP_CPU_FEATURES		0x201

static uint8_t mp_sum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

static size_t mptable_size(unsigned int nr_cpus)
{
	/* 15 ISA lines (IRQ2 is the 8259 cascade), 32 slots x 4 pins. */
	return sizeof(struct mpf) + sizeof(struct mpc_header) +
	       nr_cpus * sizeof(struct mpc_cpu) + 2 * sizeof(struct mpc_bus) +
	       sizeof(struct mpc_ioapic) +
	       (15 + 32 * 4 + 2) * sizeof(struct mpc_intr);
}

static uint8_t *put_intr(uint8_t *p, uint8_t type, uint8_t irq_type,
			 uint16_t flags, uint8_t bus, uint8_t irq,
			 uint8_t apic, uint8_t pin)
{
	struct mpc_intr *e = (struct mpc_intr *)p;

	*e = (struct mpc_intr){
		.type = type, .irq_type = irq_type, .flags = flags,
		.src_bus = bus, .src_irq = irq, .dst_apic = apic,
		.dst_pin = pin,
	};
	return p + sizeof(*e);
}

int mptable_write(void *buf, uint64_t gpa, size_t size, unsigned int nr_cpus)
{
	struct mpf *mpf = buf;
	struct mpc_header *mpc = (struct mpc_header *)(mpf + 1);
	uint8_t *p = (uint8_t *)(mpc + 1), ioapic_id = nr_cpus;
	unsigned int i, slot, pin, entries = 0;
	struct mpc_cpu *cpu;
	struct mpc_bus *bus;
	struct mpc_ioapic *ioapic;

	if (!nr_cpus || nr_cpus > MPTABLE_MAX_CPUS)
		return -EINVAL;
	if (!IS_ALIGNED(gpa, 16) || gpa + size > UINT32_MAX)
		return -EINVAL;
	if (mptable_size(nr_cpus) > size)
		return -ENOSPC;
	memset(buf, 0, size);

	for (i = 0; i < nr_cpus; i++, entries++) {
		cpu = (struct mpc_cpu *)p;
		*cpu = (struct mpc_cpu){
			.type = MP_PROCESSOR, .apic_id = i,
			.apic_ver = MP_LAPIC_VERSION,
			.flags = MP_CPU_EN | (i == 0 ? MP_CPU_BP : 0),
			.signature = MP_CPU_SIGNATURE,
			.features = MP_CPU_FEATURES,
		};
		p += sizeof(*cpu);
	}

	bus = (struct mpc_bus *)p;
	*bus = (struct mpc_bus){ .type = MP_BUS, .id = MP_BUS_PCI };
	memcpy(bus->name, "PCI   ", 6);
	p += sizeof(*bus);
	bus = (struct mpc_bus *)p;
	*bus = (struct mpc_bus){ .type = MP_BUS, .id = MP_BUS_ISA };
	memcpy(bus->name, "ISA   ", 6);
	p += sizeof(*bus);
	entries += 2;

	ioapic = (struct mpc_ioapic *)p;
	*ioapic = (struct mpc_ioapic){
		.type = MP_IOAPIC, .id = ioapic_id,
		.version = MP_IOAPIC_VERSION, .flags = 1, .addr = IOAPIC_ADDR,
	};
	p += sizeof(*ioapic);
	entries++;

	/* ISA lines keep the bus's default edge/high (flags 0). */
	for (i = 0; i < 16; i++) {
		if (i == 2)
			continue;
		p = put_intr(p, MP_IOINTR, MP_INT, 0, MP_BUS_ISA, i,
			     ioapic_id, i == 0 ? 2 : i);
		entries++;
	}
	/* PCI source IRQ: device in bits 6:2, pin (0 = INTA) in bits 1:0. */
	for (slot = 0; slot < 32; slot++) {
		for (pin = 0; pin < 4; pin++) {
			p = put_intr(p, MP_IOINTR, MP_INT,
				     MP_IRQ_ACTIVE_LOW | MP_IRQ_LEVEL,
				     MP_BUS_PCI, slot << 2 | pin, ioapic_id,
				     pci_intx_gsi(slot, pin));
			entries++;
		}
	}
	/* Virtual wire mode: the 8259 on LINT0, NMI on LINT1 of all CPUs. */
	p = put_intr(p, MP_LINTR, MP_EXTINT, 0, MP_BUS_ISA, 0,
		     MP_ALL_LAPICS, 0);
	p = put_intr(p, MP_LINTR, MP_NMI, 0, MP_BUS_ISA, 0, MP_ALL_LAPICS, 1);
	entries += 2;

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = p - (uint8_t *)mpc;
	mpc->spec_rev = 4;
	memcpy(mpc->oem_id, "MVM     ", 8);
	memcpy(mpc->product_id, "MVM         ", 12);
	mpc->entry_count = entries;
	mpc->lapic_addr = LAPIC_ADDR;
	mpc->checksum = -mp_sum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->config_addr = gpa + sizeof(*mpf);
	mpf->length = 1;
	mpf->spec_rev = 4;
	/* feature[0] = 0: a table is present; feature[1] = 0: no IMCR. */
	mpf->checksum = -mp_sum(mpf, sizeof(*mpf));
	return 0;
}

int mptable_build(struct guest_mem *mem, unsigned int nr_cpus)
{
	void *buf = gpa_to_hva(mem, MPTABLE_ADDR, MPTABLE_SIZE);

	if (!buf)
		return -EFAULT;
	return mptable_write(buf, MPTABLE_ADDR, MPTABLE_SIZE, nr_cpus);
}
