/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A simulated host kernel behind struct vfio_host (mvm/vfio_host.h).
 *
 * It implements the VFIO uAPI of Linux 6.1's <linux/vfio.h> (type1 IOMMU
 * container, group, vfio-pci device) around ONE simulated PCI function, so
 * mvm's production passthrough code runs unchanged in unit tests and with
 * `mvm run --passthrough sim:mbox-vf[,key=value...]`.  The rules are those
 * of drivers/vfio/{group,container,vfio_iommu_type1}.c and
 * drivers/vfio/pci/vfio_pci_{core,intrs,rdwr}.c; docs/mbox-vf.md describes
 * the device model and what is and is not modelled.
 *
 *   vfio/host/sim_host.c     spec parsing, fds, sysfs paths, container/group/
 *                       device ioctls, regions, mmap, faults, counters
 *   vfio/host/sim_irqs.c     GET_IRQ_INFO / SET_IRQS and the host IRQ state
 *   vfio/host/sim_mbox_vf.c  the mbox-vf device model
 *
 * Every entry point takes one per-host lock, so the host may be used from
 * several vCPU threads at once.
 */
#ifndef MVM_VFIO_SIM_H
#define MVM_VFIO_SIM_H

#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfio/vfio_host.h"

#define VFIO_SIM_DEFAULT_BDF	"0000:00:10.0"
#define VFIO_SIM_FD_BASE	(1 << 20)	/* fake fds are >= this */
#define VFIO_SIM_MAX_VECTORS	2048	/* MSI-X table size max */

/*
 * Parse "mbox-vf[,key=value...]" (an optional "sim:" prefix is accepted)
 * and build a host with one simulated function; its BDF is written to
 * `bdf`.  Returns NULL after one pr_err() line on a bad spec or when out
 * of resources.  host->ops->destroy(host) frees everything.
 */
struct vfio_host *vfio_sim_create(const char *spec, char *bdf,
				  size_t bdf_len);

/* The host's operations, for fault injection and counters. */
enum vfio_sim_op {
	VFIO_SIM_OP_OPEN,
	VFIO_SIM_OP_CLOSE,
	VFIO_SIM_OP_IOCTL,
	VFIO_SIM_OP_PREAD,
	VFIO_SIM_OP_PWRITE,
	VFIO_SIM_OP_MMAP,
	VFIO_SIM_OP_MUNMAP,
	VFIO_SIM_OP_EVENTFD,
	VFIO_SIM_OP_READLINK,
	VFIO_SIM_OP_EXISTS,
	VFIO_SIM_OP_READ_ATTR,
	VFIO_SIM_NR_OPS
};

/*
 * ioctl counters are indexed by the request's number above VFIO_BASE.
 * Like the kernel's, the numbers are shared: VFIO_IOMMU_GET_INFO (a
 * container ioctl) has the value of VFIO_DEVICE_GET_PCI_HOT_RESET_INFO.
 * Requests that are not VFIO's count in the last slot.
 */
#define VFIO_SIM_NR_IOCTLS	32
static inline unsigned int vfio_sim_ioc(unsigned long req)
{
	unsigned long nr = req & 0xff;

	if ((req & ~0xffUL) != (unsigned long)_IO(VFIO_TYPE, 0) ||
	    nr < VFIO_BASE || nr >= VFIO_BASE + VFIO_SIM_NR_IOCTLS - 1)
		return VFIO_SIM_NR_IOCTLS - 1;
	return (unsigned int)(nr - VFIO_BASE);
}

struct vfio_sim_stats {
	unsigned long ops[VFIO_SIM_NR_OPS];	/* calls per op */
	unsigned long ioctls[VFIO_SIM_NR_IOCTLS]; /* per vfio_sim_ioc() */
	unsigned long faults;			/* injected failures */
	int open_fds;				/* fake fds now open */
	int mmaps;				/* region mmaps now live */
	unsigned int dma_mappings;		/* type1 mappings now */
	unsigned long dma_maps, dma_unmaps;	/* successful calls */
	/* Interrupts the device raised, by outcome. */
	unsigned long deliveries;		/* eventfd signalled */
	unsigned long pending_delivered;	/* ...of those, late */
	unsigned long dropped;			/* lost */
	unsigned long loopbacks;		/* DATA_NONE/BOOL triggers */
	/* SET_IRQS calls that switched the host state. */
	unsigned long msix_enables, msix_disables;
	unsigned long msi_enables, msi_disables;
	unsigned long intx_enables, intx_disables;
	unsigned long resets;			/* device resets */
	unsigned long mbox_ok, mbox_refused;	/* mailbox commands */
};

const struct vfio_sim_stats *vfio_sim_stats(struct vfio_host *h);

/*
 * Make the nth call (1 = the next) of `op` fail with -err, without side
 * effects (a failed CLOSE still releases the fd, as close(2) does).  For
 * VFIO_SIM_OP_IOCTL, ioctl_req limits the match to one request (0: any).
 * Up to 8 rules may be pending.
 */
void vfio_sim_fail(struct vfio_host *h, enum vfio_sim_op op,
		   unsigned long ioctl_req, unsigned int nth, int err);

/*
 * Called after every VFIO_DEVICE_SET_IRQS (also failed ones) with the
 * caller's argument and the result, with the host unlocked: it may call
 * vfio_sim_raise() to land an interrupt in a re-enable window.
 */
void vfio_sim_set_irqs_hook(struct vfio_host *h,
			    void (*fn)(void *opaque,
				       const struct vfio_irq_set *s, int ret),
			    void *opaque);

/* What became of an interrupt the device raised. */
enum vfio_sim_irq_outcome {
	VFIO_SIM_DELIVERED,	/* trigger eventfd signalled */
	VFIO_SIM_PENDING,	/* held in the PBA / masked INTx */
	VFIO_SIM_DROPPED,	/* the host had no way to take it */
};

/*
 * The device signals MSI-X `vector` (in MSI mode: its one message; in
 * INTx mode: it asserts INTx).  Returns an outcome or -EINVAL for a
 * vector beyond the MSI-X table.
 */
int vfio_sim_raise(struct vfio_host *h, unsigned int vector);
/* The host asks for the device back: signal the REQ trigger if any. */
int vfio_sim_request(struct vfio_host *h);

/* Host IRQ state. */
bool vfio_sim_msix_enabled(struct vfio_host *h);
unsigned int vfio_sim_msix_allocated(struct vfio_host *h);
/* The fd the user passed for `vector` (still open or not), or -1. */
int vfio_sim_msix_trigger(struct vfio_host *h, unsigned int vector);
bool vfio_sim_msix_pending(struct vfio_host *h, unsigned int vector);
bool vfio_sim_msi_enabled(struct vfio_host *h);
bool vfio_sim_intx_enabled(struct vfio_host *h);
bool vfio_sim_intx_masked(struct vfio_host *h);
/* Fake fds still open (leak check). */
int vfio_sim_open_fds(struct vfio_host *h);
/* The type1 mapping covering `iova`: 0 and its range, or -ENOENT. */
int vfio_sim_dma_find(struct vfio_host *h, uint64_t iova, uint64_t *start,
		      uint64_t *size, uint64_t *vaddr);

/* The mbox-vf model (docs/mbox-vf.md). */
#define MBOX_VF_VENDOR		0x1234
#define MBOX_VF_DEVICE		0x5f10
#define MBOX_VF_CLASS		0xff0000u
#define MBOX_VF_BAR0_SIZE	0x20000
#define MBOX_VF_SCRATCH		0x1000	/* ..0x7fff, mmappable */
#define MBOX_VF_SCRATCH_SIZE	0x7000
#define MBOX_VF_MSIX_TABLE	0x8000
#define MBOX_VF_MSIX_PBA	0x10000
/* BAR0 registers, 32-bit accesses */
#define MBOX_REG_ID		0x00	/* RO MBOX_VF_ID */
#define MBOX_REG_CMD		0x04	/* W: start a command (!= 0) */
#define MBOX_REG_STATUS		0x08	/* RO: MBOX_STATUS_* */
#define MBOX_REG_VECTOR		0x0c	/* RW: completion vector */
#define MBOX_REG_RESULT		0x10	/* RO: ~cmd after success */
#define MBOX_REG_DOORBELL	0x14	/* W: raise the vector written */
#define MBOX_REG_STAT_OK	0x18	/* RO: commands completed */
#define MBOX_REG_STAT_REFUSED	0x1c	/* RO: commands refused */
#define MBOX_REG_HOST_IRQ	0x20	/* RO: host IRQ state, see docs */
#define MBOX_REG_VECTORS	0x24	/* RO: MSI-X table size */
#define MBOX_VF_ID		0x5f10cafe
#define MBOX_STATUS_IDLE	0
#define MBOX_STATUS_DONE	2
#define MBOX_STATUS_REFUSED	3
#define MBOX_HOST_IRQ_MSIX	(1u << 0)
#define MBOX_HOST_IRQ_MSI	(1u << 1)
#define MBOX_HOST_IRQ_INTX	(1u << 2)
#define MBOX_HOST_IRQ_NVEC_SHIFT 16	/* allocated MSI-X vectors */

/*
 * ---- Between vfio/sim_*.c only. ----------------------------------------
 */

#ifndef offsetofend
#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))
#endif

/* One trigger: the eventfd as the user named it and our reference. */
struct sim_trigger {
	int user_fd;		/* fd passed by the user, -1 = none */
	int efd;		/* our dup of it (eventfd_ctx_fdget) */
};

struct sim_vec {
	bool allocated;		/* pci_irq_vector() > 0 */
	bool pending;		/* PBA bit: raised while masked */
	struct sim_trigger trig;
	uint64_t hw_irqs;	/* host IRQs handled (/proc/interrupts) */
};

/* An eventfd that unmasks INTx when signalled (vfio_virqfd_enable). */
struct sim_virqfd {
	struct sim_trigger trig;
	int stop_efd;
	pthread_t thread;
	bool stopping;
	struct sim_irqs *irqs;
	struct sim_virqfd *next;	/* on the reap list */
};

/* Host interrupt state of the function (vdev->irq_type and its ctxs). */
struct sim_irqs {
	pthread_mutex_t *lock;		/* the host's */
	struct vfio_sim_stats *stats;
	unsigned int type;		/* VFIO_PCI_*_IRQ_INDEX, NUM = none */
	bool dynamic;			/* has_dyn_msix (Linux >= 6.5) */
	unsigned int msix_count;	/* table size */
	struct sim_vec *msix;
	unsigned int msi_count;		/* from the MSI capability */
	struct sim_vec msi[32];
	bool has_intx;
	bool intx_masked, intx_pending;
	struct sim_trigger intx;
	struct sim_virqfd *intx_unmask;
	struct sim_virqfd *reap;	/* stopped, join outside the lock */
	struct sim_trigger err, req;
};

int sim_irqs_init(struct sim_irqs *q, pthread_mutex_t *lock,
		  struct vfio_sim_stats *stats, unsigned int msix_count,
		  unsigned int msi_count, bool has_intx, bool dynamic);
/* Lock not held: disables everything and joins helper threads. */
void sim_irqs_destroy(struct sim_irqs *q);
/* The rest with the lock held. */
int sim_irqs_get_info(struct sim_irqs *q, struct vfio_irq_info *info);
int sim_irqs_set(struct sim_irqs *q, struct vfio_irq_set *hdr);
/* vfio_pci_core_disable(): IRQs off, ERR/REQ triggers released. */
void sim_irqs_release(struct sim_irqs *q);
int sim_irqs_raise(struct sim_irqs *q, unsigned int vector);
int sim_irqs_request(struct sim_irqs *q);
/* Join helper threads stopped under the lock; call unlocked. */
void sim_irqs_reap(struct sim_irqs *q);
/* Take a reference to an eventfd; -EBADF / -EINVAL like the kernel. */
int sim_trigger_get(struct sim_trigger *t, int fd);
void sim_trigger_put(struct sim_trigger *t);

/* A simulated PCI function. */
#define SIM_CFG_SIZE		4096
#define SIM_MAX_AREAS		4

struct sim_area {
	uint64_t offset, size;
};

struct sim_func;

struct sim_func_ops {
	/* BAR access (already clipped to the BAR); host lock held. */
	void (*bar_read)(struct sim_func *f, unsigned int bar, uint64_t off,
			 uint8_t *buf, size_t len);
	void (*bar_write)(struct sim_func *f, unsigned int bar, uint64_t off,
			  const uint8_t *buf, size_t len);
	/* Function-level reset of the device's own state. */
	void (*reset)(struct sim_func *f);
	void (*destroy)(struct sim_func *f);
};

struct sim_model_cfg {
	unsigned int vectors;
	bool msix_mappable;
	bool reset;
	bool bridge;
};

struct sim_func {
	const struct sim_func_ops *ops;
	struct sim_irqs *irqs;		/* host IRQ state, as seen */
	struct vfio_sim_stats *stats;
	uint8_t cfg[SIM_CFG_SIZE];	/* as the config region reads */
	uint8_t wmask[SIM_CFG_SIZE];	/* bits a config write may change */
	uint8_t cfg_saved[SIM_CFG_SIZE]; /* pci_load_saved_state() copy */
	uint64_t bar_size[PCI_STD_NUM_BARS];
	/* BAR0's sparse-mmap areas; they are backed by memfd at the same
	 * offsets, so pread/pwrite and every mmap see the same bytes. */
	unsigned int nr_areas;
	struct sim_area areas[SIM_MAX_AREAS];
	bool msix_mappable;
	unsigned int msix_bar, msix_vectors;
	uint64_t msix_table_off, msix_pba_off;
	unsigned int msi_count;
	bool has_intx, flr;
	unsigned int pcie_cap;
	int memfd;
	uint8_t *mem;			/* memfd mapping of BAR0 */
	void *model;
};

struct sim_func *sim_mbox_vf_create(const struct sim_model_cfg *cfg,
				    struct sim_irqs *irqs,
				    struct vfio_sim_stats *stats);

#endif
