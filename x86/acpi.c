// SPDX-License-Identifier: GPL-2.0
/*
 * The ACPI tables of an mvm machine (ACPI 6.3 chapter 5).  Everything is
 * built once, before the first vCPU runs, into the ACPI_TABLES_ADDR area:
 *
 *   RSDP -> XSDT -> FADT -> FACS, DSDT
 *                -> MADT (local APICs, IOAPIC, overrides, NMI)
 *                -> MCFG (ECAM of bus 0)
 *
 * The layout of each table comes from the spec's field tables; the sizes
 * are checked at compile time.  The host is x86, so the native byte order
 * of the packed structures is the little-endian order ACPI wants.
 */
#include "x86/acpi.h"
#include "hw/acpi_pm.h"
#include "x86/layout.h"
#include "core/util.h"
#include "acpi_aml.h"

#define ACPI_OEM_ID		"MVM   "
#define ACPI_CREATOR_ID		"MVM "

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;		/* of the first 20 bytes (ACPI 1.0) */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_addr;
	uint32_t length;
	uint64_t xsdt_addr;
	uint8_t ext_checksum;		/* of all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP, ACPI 6.3 table 5-27");

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_header) == 36, "ACPI 6.3 table 5-29");

/* Generic Address Structure, ACPI 6.3 table 5-25. */
struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));

#define ACPI_GAS_SYSTEM_IO	1
#define ACPI_GAS_ACCESS_BYTE	1

struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT, ACPI 6.3 table 5-33");

/* IAPC_BOOT_ARCH, ACPI 6.3 table 5-35. */
#define FADT_BOOT_LEGACY_DEVICES	(1u << 0)
#define FADT_BOOT_8042			(1u << 1)
#define FADT_BOOT_NO_VGA		(1u << 2)
#define FADT_BOOT_NO_ASPM		(1u << 4)
/* FADT flags, ACPI 6.3 table 5-34. */
#define FADT_F_WBINVD			(1u << 0)
#define FADT_F_PROC_C1			(1u << 2)
#define FADT_F_SLP_BUTTON		(1u << 5)
#define FADT_F_RESET_REG_SUP		(1u << 10)

struct acpi_facs {
	char signature[4];
	uint32_t length;
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;
	uint8_t reserved0[3];
	uint32_t ospm_flags;
	uint8_t reserved1[24];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS, ACPI 6.3 table 5-37");

struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_addr;
	uint32_t flags;
} __attribute__((packed));

#define MADT_PCAT_COMPAT	(1u << 0)	/* dual 8259s present */

/* MADT entries, ACPI 6.3 section 5.2.12. */
enum {
	MADT_LAPIC = 0,
	MADT_IOAPIC = 1,
	MADT_ISO = 2,
	MADT_LAPIC_NMI = 4,
};

struct madt_lapic {
	uint8_t type, length;
	uint8_t acpi_uid;
	uint8_t apic_id;
	uint32_t flags;			/* bit 0: enabled */
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, length;
	uint8_t id;
	uint8_t reserved;
	uint32_t addr;
	uint32_t gsi_base;
} __attribute__((packed));

struct madt_iso {
	uint8_t type, length;
	uint8_t bus;			/* 0: ISA */
	uint8_t source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));

/* MPS INTI flags, ACPI 6.3 table 5-50. */
#define MPS_ACTIVE_HIGH		0x1
#define MPS_LEVEL		(0x3 << 2)

struct madt_lapic_nmi {
	uint8_t type, length;
	uint8_t acpi_uid;		/* 0xff: all processors */
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

struct acpi_mcfg {
	struct acpi_header h;
	uint64_t reserved;
	/* One configuration space base address allocation. */
	uint64_t base;
	uint16_t segment;
	uint8_t start_bus;
	uint8_t end_bus;
	uint32_t reserved1;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_mcfg) == 60, "PCI Firmware spec 3.2, 4.1.2");

/* A bump allocator over the tables area. */
struct acpi_area {
	uint8_t *buf;
	uint64_t gpa;
	size_t size;
	size_t used;
};

static void *area_alloc(struct acpi_area *ar, size_t len, size_t align,
			uint64_t *gpa)
{
	size_t off = ALIGN_UP(ar->used, align);

	if (off > ar->size || len > ar->size - off)
		return NULL;
	ar->used = off + len;
	*gpa = ar->gpa + off;
	return ar->buf + off;
}

static uint8_t acpi_sum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

static void acpi_header_fill(struct acpi_header *h, const char *sig,
			     uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, "MVM ", 4);
	memcpy(h->oem_table_id + 4, sig, 4);
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = 1;
}

/* Call last, once the table's length and contents are final. */
static void acpi_header_checksum(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = -acpi_sum(h, h->length);
}

static void dsdt_pci_host_bridge(struct aml *a, const struct acpi_machine *m)
{
	unsigned int slot, pin;

	aml_device_begin(a, "PCI0");
	/* PCI Express root bridge, compatible with a plain PCI one. */
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A08");
	aml_name(a, "_CID");
	aml_eisaid(a, "PNP0A03");
	aml_name(a, "_SEG");
	aml_integer(a, 0);
	aml_name(a, "_BBN");
	aml_integer(a, 0);
	aml_name(a, "_UID");
	aml_integer(a, 0);

	/*
	 * The windows the bridge forwards.  All I/O ports except the 0xcf8
	 * config mechanism go down the bridge, as on a PC, so legacy
	 * devices and the PCI I/O BAR window (PCI_IO_WINDOW_BASE) are covered.
	 */
	aml_name(a, "_CRS");
	aml_buffer_begin(a);
	aml_res_bus_range(a, 0, 0);
	aml_res_io(a, PCI_CONFIG_ADDR_PORT, 8);
	aml_res_io_window(a, 0, PCI_CONFIG_ADDR_PORT - 1);
	aml_res_io_window(a, PCI_CONFIG_ADDR_PORT + 8, 0xffff);
	aml_res_mem32_window(a, PCI_MMIO32_BASE,
			     PCI_MMIO32_BASE + PCI_MMIO32_SIZE - 1);
	if (m->mmio64_size)
		aml_res_mem64_window(a, m->mmio64_base,
				     m->mmio64_base + m->mmio64_size - 1);
	aml_res_end(a);
	aml_end(a);

	/*
	 * _PRT (ACPI 6.3 section 6.2.13): Package {Address, Pin, Source,
	 * Source Index}.  Address 0xSSSSFFFF is "slot S, any function";
	 * Source 0 makes Source Index a GSI.
	 */
	aml_name(a, "_PRT");
	aml_package_begin(a, 32 * 4);
	for (slot = 0; slot < 32; slot++) {
		for (pin = 0; pin < 4; pin++) {
			aml_package_begin(a, 4);
			aml_integer(a, (uint64_t)slot << 16 | 0xffff);
			aml_integer(a, pin);
			aml_integer(a, 0);
			aml_integer(a, pci_intx_gsi(slot, pin));
			aml_end(a);
		}
	}
	aml_end(a);
	aml_end(a);
}

static void dsdt_motherboard_resources(struct aml *a)
{
	/*
	 * Linux uses the MCFG's ECAM only if the range is reserved by a
	 * PNP0C02 device (or E820); the PM1 ports are claimed here too so
	 * nothing else is assigned on top of them.
	 */
	aml_device_begin(a, "MRES");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0C02");
	aml_name(a, "_UID");
	aml_integer(a, 1);
	aml_name(a, "_CRS");
	aml_buffer_begin(a);
	aml_res_mem32_fixed(a, PCI_ECAM_BASE, PCI_ECAM_SIZE);
	aml_res_io(a, ACPI_PM_PORT, ACPI_PM_SIZE);
	aml_res_end(a);
	aml_end(a);
	aml_end(a);
}

static void dsdt_com1(struct aml *a)
{
	aml_device_begin(a, "COM1");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0501");	/* 16550A-compatible UART */
	aml_name(a, "_UID");
	aml_integer(a, 1);
	aml_name(a, "_CRS");
	aml_buffer_begin(a);
	aml_res_io(a, SERIAL0_PORT, 8);
	aml_res_irq(a, 1u << SERIAL0_IRQ);
	aml_res_end(a);
	aml_end(a);
	aml_end(a);
}

/* The DSDT's AML body, after its header; returns its length or -errno. */
static long dsdt_build(void *buf, size_t cap, const struct acpi_machine *m)
{
	struct aml a;

	aml_init(&a, buf, cap);

	/*
	 * \_S5: {SLP_TYPa, SLP_TYPb, reserved, reserved}.  Poweroff writes
	 * SLP_TYPa | SLP_EN to PM1a_CNT, which hw/acpi_pm.c turns into the
	 * end of the VM.
	 */
	aml_name(&a, "_S5_");
	aml_package_begin(&a, 4);
	aml_integer(&a, ACPI_S5_SLP_TYP);
	aml_integer(&a, ACPI_S5_SLP_TYP);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_end(&a);

	aml_scope_begin(&a, "\\_SB_");
	dsdt_pci_host_bridge(&a, m);
	dsdt_motherboard_resources(&a);
	dsdt_com1(&a);
	aml_end(&a);

	return aml_finish(&a);
}

static void fadt_fill(struct acpi_fadt *f, uint64_t dsdt, uint64_t facs)
{
	acpi_header_fill(&f->h, "FACP", sizeof(*f), 6);
	f->minor_version = 3;
	f->firmware_ctrl = facs;
	f->dsdt = dsdt;
	f->x_dsdt = dsdt;
	f->sci_int = ACPI_SCI_IRQ;
	/*
	 * SMI_CMD = 0: there is no SMM to hand ACPI over from, the hardware
	 * is in ACPI mode from reset (SCI_EN always reads 1).
	 */
	f->smi_cmd = 0;
	f->pm1a_evt_blk = ACPI_PM_PORT + ACPI_PM1_STS;
	f->pm1_evt_len = ACPI_PM1_EVT_LEN;
	f->pm1a_cnt_blk = ACPI_PM_PORT + ACPI_PM1_CNT;
	f->pm1_cnt_len = ACPI_PM1_CNT_LEN;
	f->x_pm1a_evt_blk = (struct acpi_gas){
		.space_id = ACPI_GAS_SYSTEM_IO,
		.bit_width = 8 * ACPI_PM1_EVT_LEN,
		.address = ACPI_PM_PORT + ACPI_PM1_STS,
	};
	f->x_pm1a_cnt_blk = (struct acpi_gas){
		.space_id = ACPI_GAS_SYSTEM_IO,
		.bit_width = 8 * ACPI_PM1_CNT_LEN,
		.address = ACPI_PM_PORT + ACPI_PM1_CNT,
	};
	/* No PM timer and no GPE blocks: their lengths stay 0. */
	/* C2 and C3 latencies above 100 and 1000 us mean "not supported". */
	f->p_lvl2_lat = 101;
	f->p_lvl3_lat = 1001;
	/*
	 * The i8042 exists (the reboot path); there is no VGA, so the
	 * guest must not poke at legacy VGA ports; ASPM makes no sense on
	 * virtual links.
	 */
	f->iapc_boot_arch = FADT_BOOT_LEGACY_DEVICES | FADT_BOOT_8042 |
			    FADT_BOOT_NO_VGA | FADT_BOOT_NO_ASPM;
	/*
	 * PWR_BUTTON clear: the power button is the fixed-feature one in
	 * PM1 (acpi_pm_power_button()); there is no sleep button.
	 */
	f->flags = FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON |
		   FADT_F_RESET_REG_SUP;
	/* Reset through the i8042: pulse the CPU reset line (command 0xfe). */
	f->reset_reg = (struct acpi_gas){
		.space_id = ACPI_GAS_SYSTEM_IO,
		.bit_width = 8,
		.access_size = ACPI_GAS_ACCESS_BYTE,
		.address = I8042_CMD_PORT,
	};
	f->reset_value = 0xfe;
}

static size_t madt_size(unsigned int nr_cpus)
{
	return sizeof(struct acpi_madt) + nr_cpus * sizeof(struct madt_lapic) +
	       sizeof(struct madt_ioapic) + 2 * sizeof(struct madt_iso) +
	       sizeof(struct madt_lapic_nmi);
}

static void madt_fill(struct acpi_madt *t, unsigned int nr_cpus)
{
	uint8_t *p = (uint8_t *)(t + 1);
	struct madt_lapic *lapic;
	struct madt_ioapic *ioapic;
	struct madt_iso *iso;
	struct madt_lapic_nmi *nmi;
	unsigned int i;

	acpi_header_fill(&t->h, "APIC", madt_size(nr_cpus), 5);
	t->lapic_addr = LAPIC_ADDR;
	t->flags = MADT_PCAT_COMPAT;

	for (i = 0; i < nr_cpus; i++) {
		lapic = (struct madt_lapic *)p;
		*lapic = (struct madt_lapic){
			.type = MADT_LAPIC, .length = sizeof(*lapic),
			.acpi_uid = i, .apic_id = i, .flags = 1,
		};
		p += sizeof(*lapic);
	}

	ioapic = (struct madt_ioapic *)p;
	*ioapic = (struct madt_ioapic){
		.type = MADT_IOAPIC, .length = sizeof(*ioapic),
		.id = nr_cpus, .addr = IOAPIC_ADDR, .gsi_base = 0,
	};
	p += sizeof(*ioapic);

	/* The PIT's IRQ0 is wired to IOAPIC pin 2, as on every PC. */
	iso = (struct madt_iso *)p;
	*iso = (struct madt_iso){
		.type = MADT_ISO, .length = sizeof(*iso),
		.bus = 0, .source = 0, .gsi = 2, .flags = 0,
	};
	p += sizeof(*iso);
	/* The SCI is a shareable level interrupt, active-high here. */
	iso = (struct madt_iso *)p;
	*iso = (struct madt_iso){
		.type = MADT_ISO, .length = sizeof(*iso),
		.bus = 0, .source = ACPI_SCI_IRQ, .gsi = ACPI_SCI_IRQ,
		.flags = MPS_ACTIVE_HIGH | MPS_LEVEL,
	};
	p += sizeof(*iso);

	nmi = (struct madt_lapic_nmi *)p;
	*nmi = (struct madt_lapic_nmi){
		.type = MADT_LAPIC_NMI, .length = sizeof(*nmi),
		.acpi_uid = 0xff, .flags = 0, .lint = 1,
	};
}

static void mcfg_fill(struct acpi_mcfg *t)
{
	acpi_header_fill(&t->h, "MCFG", sizeof(*t), 1);
	t->base = PCI_ECAM_BASE;
	t->segment = 0;
	t->start_bus = 0;
	t->end_bus = PCI_ECAM_SIZE / (1 << 20) - 1;	/* 1 MiB per bus */
}

int acpi_tables_write(void *buf, uint64_t gpa, size_t size,
		      const struct acpi_machine *m, uint64_t *rsdp_gpa)
{
	struct acpi_area ar = { .buf = buf, .gpa = gpa, .size = size };
	struct acpi_header *dsdt, *xsdt;
	struct acpi_rsdp *rsdp;
	struct acpi_facs *facs;
	struct acpi_fadt *fadt;
	struct acpi_madt *madt;
	struct acpi_mcfg *mcfg;
	uint64_t rsdp_a = 0, facs_a = 0, dsdt_a = 0, fadt_a = 0, madt_a = 0;
	uint64_t mcfg_a = 0, xsdt_a = 0;
	uint8_t *xsdt_entry;
	long aml_len;

	if (!m->nr_cpus || m->nr_cpus > ACPI_MAX_CPUS)
		return -EINVAL;
	/* A 64-bit window lies above 4 GiB, clear of the 32-bit hole. */
	if (m->mmio64_size &&
	    (m->mmio64_base < HIGH_RAM_START ||
	     m->mmio64_base + m->mmio64_size - 1 < m->mmio64_base))
		return -EINVAL;
	if (gpa + size > UINT32_MAX)
		return -EINVAL;		/* FACS and DSDT need 32-bit pointers */
	memset(buf, 0, size);

	/* The RSDP goes first: the guest scans 16-byte boundaries for it. */
	rsdp = area_alloc(&ar, sizeof(*rsdp), 16, &rsdp_a);
	/* FACS must be 64-byte aligned (ACPI 6.3 section 5.2.10). */
	facs = area_alloc(&ar, sizeof(*facs), 64, &facs_a);
	if (!rsdp || !facs)
		return -ENOSPC;

	dsdt = area_alloc(&ar, sizeof(*dsdt), 16, &dsdt_a);
	if (!dsdt)
		return -ENOSPC;
	aml_len = dsdt_build(dsdt + 1, ar.size - ar.used, m);
	if (aml_len < 0)
		return (int)aml_len;
	ar.used += aml_len;
	acpi_header_fill(dsdt, "DSDT", sizeof(*dsdt) + aml_len, 2);

	fadt = area_alloc(&ar, sizeof(*fadt), 16, &fadt_a);
	madt = area_alloc(&ar, madt_size(m->nr_cpus), 16, &madt_a);
	mcfg = area_alloc(&ar, sizeof(*mcfg), 16, &mcfg_a);
	xsdt = area_alloc(&ar, sizeof(*xsdt) + 3 * 8, 16, &xsdt_a);
	if (!fadt || !madt || !mcfg || !xsdt)
		return -ENOSPC;

	memcpy(facs->signature, "FACS", 4);
	facs->length = sizeof(*facs);
	facs->version = 2;

	fadt_fill(fadt, dsdt_a, facs_a);
	madt_fill(madt, m->nr_cpus);
	mcfg_fill(mcfg);

	acpi_header_fill(xsdt, "XSDT", sizeof(*xsdt) + 3 * 8, 1);
	/* The 64-bit entries follow the 36-byte header, unaligned. */
	xsdt_entry = (uint8_t *)(xsdt + 1);
	put_le64(xsdt_entry, fadt_a);
	put_le64(xsdt_entry + 8, madt_a);
	put_le64(xsdt_entry + 16, mcfg_a);

	acpi_header_checksum(dsdt);
	acpi_header_checksum(&fadt->h);
	acpi_header_checksum(&madt->h);
	acpi_header_checksum(&mcfg->h);
	acpi_header_checksum(xsdt);

	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, ACPI_OEM_ID, 6);
	rsdp->revision = 2;		/* ACPI 2.0+: XSDT, no RSDT */
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_addr = xsdt_a;
	rsdp->checksum = -acpi_sum(rsdp, 20);
	rsdp->ext_checksum = -acpi_sum(rsdp, sizeof(*rsdp));

	*rsdp_gpa = rsdp_a;
	return 0;
}

int acpi_tables_build(struct guest_mem *mem, const struct acpi_machine *m,
		      uint64_t *rsdp_gpa)
{
	void *buf = gpa_to_hva(mem, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE);

	if (!buf)
		return -EFAULT;
	return acpi_tables_write(buf, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE, m,
				 rsdp_gpa);
}
