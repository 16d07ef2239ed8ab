// SPDX-License-Identifier: GPL-2.0
/*
 * MSI-X capability, vector table and PBA emulation (PCI 3.0, 6.8.2).
 * Reset state (6.8.2.9): Message Control Enable and Function Mask clear,
 * every vector's Mask bit set, Message Address/Data undefined (we use 0),
 * all pending bits clear.
 */
#include <stdlib.h>

#include "pci/msix.h"
#include "debug/trace.h"
#include "core/util.h"

#define MSIX_CAP_LEN	12

int msix_init(struct msix *m, struct pci_device *dev, int cap,
	      unsigned int nr, unsigned int table_bar, uint32_t table_off,
	      unsigned int pba_bar, uint32_t pba_off,
	      const struct msix_ops *ops, void *opaque)
{
	memset(m, 0, sizeof(*m));
	if (nr < 1 || nr > MSIX_MAX_VECTORS || table_bar >= PCI_NR_BARS ||
	    pba_bar >= PCI_NR_BARS || (table_off & 7) || (pba_off & 7))
		return -EINVAL;
	if (cap < 0) {
		cap = pci_device_add_capability(dev, PCI_CAP_ID_MSIX,
						MSIX_CAP_LEN);
		if (cap < 0)
			return cap;
	}
	m->table = calloc(nr, sizeof(*m->table));
	m->pba = calloc((nr + 63) / 64, sizeof(*m->pba));
	if (!m->table || !m->pba) {
		free(m->table);
		free(m->pba);
		return -ENOMEM;
	}
	pthread_mutex_init(&m->lock, NULL);
	m->dev = dev;
	m->cap = (unsigned int)cap;
	m->nr = nr;
	m->table_bar = table_bar;
	m->table_off = table_off;
	m->pba_bar = pba_bar;
	m->pba_off = pba_off;
	m->ops = ops;
	m->opaque = opaque;

	/* The guest's view of the capability: size, BIRs and offsets are
	 * read-only; only Enable and Function Mask are writable. */
	dev->cfg[cap] = PCI_CAP_ID_MSIX;
	pci_cfg_set16(dev, (unsigned int)cap + PCI_MSIX_FLAGS,
		      (uint16_t)(nr - 1));
	pci_cfg_set32(dev, (unsigned int)cap + PCI_MSIX_TABLE,
		      table_off | table_bar);
	pci_cfg_set32(dev, (unsigned int)cap + PCI_MSIX_PBA, pba_off | pba_bar);
	memset(&dev->wmask[cap + 2], 0, MSIX_CAP_LEN - 2);
	dev->wmask[cap + PCI_MSIX_FLAGS + 1] =
		(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8;
	msix_reset(m);
	return 0;
}

void msix_destroy(struct msix *m)
{
	if (!m->table)
		return;
	free(m->table);
	free(m->pba);
	m->table = NULL;
	m->pba = NULL;
	pthread_mutex_destroy(&m->lock);
}

void msix_reset(struct msix *m)
{
	pthread_mutex_lock(&m->lock);
	msix_reset_locked(m);
	pthread_mutex_unlock(&m->lock);
}

void msix_reset_locked(struct msix *m)
{
	unsigned int v;

	for (v = 0; v < m->nr; v++)
		m->table[v] = (struct msix_entry){ .ctrl = MSIX_CTRL_MASKBIT };
	memset(m->pba, 0, ((m->nr + 63) / 64) * sizeof(*m->pba));
	m->dev->cfg[m->cap + PCI_MSIX_FLAGS + 1] &=
		(uint8_t)~((PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8);
	m->enabled = false;
	m->function_mask = false;
}

bool msix_vector_masked(const struct msix *m, unsigned int v)
{
	return !m->enabled || m->function_mask ||
	       (m->table[v].ctrl & MSIX_CTRL_MASKBIT);
}

uint64_t msix_vector_addr(const struct msix *m, unsigned int v)
{
	return (uint64_t)m->table[v].addr_hi << 32 | m->table[v].addr_lo;
}

uint32_t msix_vector_data(const struct msix *m, unsigned int v)
{
	return m->table[v].data;
}

bool msix_pending(const struct msix *m, unsigned int v)
{
	return m->pba[v / 64] & (1ULL << (v % 64));
}

void msix_set_pending(struct msix *m, unsigned int v, bool pending)
{
	if (pending != msix_pending(m, v))
		TRACE_MSIX_PBA(m->dev->name, v, pending);
	if (pending)
		m->pba[v / 64] |= 1ULL << (v % 64);
	else
		m->pba[v / 64] &= ~(1ULL << (v % 64));
}

static bool legal_access(struct msix *m, uint64_t off, unsigned int len,
			 uint32_t size, const char *what, bool is_write)
{
	if ((len == 4 || len == 8) && !(off & (len - 1)) && off + len <= size)
		return true;
	m->bad_accesses++;
	pr_warn_ratelimited("%s: ignored %u-byte MSI-X %s %s at offset %#llx (must be an aligned DWORD or QWORD)",
			    m->dev->name, len, what,
			    is_write ? "write" : "read",
			    (unsigned long long)off);
	return false;
}

static void table_read_dword(struct msix *m, uint64_t off, uint8_t *out)
{
	const struct msix_entry *e = &m->table[off / MSIX_ENTRY_SIZE];
	uint32_t v;

	switch (off % MSIX_ENTRY_SIZE) {
	case MSIX_ENTRY_ADDR_LO:
		v = e->addr_lo;
		break;
	case MSIX_ENTRY_ADDR_HI:
		v = e->addr_hi;
		break;
	case MSIX_ENTRY_DATA:
		v = e->data;
		break;
	default:
		v = e->ctrl;
		break;
	}
	put_le32(out, v);
}

void msix_table_read(struct msix *m, uint64_t off, uint8_t *data,
		     unsigned int len)
{
	unsigned int i;

	if (!legal_access(m, off, len, msix_table_size(m), "table", false)) {
		memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < len; i += 4)
		table_read_dword(m, off + i, data + i);
	pthread_mutex_unlock(&m->lock);
}

/* Returns true if the write changed what the owner cares about. */
static bool table_write_dword(struct msix *m, uint64_t off, uint32_t val)
{
	struct msix_entry *e = &m->table[off / MSIX_ENTRY_SIZE];
	struct msix_entry old = *e;

	switch (off % MSIX_ENTRY_SIZE) {
	case MSIX_ENTRY_ADDR_LO:
		/* Bits 1:0 are reserved: DWORD alignment (6.8.2.4). */
		e->addr_lo = val & ~3U;
		break;
	case MSIX_ENTRY_ADDR_HI:
		e->addr_hi = val;
		break;
	case MSIX_ENTRY_DATA:
		e->data = val;
		break;
	default:
		/* Only the Mask bit is defined; the rest is reserved (RO 0). */
		e->ctrl = val & MSIX_CTRL_MASKBIT;
		break;
	}
	return memcmp(&old, e, sizeof(old)) != 0;
}

void msix_table_write(struct msix *m, uint64_t off, const uint8_t *data,
		      unsigned int len)
{
	unsigned int i, v = (unsigned int)(off / MSIX_ENTRY_SIZE);
	bool changed = false, was;

	if (!legal_access(m, off, len, msix_table_size(m), "table", true))
		return;
	pthread_mutex_lock(&m->lock);
	was = msix_vector_masked(m, v);
	for (i = 0; i < len; i += 4) {
		TRACE_MSIX_TABLE_WRITE(m->dev->name, off + i,
				       get_le32(data + i));
		changed |= table_write_dword(m, off + i, get_le32(data + i));
	}
	if (was != msix_vector_masked(m, v))
		TRACE_MSIX_MASK(m->dev->name, v, !was);
	if (changed && m->ops && m->ops->vector_changed)
		m->ops->vector_changed(m, v);
	pthread_mutex_unlock(&m->lock);
}

void msix_pba_read(struct msix *m, uint64_t off, uint8_t *data,
		   unsigned int len)
{
	uint8_t buf[8];
	unsigned int i;

	if (!legal_access(m, off, len, msix_pba_size(m), "PBA", false)) {
		memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < len; i += 4) {
		put_le64(buf, m->pba[(off + i) / 8]);
		memcpy(data + i, buf + ((off + i) % 8), 4);
	}
	pthread_mutex_unlock(&m->lock);
}

void msix_pba_write(struct msix *m, uint64_t off, const uint8_t *data,
		    unsigned int len)
{
	/* Pending bits are read-only to software (6.8.2.10). */
	m->bad_accesses++;
	pr_warn_ratelimited("%s: ignored write to the MSI-X PBA at offset %#llx",
			    m->dev->name, (unsigned long long)off);
}

void msix_cfg_written(struct msix *m, unsigned int off, unsigned int len)
{
	unsigned int ctrl_off = m->cap + PCI_MSIX_FLAGS;
	uint16_t ctrl;
	bool enabled, fmask, was_enabled, was_fmask;
	unsigned int v;

	if (off + len <= ctrl_off || off > ctrl_off + 1)
		return;
	pthread_mutex_lock(&m->lock);
	ctrl = pci_cfg_get16(m->dev, ctrl_off);
	enabled = ctrl & PCI_MSIX_FLAGS_ENABLE;
	fmask = ctrl & PCI_MSIX_FLAGS_MASKALL;
	was_enabled = m->enabled;
	was_fmask = m->function_mask;
	m->enabled = enabled;
	m->function_mask = fmask;
	if (enabled != was_enabled || fmask != was_fmask)
		TRACE_MSIX_CONTROL(m->dev->name, enabled, fmask);
	if (enabled != was_enabled && m->ops && m->ops->enable_changed)
		m->ops->enable_changed(m, enabled);
	/* Every vector's effective mask follows Enable and Function Mask. */
	if ((enabled != was_enabled || fmask != was_fmask) && m->ops &&
	    m->ops->vector_changed)
		for (v = 0; v < m->nr; v++)
			m->ops->vector_changed(m, v);
	pthread_mutex_unlock(&m->lock);
}
