// SPDX-License-Identifier: GPL-2.0
/*
 * The MSI-X table handler of a passed-through function: where the guest's
 * MSI-X state meets the host's.  The table and PBA pages are trapped
 * (vfio_bars.c hands their accesses here); table writes reach
 * vfio_msix_vector_changed() through pci/msix.c, which drives the device's
 * irqfd routing table (pci/msix_vectors.c) and the host's vectors.  The
 * guest's Enable reaches vfio_msix_host_enable() through vfio_pci.c, which
 * switches the host's interrupt mode (one type at a time).
 *
 * Enable to match the guest.  When a guest sets MSI-X Enable, every vector
 * in its table is still masked (Linux sets Enable together with Function
 * Mask, then programs and unmasks vectors one by one; FreeBSD enables with
 * an all-zero table).  Waiting for the first unmasked vector before
 * enabling MSI-X on the device would leave the host device in INTx mode
 * while the guest believes MSI-X is on, and some devices act on the host
 * state: SR-IOV VFs whose PF refuses mailbox commands, PFs talking to their
 * firmware (QEMU pci-assign fix, "Enable MSIX on device to match guest",
 * Dec 2012).  So MSI-X is enabled on the device the moment the guest
 * enables it, and vectors are added as the guest unmasks them.  How depends
 * on the host kernel (uapi vfio.h, VFIO_IRQ_INFO_NORESIZE):
 *
 *  - dynamic hosts (Linux >= 6.5, NORESIZE clear): enable with vector 0
 *    and no trigger (fd -1), then one VFIO_DEVICE_SET_IRQS per vector as
 *    the guest unmasks it.  The kernel allocates the vector on demand
 *    (vfio_msi_alloc_irq / pci_msix_alloc_irq_at); nothing is torn down.
 *
 *  - NORESIZE hosts: the vector count is fixed at enable time.  Size the
 *    first allocation with the data-field hint (a vector whose Message
 *    Data is non-zero is one the guest set up, so it will probably use
 *    it), at least one vector.  When the guest unmasks a vector beyond the
 *    allocation, disable and re-enable with max(vector + 1, hint).  An
 *    interrupt the device raised while it was disabled is lost in the
 *    window, so afterwards every vector that was live is fired once: a
 *    spurious interrupt is harmless to a driver, a lost one can hang it.
 *
 * Host IRQs and GSIs are spent only on vectors the guest unmasks (plus the
 * hint on NORESIZE hosts), so two 2048-vector devices fit one VM.
 * VFIO cannot mask an MSI-X vector (SET_IRQS MASK on MSI-X is -ENOTTY):
 * guest masking is emulated by msix_vectors, which also keeps the PBA.
 *
 * One vector's state is two structs: the guest's entry (msix.table[v],
 * pci/msix.c, shared with virtio) and vectors.v[v] (struct msix_vector),
 * which holds its route and our side of it: owner_efd, the eventfd we give
 * the host as the vector's trigger, and host_live.  Its `efd` cannot be
 * that eventfd: `efd` is what msix_vectors routes (KVM irqfd or polled),
 * and a vector the host has no trigger for must not be routed, while the
 * eventfd is kept across a host disable so a re-enable or a NORESIZE grow
 * hands the host the same one without a new eventfd(2).  So there is no
 * array of our own per vector.
 */
#include <stdlib.h>
#include <unistd.h>

#include "debug/trace.h"
#include "core/util.h"
#include "vfio/vfio_pci.h"

static struct vfio_pci *to_vd(struct msix *m)
{
	return m->opaque;
}

/* Vector v's eventfd, made on first use. */
static int vector_efd(struct vfio_pci *vd, unsigned int v)
{
	struct msix_vector *x = &vd->vectors.v[v];
	int fd;

	if (x->owner_efd >= 0)
		return x->owner_efd;
	fd = vd->host->ops->eventfd(vd->host);
	if (fd < 0) {
		pr_errno(-fd, "%s: eventfd for MSI-X vector %u failed",
			 vd->name, v);
		vd->msix_stats.errors++;
		return fd;
	}
	x->owner_efd = fd;
	return fd;
}

/* The seed's hint: 1 + the highest vector with non-zero Message Data. */
static unsigned int data_hint(struct vfio_pci *vd)
{
	unsigned int v = vd->msix.nr;

	while (v > 0 && !msix_vector_data(&vd->msix, v - 1))
		v--;
	return v;
}

static int set_irqs(struct vfio_pci *vd, unsigned int start,
		    unsigned int count, const int32_t *fds, const char *what)
{
	int err = vfio_set_irqs_eventfd(vd, VFIO_PCI_MSIX_IRQ_INDEX, start,
					count, fds);

	TRACE_VFIO_SET_IRQS(vd->name, what, start, count, err);
	vd->msix_stats.set_irqs++;
	if (err > 0) {
		/* pci_alloc_irq_vectors() got fewer: the kernel says how many
		 * it can give (vfio_msi_enable()). */
		vd->msix_stats.errors++;
		pr_warn("%s: VFIO_DEVICE_SET_IRQS(MSI-X, %s): the host has only %d of %u vectors",
			vd->name, what, err, start + count);
	} else if (err) {
		vd->msix_stats.errors++;
		pr_errno(-err, "%s: VFIO_DEVICE_SET_IRQS(MSI-X, %s, vectors %u-%u) failed",
			 vd->name, what, start, start + count - 1);
	}
	return err;
}

/*
 * The device's own pending bits (vfio-pci lets the PBA be read; only the
 * table is hidden: vfio_pci_bar_rw()).  A vector the host allocated but
 * gave no trigger stays masked in hardware and pends there.
 */
static bool phys_pba_read(struct vfio_pci *vd, uint64_t *words,
			  unsigned int nwords)
{
	size_t len = nwords * 8ULL;

	return vfio_region_read(vd, vd->msix.pba_bar, vd->msix.pba_off, words,
				len) == (ssize_t)len;
}

/*
 * The guest's PBA read: emulated bits plus the device's own for vectors
 * the host allocated without a trigger (they pend in hardware).
 */
static void pba_read(struct vfio_pci *vd, uint64_t off, uint8_t *data,
		     unsigned int len)
{
	struct msix *m = &vd->msix;
	uint64_t phys = 0, mask = 0;
	unsigned int first = (unsigned int)(off / 8), i, b;
	uint8_t bytes[8];

	msix_pba_read(m, off, data, len);
	if ((len != 4 && len != 8) || (off & (len - 1)))
		return;
	pthread_mutex_lock(&m->lock);
	if (vd->host_msix_enabled) {
		for (i = 0; i < 64; i++) {
			unsigned int v = first * 64 + i;

			if (v < m->nr && v < vd->host_nvec &&
			    !vd->vectors.v[v].host_live)
				mask |= 1ULL << i;
		}
	}
	pthread_mutex_unlock(&m->lock);
	if (!mask || vfio_region_read(vd, m->pba_bar,
				      m->pba_off + first * 8ULL, &phys, 8) != 8)
		return;
	put_le64(bytes, phys & mask);
	for (b = 0; b < len; b++)
		data[b] |= bytes[(off % 8) + b];
}

static void host_vectors_live(struct vfio_pci *vd, unsigned int start,
			      unsigned int count)
{
	unsigned int v;

	for (v = start; v < start + count; v++) {
		struct msix_vector *x = &vd->vectors.v[v];

		x->host_live = true;
		msix_vectors_set_eventfd(&vd->vectors, v, x->owner_efd);
	}
}

/*
 * Allocate efds for [0, n) and enable MSI-X on the host with them.  A
 * host that has fewer vectors says how many; take those if that still
 * covers `need`.
 */
static int enable_with(struct vfio_pci *vd, unsigned int n, unsigned int need,
		       const char *what)
{
	int32_t *fds = calloc(n, sizeof(*fds));
	unsigned int v;
	int err = 0;

	if (!fds)
		return -ENOMEM;
	for (v = 0; v < n && !err; v++) {
		int fd = vector_efd(vd, v);

		if (fd < 0)
			err = fd;
		fds[v] = fd;
	}
	if (!err)
		err = set_irqs(vd, 0, n, fds, what);
	if (err > 0 && (unsigned int)err >= need) {
		n = (unsigned int)err;
		err = set_irqs(vd, 0, n, fds, what);
	}
	free(fds);
	if (err) {
		/* Do not keep eventfds the host did not take (fd limits). */
		for (v = vd->host_nvec; v < n; v++) {
			struct msix_vector *x = &vd->vectors.v[v];

			if (x->owner_efd >= 0 && !x->host_live) {
				close(x->owner_efd);
				x->owner_efd = -1;
			}
		}
		return err > 0 ? -ENOSPC : err;
	}
	vd->host_msix_enabled = true;
	vd->host_nvec = n;
	vd->msix_stats.enables++;
	host_vectors_live(vd, 0, n);
	return 0;
}

static void host_release_all(struct vfio_pci *vd)
{
	unsigned int v;

	for (v = 0; v < vd->msix.nr; v++) {
		vd->vectors.v[v].host_live = false;
		msix_vectors_release(&vd->vectors, v);
		/* Counts from before the disable must not surface later. */
		msix_vectors_drain(&vd->vectors, v);
		msix_vectors_set_eventfd(&vd->vectors, v, -1);
	}
	vd->host_nvec = 0;
}

int vfio_msix_host_disable(struct vfio_pci *vd)
{
	int err;

	if (!vd->host_msix_enabled)
		return 0;
	err = vfio_disable_irqs(vd, VFIO_PCI_MSIX_IRQ_INDEX);
	TRACE_VFIO_DISABLE(vd->name, err);
	vd->msix_stats.set_irqs++;
	if (err) {
		/* The host kept MSI-X on: so does our view of it. */
		vd->msix_stats.errors++;
		pr_errno(-err, "%s: VFIO_DEVICE_SET_IRQS(MSI-X disable) failed",
			 vd->name);
		return err;
	}
	vd->msix_stats.disables++;
	vd->host_msix_enabled = false;
	host_release_all(vd);
	return 0;
}

/*
 * The guest set MSI-X Enable: make the device match, vectors or not.
 * INTx and MSI are off by now (vfio_pci.c's mode switch).
 */
int vfio_msix_host_enable(struct vfio_pci *vd)
{
	int32_t none = -1;
	int err;

	/* Already on (a disable that failed): nothing to redo, and a second
	 * enable would drop vector 0's trigger on a dynamic host. */
	if (vd->host_msix_enabled)
		return 0;
	if (vd->msix_dynamic) {
		err = set_irqs(vd, 0, 1, &none, "enable");
		if (err)
			return err > 0 ? -ENOSPC : err;
		vd->host_msix_enabled = true;
		vd->host_nvec = 1;
		vd->msix_stats.enables++;
		return 0;
	}
	return enable_with(vd, MAX(1U, data_hint(vd)), 1, "enable");
}

/* NORESIZE: re-enable with room for vector v, without losing interrupts. */
static int host_grow(struct vfio_pci *vd, unsigned int v)
{
	unsigned int n = MIN(MAX(v + 1, data_hint(vd)), vd->msix.nr);
	unsigned int prev = vd->host_nvec, i, nwords = (vd->msix.nr + 63) / 64;
	bool *was_live = calloc(vd->msix.nr, sizeof(*was_live));
	uint64_t *pend = calloc(nwords, sizeof(*pend));
	int err;

	if (!was_live || !pend) {
		free(was_live);
		free(pend);
		return -ENOMEM;
	}
	for (i = 0; i < vd->msix.nr; i++)
		was_live[i] = vd->vectors.v[i].host_live;
	/* What the device holds pending now would vanish with the disable. */
	if (!phys_pba_read(vd, pend, nwords))
		memset(pend, 0, nwords * sizeof(*pend));
	err = vfio_msix_host_disable(vd);
	if (err)
		goto out;
	err = enable_with(vd, n, v + 1, "grow");
	/* The hint is a guess: the vector the guest asked for comes first. */
	if (err && n > v + 1)
		err = enable_with(vd, v + 1, v + 1, "grow");
	if (err && prev) {
		/* Put back what the guest had, so host and guest still agree
		 * on every vector but the new one. */
		pr_warn("%s: keeping MSI-X with %u vectors", vd->name, prev);
		enable_with(vd, prev, prev, "restore");
	}
	if (vd->host_msix_enabled) {
		vd->msix_stats.grows += !err;
		/* Whatever could have been raised in the window is fired once:
		 * what was live or pending, and v, which is being unmasked. */
		for (i = 0; i < vd->msix.nr; i++) {
			bool pended = pend[i / 64] & (1ULL << (i % 64));

			if ((was_live[i] || pended || i == v) &&
			    vd->vectors.v[i].host_live)
				msix_vectors_fire(&vd->vectors, i);
		}
	}
out:
	free(was_live);
	free(pend);
	return err;
}

/* The guest unmasked v: give it a trigger on the host. */
static int host_add_vector(struct vfio_pci *vd, unsigned int v)
{
	int32_t fd;
	int err;

	if (!vd->msix_dynamic && v >= vd->host_nvec)
		return host_grow(vd, v);
	fd = vector_efd(vd, v);
	if (fd < 0)
		return fd;
	err = set_irqs(vd, v, 1, &fd, "add vector");
	if (err)
		return err;
	if (v >= vd->host_nvec)
		vd->host_nvec = v + 1;
	host_vectors_live(vd, v, 1);
	return 0;
}

void vfio_msix_vector_changed(struct msix *m, unsigned int v)
{
	struct vfio_pci *vd = to_vd(m);

	/*
	 * Only config writes switch the host's interrupt mode (they hold the
	 * PCI bus lock too); a failed host enable is reported there and
	 * retried at the guest's next Enable.
	 */
	if (vd->host_msix_enabled && m->enabled && !msix_vector_masked(m, v) &&
	    !vd->vectors.v[v].host_live)
		host_add_vector(vd, v);
	msix_vectors_sync(&vd->vectors, v);
}

enum msix_page { NOT_MSIX, MSIX_TABLE, MSIX_PBA };

static bool in(uint64_t off, unsigned int len, uint64_t start, uint64_t size)
{
	return off >= start && off + len <= start + size;
}

/* Which structure holds off..off+len of BAR `bar`; off becomes relative. */
static enum msix_page page_of(struct vfio_pci *vd, unsigned int bar,
			      uint64_t *off, unsigned int len)
{
	struct msix *m = &vd->msix;

	if (!vd->has_msix)
		return NOT_MSIX;
	if (bar == m->table_bar &&
	    in(*off, len, m->table_off, msix_table_size(m))) {
		*off -= m->table_off;
		return MSIX_TABLE;
	}
	if (bar == m->pba_bar && in(*off, len, m->pba_off, msix_pba_size(m))) {
		*off -= m->pba_off;
		return MSIX_PBA;
	}
	return NOT_MSIX;
}

bool vfio_msix_mmio(struct vfio_pci *vd, unsigned int bar, uint64_t off,
		    uint8_t *data, unsigned int len, bool write)
{
	enum msix_page page = page_of(vd, bar, &off, len);

	if (page == MSIX_TABLE && write)
		msix_table_write(&vd->msix, off, data, len);
	else if (page == MSIX_TABLE)
		msix_table_read(&vd->msix, off, data, len);
	else if (page == MSIX_PBA && write)
		msix_pba_write(&vd->msix, off, data, len);
	else if (page == MSIX_PBA)
		pba_read(vd, off, data, len);
	return page != NOT_MSIX;
}

int vfio_msix_init(struct vfio_pci *vd, int cap, const struct msix_ops *ops)
{
	struct pci_device *d = &vd->pci;
	uint16_t flags = pci_cfg_get16(d, (unsigned int)cap + PCI_MSIX_FLAGS);
	uint32_t table = pci_cfg_get32(d, (unsigned int)cap + PCI_MSIX_TABLE);
	uint32_t pba = pci_cfg_get32(d, (unsigned int)cap + PCI_MSIX_PBA);
	unsigned int nr = (flags & PCI_MSIX_FLAGS_QSIZE) + 1U;
	struct vfio_irq_info *info = &vd->irqs[VFIO_PCI_MSIX_IRQ_INDEX];
	int err;

	if (!info->count) {
		pr_warn("%s: host reports no MSI-X interrupts: MSI-X hidden",
			vd->name);
		return 0;
	}
	nr = MIN(nr, info->count);
	vd->msix_dynamic = !(info->flags & VFIO_IRQ_INFO_NORESIZE);
	err = msix_init(&vd->msix, d, cap, nr, table & PCI_MSIX_TABLE_BIR,
			table & PCI_MSIX_TABLE_OFFSET, pba & PCI_MSIX_PBA_BIR,
			pba & PCI_MSIX_PBA_OFFSET, ops, vd);
	if (err) {
		pr_err("%s: unusable MSI-X capability (%u vectors, table BIR %u)",
		       vd->name, nr, table & PCI_MSIX_TABLE_BIR);
		return err;
	}
	err = msix_vectors_init(&vd->vectors, &vd->msix, vd->ctx->router,
				vd->ctx->loop);
	if (err) {
		msix_destroy(&vd->msix);
		return err;
	}
	vd->has_msix = true;
	return 0;
}

void vfio_msix_reset_locked(struct vfio_pci *vd)
{
	unsigned int v;

	if (!vd->has_msix)
		return;
	msix_reset_locked(&vd->msix);
	/* Even if the host kept MSI-X on, nothing reaches the guest now. */
	for (v = 0; v < vd->msix.nr; v++)
		msix_vectors_sync(&vd->vectors, v);
}

void vfio_msix_destroy(struct vfio_pci *vd)
{
	unsigned int v;

	if (!vd->has_msix)
		return;
	/*
	 * Each eventfd leaves KVM and the event loop before it is closed: a
	 * vector is still routed if the host's disable failed.
	 */
	pthread_mutex_lock(&vd->msix.lock);
	for (v = 0; v < vd->msix.nr; v++) {
		struct msix_vector *x = &vd->vectors.v[v];

		msix_vectors_set_eventfd(&vd->vectors, v, -1);
		if (x->owner_efd >= 0)
			close(x->owner_efd);
		x->owner_efd = -1;
	}
	pthread_mutex_unlock(&vd->msix.lock);
	msix_vectors_destroy(&vd->vectors);
	msix_destroy(&vd->msix);
	vd->has_msix = false;
}
