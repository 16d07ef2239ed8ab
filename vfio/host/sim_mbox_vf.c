// SPDX-License-Identifier: GPL-2.0
/*
 * mbox-vf: a simulated SR-IOV-VF-like PCI function with a mailbox to its
 * (imaginary) PF.  Like such VFs, the PF refuses mailbox commands while
 * MSI-X is disabled on the host, whatever the guest believes: the model
 * looks at the simulated host's IRQ state (struct sim_irqs), which only
 * VFIO_DEVICE_SET_IRQS changes.  docs/mbox-vf.md is the datasheet.
 *
 * All entry points run with the host lock held.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/util.h"
#include "vfio/vfio_sim.h"

#define BAR0_PHYS	0xfd000000ULL	/* the host firmware's choice */
#define REGS_SIZE	0x1000
#define MSIX_AREA_END	0x11000		/* table + PBA pages */

#define CAP_PM		0x40
#define CAP_MSI		0x50
#define CAP_MSIX	0x60
#define CAP_EXP		0x70
#define CAP_VNDR	0xb0
#define CAP_VNDR_LEN	0x10
#define ECAP_ARI	0x100

struct mbox_vf {
	struct sim_func f;
	uint32_t cmd, status, vector, result;
	uint32_t cmds_ok, cmds_refused;
};

static struct mbox_vf *to_mbox(struct sim_func *f)
{
	return container_of(f, struct mbox_vf, f);
}

static void cfg8(struct sim_func *f, unsigned int off, uint8_t v, uint8_t w)
{
	f->cfg[off] = v;
	f->wmask[off] = w;
}

static void cfg16(struct sim_func *f, unsigned int off, uint16_t v,
		  uint16_t w)
{
	put_le16(&f->cfg[off], v);
	put_le16(&f->wmask[off], w);
}

static void cfg32(struct sim_func *f, unsigned int off, uint32_t v,
		  uint32_t w)
{
	put_le32(&f->cfg[off], v);
	put_le32(&f->wmask[off], w);
}

/*
 * The config space as the vfio-pci config region shows it.  BARs read as
 * the host's physical assignment and are not writable here; MSI and
 * MSI-X control, address and data are plain storage (vfio-pci
 * virtualizes them: only SET_IRQS touches the host).
 */
static void build_config(struct sim_func *f, const struct sim_model_cfg *c)
{
	uint16_t qsize = (uint16_t)(c->vectors - 1);
	uint32_t devcap;

	cfg16(f, PCI_VENDOR_ID, MBOX_VF_VENDOR, 0);
	cfg16(f, PCI_DEVICE_ID, MBOX_VF_DEVICE, 0);
	cfg16(f, PCI_COMMAND, 0,
	      PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
	      PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
	cfg16(f, PCI_STATUS, PCI_STATUS_CAP_LIST, 0);
	cfg32(f, PCI_CLASS_REVISION, MBOX_VF_CLASS << 8 | 0x01, 0);
	cfg8(f, PCI_CACHE_LINE_SIZE, 0, 0xff);
	cfg8(f, PCI_HEADER_TYPE, c->bridge ? PCI_HEADER_TYPE_BRIDGE :
	     PCI_HEADER_TYPE_NORMAL, 0);
	cfg32(f, PCI_BASE_ADDRESS_0, (uint32_t)BAR0_PHYS |
	      PCI_BASE_ADDRESS_MEM_TYPE_64, 0);
	cfg32(f, PCI_BASE_ADDRESS_1, (uint32_t)(BAR0_PHYS >> 32), 0);
	cfg16(f, PCI_SUBSYSTEM_VENDOR_ID, MBOX_VF_VENDOR, 0);
	cfg16(f, PCI_SUBSYSTEM_ID, 0x0001, 0);
	cfg8(f, PCI_CAPABILITY_LIST, CAP_PM, 0);
	cfg8(f, PCI_INTERRUPT_LINE, 0x0b, 0xff);
	cfg8(f, PCI_INTERRUPT_PIN, 1, 0);

	/* Power management, version 3, D0 only */
	cfg8(f, CAP_PM + PCI_CAP_LIST_ID, PCI_CAP_ID_PM, 0);
	cfg8(f, CAP_PM + PCI_CAP_LIST_NEXT, CAP_MSI, 0);
	cfg16(f, CAP_PM + PCI_PM_PMC, 3, 0);
	cfg16(f, CAP_PM + PCI_PM_CTRL, PCI_PM_CTRL_NO_SOFT_RESET,
	      PCI_PM_CTRL_STATE_MASK);

	/* MSI: one vector, 64-bit, no per-vector masking */
	cfg8(f, CAP_MSI + PCI_CAP_LIST_ID, PCI_CAP_ID_MSI, 0);
	cfg8(f, CAP_MSI + PCI_CAP_LIST_NEXT, CAP_MSIX, 0);
	cfg16(f, CAP_MSI + PCI_MSI_FLAGS, PCI_MSI_FLAGS_64BIT,
	      PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
	cfg32(f, CAP_MSI + PCI_MSI_ADDRESS_LO, 0, 0xfffffffc);
	cfg32(f, CAP_MSI + PCI_MSI_ADDRESS_HI, 0, 0xffffffff);
	cfg16(f, CAP_MSI + PCI_MSI_DATA_64, 0, 0xffff);
	f->msi_count = 1;

	/* MSI-X: table and PBA in BAR0 */
	cfg8(f, CAP_MSIX + PCI_CAP_LIST_ID, PCI_CAP_ID_MSIX, 0);
	cfg8(f, CAP_MSIX + PCI_CAP_LIST_NEXT, CAP_EXP, 0);
	cfg16(f, CAP_MSIX + PCI_MSIX_FLAGS, qsize,
	      PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	cfg32(f, CAP_MSIX + PCI_MSIX_TABLE, MBOX_VF_MSIX_TABLE | 0, 0);
	cfg32(f, CAP_MSIX + PCI_MSIX_PBA, MBOX_VF_MSIX_PBA | 0, 0);

	/* PCI Express endpoint, v2; FLR when the host can reset it */
	devcap = PCI_EXP_DEVCAP_RBER | 1;	/* MPS 256 */
	if (c->reset)
		devcap |= PCI_EXP_DEVCAP_FLR;
	cfg8(f, CAP_EXP + PCI_CAP_LIST_ID, PCI_CAP_ID_EXP, 0);
	cfg8(f, CAP_EXP + PCI_CAP_LIST_NEXT, CAP_VNDR, 0);
	cfg16(f, CAP_EXP + PCI_EXP_FLAGS,
	      2 | PCI_EXP_TYPE_ENDPOINT << 4, 0);
	cfg32(f, CAP_EXP + PCI_EXP_DEVCAP, devcap, 0);
	cfg16(f, CAP_EXP + PCI_EXP_DEVCTL, 0x2810, 0x7fff);
	cfg32(f, CAP_EXP + PCI_EXP_LNKCAP, 0x11, 0);
	cfg16(f, CAP_EXP + PCI_EXP_LNKSTA, 0x11, 0);
	f->pcie_cap = CAP_EXP;
	f->flr = c->reset;

	/* Vendor-specific: firmware details mvm must not show the guest */
	cfg8(f, CAP_VNDR + PCI_CAP_LIST_ID, PCI_CAP_ID_VNDR, 0);
	cfg8(f, CAP_VNDR + PCI_CAP_LIST_NEXT, 0, 0);
	cfg8(f, CAP_VNDR + 2, CAP_VNDR_LEN, 0);
	memcpy(&f->cfg[CAP_VNDR + 4], "PF-MBOX-FW-1", 12);

	/* Extended space: ARI, the only extended capability */
	cfg32(f, ECAP_ARI, PCI_EXT_CAP_ID_ARI | 1 << 16, 0);
	memcpy(f->cfg_saved, f->cfg, sizeof(f->cfg));
}

static uint32_t host_irq_state(const struct sim_irqs *q)
{
	uint32_t v = 0, n = 0;
	unsigned int i;

	if (q->type == VFIO_PCI_MSIX_IRQ_INDEX) {
		v |= MBOX_HOST_IRQ_MSIX;
		for (i = 0; i < q->msix_count; i++)
			n += q->msix[i].allocated;
	} else if (q->type == VFIO_PCI_MSI_IRQ_INDEX) {
		v |= MBOX_HOST_IRQ_MSI;
	} else if (q->type == VFIO_PCI_INTX_IRQ_INDEX) {
		v |= MBOX_HOST_IRQ_INTX;
	}
	return v | n << MBOX_HOST_IRQ_NVEC_SHIFT;
}

static uint32_t reg_read(struct mbox_vf *m, unsigned int reg)
{
	switch (reg) {
	case MBOX_REG_ID:		return MBOX_VF_ID;
	case MBOX_REG_CMD:		return m->cmd;
	case MBOX_REG_STATUS:		return m->status;
	case MBOX_REG_VECTOR:		return m->vector;
	case MBOX_REG_RESULT:		return m->result;
	case MBOX_REG_STAT_OK:		return m->cmds_ok;
	case MBOX_REG_STAT_REFUSED:	return m->cmds_refused;
	case MBOX_REG_HOST_IRQ:		return host_irq_state(m->f.irqs);
	case MBOX_REG_VECTORS:		return m->f.msix_vectors;
	}
	return 0;
}

/* The device signals a vector; one beyond its table goes nowhere. */
static void raise_vector(struct mbox_vf *m, uint32_t vector)
{
	if (vector >= m->f.msix_vectors) {
		m->f.stats->dropped++;
		return;
	}
	sim_irqs_raise(m->f.irqs, vector);
}

static void mbox_command(struct mbox_vf *m, uint32_t cmd)
{
	m->cmd = cmd;
	/* The PF answers only while the VF has MSI-X enabled on the host. */
	if (m->f.irqs->type != VFIO_PCI_MSIX_IRQ_INDEX) {
		m->status = MBOX_STATUS_REFUSED;
		m->result = 0;
		m->cmds_refused++;
		m->f.stats->mbox_refused++;
		return;
	}
	m->status = MBOX_STATUS_DONE;
	m->result = ~cmd;
	m->cmds_ok++;
	m->f.stats->mbox_ok++;
	raise_vector(m, m->vector);
}

static void reg_write(struct mbox_vf *m, unsigned int reg, uint32_t val)
{
	switch (reg) {
	case MBOX_REG_CMD:
		if (val)
			mbox_command(m, val);
		break;
	case MBOX_REG_VECTOR:
		m->vector = val & 0xffff;
		break;
	case MBOX_REG_DOORBELL:
		raise_vector(m, val);
		break;
	}
}

/* The physical PBA: one bit per vector, set while latched. */
static uint8_t pba_byte(struct sim_func *f, uint64_t off)
{
	const struct sim_irqs *q = f->irqs;
	unsigned int first = (unsigned int)off * 8, i;
	uint8_t b = 0;

	if (q->type != VFIO_PCI_MSIX_IRQ_INDEX)
		return 0;
	for (i = 0; i < 8 && first + i < q->msix_count; i++)
		if (q->msix[first + i].pending)
			b |= (uint8_t)(1u << i);
	return b;
}

static bool in_mem(uint64_t off)
{
	return off >= MBOX_VF_SCRATCH &&
	       off < MBOX_VF_SCRATCH + MBOX_VF_SCRATCH_SIZE;
}

static void mbox_bar_read(struct sim_func *f, unsigned int bar, uint64_t off,
			  uint8_t *buf, size_t len)
{
	struct mbox_vf *m = to_mbox(f);
	uint64_t pba_end = MBOX_VF_MSIX_PBA + (f->msix_vectors + 7) / 8;
	size_t i;

	for (i = 0; i < len; i++, off++) {
		if (off < REGS_SIZE)
			buf[i] = (uint8_t)(reg_read(m, off & ~3u) >>
					   (off & 3) * 8);
		else if (in_mem(off))
			buf[i] = f->mem[off];
		else if (off >= MBOX_VF_MSIX_PBA && off < pba_end)
			buf[i] = pba_byte(f, off - MBOX_VF_MSIX_PBA);
		else
			buf[i] = 0;
	}
}

static void mbox_bar_write(struct sim_func *f, unsigned int bar,
			   uint64_t off, const uint8_t *buf, size_t len)
{
	struct mbox_vf *m = to_mbox(f);
	size_t i = 0;

	while (i < len) {
		if (in_mem(off)) {
			f->mem[off] = buf[i];
			i++, off++;
		} else if (off < REGS_SIZE && !(off & 3) && len - i >= 4) {
			/* registers take whole, aligned dwords */
			reg_write(m, (unsigned int)off, get_le32(&buf[i]));
			i += 4, off += 4;
		} else {
			i++, off++;	/* read-only or reserved */
		}
	}
}

static void mbox_reset(struct sim_func *f)
{
	struct mbox_vf *m = to_mbox(f);

	m->cmd = 0;
	m->status = MBOX_STATUS_IDLE;
	m->vector = 0;
	m->result = 0;
	m->cmds_ok = 0;
	m->cmds_refused = 0;
}

static void mbox_destroy(struct sim_func *f)
{
	struct mbox_vf *m = to_mbox(f);

	if (f->mem)
		munmap(f->mem, f->bar_size[0]);
	if (f->memfd >= 0)
		close(f->memfd);
	free(m);
}

static const struct sim_func_ops mbox_ops = {
	.bar_read = mbox_bar_read,
	.bar_write = mbox_bar_write,
	.reset = mbox_reset,
	.destroy = mbox_destroy,
};

struct sim_func *sim_mbox_vf_create(const struct sim_model_cfg *c,
				    struct sim_irqs *irqs,
				    struct vfio_sim_stats *stats)
{
	struct mbox_vf *m;
	struct sim_func *f;

	if (c->vectors < 1 || c->vectors > VFIO_SIM_MAX_VECTORS)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	f = &m->f;
	f->ops = &mbox_ops;
	f->irqs = irqs;
	f->stats = stats;
	f->memfd = -1;
	f->bar_size[0] = MBOX_VF_BAR0_SIZE;
	f->msix_bar = 0;
	f->msix_vectors = c->vectors;
	f->msix_table_off = MBOX_VF_MSIX_TABLE;
	f->msix_pba_off = MBOX_VF_MSIX_PBA;
	f->msix_mappable = c->msix_mappable;
	f->has_intx = true;
	/* Registers stay trapped; scratch memory (and, when the host
	 * says MSI-X is mappable, the MSI-X pages) may be mmapped. */
	f->areas[f->nr_areas++] = (struct sim_area){
		MBOX_VF_SCRATCH, MBOX_VF_SCRATCH_SIZE };
	if (c->msix_mappable)
		f->areas[f->nr_areas++] = (struct sim_area){
			MBOX_VF_MSIX_TABLE,
			MSIX_AREA_END - MBOX_VF_MSIX_TABLE };
	build_config(f, c);

	f->memfd = memfd_create("mvm-sim-mbox-vf-bar0", MFD_CLOEXEC);
	if (f->memfd < 0 || ftruncate(f->memfd, MBOX_VF_BAR0_SIZE) < 0)
		goto err;
	f->mem = mmap(NULL, MBOX_VF_BAR0_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED, f->memfd, 0);
	if (f->mem == MAP_FAILED) {
		f->mem = NULL;
		goto err;
	}
	f->model = m;
	mbox_reset(f);
	return f;
err:
	mbox_destroy(f);
	return NULL;
}
