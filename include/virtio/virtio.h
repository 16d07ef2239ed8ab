/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio devices over the virtio-pci modern transport (virtio 1.2, 4.1).
 * The transport (virtio/virtio_pci.c) owns the PCI function, the common
 * configuration registers, feature negotiation, the device status state
 * machine, the queues' registers and virtqueues, notifications (KVM
 * ioeventfd, or a trapped MMIO write as fallback), interrupts (MSI-X
 * through msix_vectors, or INTx with the ISR register) and one I/O thread
 * per device.  A device model (virtio/rng.c, virtio/console.c, ...) fills
 * a struct virtio_dev_ops and processes its queues on that thread.
 *
 * Layout of BAR4 (64-bit memory, VIRTIO_PCI_BAR_SIZE): see docs/virtio.md.
 *
 * Locks, outermost first:
 *   io_lock  held around every callback on the I/O thread and across a
 *            device reset; so while a device callback runs, the queues
 *            cannot be reset under it, and reset waits for it to end.
 *   lock     the registers (short critical sections on vCPU threads).
 *   msix.lock (leaf).
 */
#ifndef MVM_VIRTIO_H
#define MVM_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pci/devctx.h"
#include "pci/msix.h"
#include "pci/msix_vectors.h"
#include "pci/pci.h"
#include "virtio/virtqueue.h"

/* 4.1.2: PCI IDs of a non-transitional virtio device. */
#define VIRTIO_PCI_VENDOR		0x1af4
#define VIRTIO_PCI_DEVICE_BASE		0x1040
#define VIRTIO_PCI_REVISION		1

/* 5: device IDs. */
#define VIRTIO_ID_NET			1
#define VIRTIO_ID_BLOCK			2
#define VIRTIO_ID_CONSOLE		3
#define VIRTIO_ID_RNG			4
#define VIRTIO_ID_FS			26

/* 2.1: device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	64
#define VIRTIO_STATUS_FAILED		128

/* 6: reserved feature bits the transport handles. */
#define VIRTIO_F_VERSION_1		32
#define VIRTIO_F_ACCESS_PLATFORM	33

/* 4.1.4: virtio vendor capability (PCI_CAP_ID_VNDR) cfg_type values. */
#define VIRTIO_PCI_CAP_COMMON_CFG	1
#define VIRTIO_PCI_CAP_NOTIFY_CFG	2
#define VIRTIO_PCI_CAP_ISR_CFG		3
#define VIRTIO_PCI_CAP_DEVICE_CFG	4
#define VIRTIO_PCI_CAP_PCI_CFG		5
/* struct virtio_pci_cap field offsets (4.1.4). */
#define VIRTIO_PCI_CAP_LEN		2
#define VIRTIO_PCI_CAP_CFG_TYPE		3
#define VIRTIO_PCI_CAP_BAR		4
#define VIRTIO_PCI_CAP_ID		5
#define VIRTIO_PCI_CAP_OFFSET		8
#define VIRTIO_PCI_CAP_LENGTH		12
#define VIRTIO_PCI_CAP_SIZE		16
#define VIRTIO_PCI_NOTIFY_MULTIPLIER	16	/* 4.1.4.4 */
#define VIRTIO_PCI_CFG_DATA		16	/* 4.1.4.8 */

/* 4.1.4.3: struct virtio_pci_common_cfg field offsets. */
#define VIRTIO_PCI_COMMON_DFSELECT	0x00
#define VIRTIO_PCI_COMMON_DF		0x04
#define VIRTIO_PCI_COMMON_GFSELECT	0x08
#define VIRTIO_PCI_COMMON_GF		0x0c
#define VIRTIO_PCI_COMMON_MSIX		0x10
#define VIRTIO_PCI_COMMON_NUMQ		0x12
#define VIRTIO_PCI_COMMON_STATUS	0x14
#define VIRTIO_PCI_COMMON_CFGGENERATION	0x15
#define VIRTIO_PCI_COMMON_Q_SELECT	0x16
#define VIRTIO_PCI_COMMON_Q_SIZE	0x18
#define VIRTIO_PCI_COMMON_Q_MSIX	0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE	0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF	0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO	0x20
#define VIRTIO_PCI_COMMON_Q_DESCHI	0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO	0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI	0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO	0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI	0x34
#define VIRTIO_PCI_COMMON_SIZE		0x38

/* 4.1.5.1.2: "no vector" for config_msix_vector / queue_msix_vector. */
#define VIRTIO_MSI_NO_VECTOR		0xffff
/* 4.1.4.5: ISR status bits. */
#define VIRTIO_ISR_QUEUE		1
#define VIRTIO_ISR_CONFIG		2

/* BAR4 layout (docs/virtio.md). */
#define VIRTIO_PCI_BAR			4
#define VIRTIO_PCI_BAR_SIZE		0x8000
#define VIRTIO_PCI_COMMON_OFF		0x0000
#define VIRTIO_PCI_ISR_OFF		0x1000
#define VIRTIO_PCI_DEVICE_OFF		0x2000
#define VIRTIO_PCI_DEVICE_MAX		0x1000
#define VIRTIO_PCI_NOTIFY_OFF		0x3000
#define VIRTIO_PCI_NOTIFY_MULT		4
#define VIRTIO_PCI_MSIX_TABLE_OFF	0x4000
#define VIRTIO_PCI_MSIX_PBA_OFF		0x6000

#define VIRTIO_MAX_QUEUES		64
#define VIRTIO_MAX_WATCHES		8

struct virtio_dev;

struct virtio_dev_ops {
	const char *name;		/* "virtio-rng", for messages */
	uint16_t device_id;		/* VIRTIO_ID_* */
	uint32_t pci_class;		/* base:sub:prog-if */
	unsigned int nr_queues;		/* 1..VIRTIO_MAX_QUEUES */
	uint16_t queue_size;		/* max entries per queue (power of 2) */
	uint64_t features;		/* device-type feature bits offered */
	unsigned int config_size;	/* device-specific config bytes */

	/*
	 * Device-specific configuration (4.1.4.6), called with vdev->lock
	 * held; off + len <= config_size.  write may be NULL (read-only).
	 */
	void (*config_read)(struct virtio_dev *vdev, unsigned int off,
			    uint8_t *data, unsigned int len);
	void (*config_write)(struct virtio_dev *vdev, unsigned int off,
			     const uint8_t *data, unsigned int len);
	/* Optional: refuse a feature combination at FEATURES_OK. */
	bool (*features_ok)(struct virtio_dev *vdev, uint64_t features);
	/*
	 * Queue q has (maybe) new buffers.  On the I/O thread with io_lock
	 * held, only while DRIVER_OK is set and NEEDS_RESET is not.
	 */
	void (*queue_notify)(struct virtio_dev *vdev, unsigned int q);
	/* Optional: DRIVER_OK was set (io_lock held). */
	void (*driver_ok)(struct virtio_dev *vdev);
	/*
	 * Optional: the driver reset the device (io_lock held).  Drop every
	 * popped chain and finish or cancel in-flight work before returning:
	 * the queues are torn down right after.
	 */
	void (*reset)(struct virtio_dev *vdev);
	/*
	 * The queues are run outside mvm (a vhost-user back-end): the I/O
	 * thread never reads their kick eventfds (KVM ioeventfds still
	 * write them) and queue_notify is never called.  driver_ok hands
	 * the queues over (virtio_dev_queue_call_fd), reset takes them back.
	 */
	bool external_queues;
};

struct virtio_queue {
	struct virtq vq;
	uint16_t size;			/* driver's choice, <= ops->queue_size */
	uint16_t msix_vector;
	bool enabled;
	uint64_t desc, driver, device;	/* guest-physical */
	int kick_fd;			/* eventfd watched by the I/O thread */
	int call_fd;			/* external queues: INTx/ISR path */
	bool ioeventfd;			/* kick_fd assigned with KVM */
	uint64_t ioeventfd_addr;
};

typedef void (*virtio_watch_fn)(struct virtio_dev *vdev, int fd,
				void *opaque);

struct virtio_watch {
	int fd;				/* -1: free */
	virtio_watch_fn fn;
	void *opaque;
	unsigned int queue;		/* kick watches: the queue */
};

struct virtio_stats {
	uint64_t kicks_trapped;		/* notifications by MMIO exit */
	uint64_t irqs_msix;
	uint64_t irqs_intx;
	uint64_t needs_reset;
};

struct virtio_dev {
	struct pci_device pci;
	const struct virtio_dev_ops *ops;
	struct device_ctx *ctx;
	void *priv;			/* the device model's state */
	char name[32];

	pthread_mutex_t io_lock;
	pthread_mutex_t lock;
	/* Common configuration (4.1.4.3). */
	uint32_t dfselect, gfselect;
	uint64_t host_features, guest_features;
	uint8_t status;
	uint8_t config_generation;
	uint16_t queue_select;
	uint16_t config_vector;
	uint8_t isr;
	bool intx_level;
	struct virtio_queue queues[VIRTIO_MAX_QUEUES];
	unsigned int nr_queues;

	/* MSI-X: vector 0..nr_queues, one eventfd each. */
	struct msix msix;
	struct msix_vectors vectors;
	unsigned int nr_vectors;
	int vec_efd[VIRTIO_MAX_QUEUES + 1];

	int cfg_cap;			/* VIRTIO_PCI_CAP_PCI_CFG offset */
	/* BAR4 as currently decoded. */
	bool bar_mapped;
	uint64_t bar_addr;

	/* The I/O thread. */
	pthread_t thread;
	bool thread_running;
	int epfd, stop_fd;
	struct virtio_watch kicks[VIRTIO_MAX_QUEUES];
	struct virtio_watch watches[VIRTIO_MAX_WATCHES];

	bool registered;
	struct virtio_stats stats;
};

/*
 * Build the PCI function for `ops` (IDs, capabilities, BAR4, MSI-X),
 * start its I/O thread and place it on ctx->pci.  vdev->priv is the
 * caller's.  Returns 0 or -errno after printing why.
 */
int virtio_dev_init(struct virtio_dev *vdev, const struct virtio_dev_ops *ops,
		    struct device_ctx *ctx, void *priv);
/* Stop the thread, take the function off the bus, free everything. */
void virtio_dev_destroy(struct virtio_dev *vdev);
/* `mvm stat`: interrupts per MSI-X vector (msix_vectors_stat()). */
void virtio_dev_print_stat(struct virtio_dev *vdev, FILE *out);

/* The virtqueue of queue q (valid to pop/push in queue_notify). */
struct virtq *virtio_dev_queue(struct virtio_dev *vdev, unsigned int q);
/*
 * External queues: the eventfd a back-end signals for a used buffer
 * notification of queue q: the MSI-X vector's eventfd (KVM irqfd) when
 * MSI-X is on, else one the I/O thread turns into ISR bit 0 + INTx.
 */
int virtio_dev_queue_call_fd(struct virtio_dev *vdev, unsigned int q);
/* Negotiated features (stable while DRIVER_OK is set). */
uint64_t virtio_dev_features(struct virtio_dev *vdev);
bool virtio_dev_driver_ok(struct virtio_dev *vdev);

/*
 * Used buffer notification for queue q (2.3.2), if the driver wants one
 * (virtq_should_notify): MSI-X vector, or ISR bit 0 + INTx.  Call on the
 * I/O thread after pushing.
 */
void virtio_dev_notify_used(struct virtio_dev *vdev, unsigned int q);
/* Configuration change notification (2.3.1); bumps config_generation. */
void virtio_dev_config_changed(struct virtio_dev *vdev);
/*
 * The device hit an error the driver must reset to clear (2.1.2): set
 * DEVICE_NEEDS_RESET, stop the queues, tell the driver.  Any thread.
 */
void virtio_dev_set_needs_reset(struct virtio_dev *vdev);
/* Make the I/O thread run queue_notify(q) soon (any thread). */
void virtio_dev_kick(struct virtio_dev *vdev, unsigned int q);

/*
 * Watch another fd (a tap device, a host pipe) on the I/O thread;
 * `fn` runs with io_lock held while fd is readable (level-triggered).
 * unwatch must be called with io_lock held (from a callback or reset)
 * or from the thread that owns the device before destroy.
 */
int virtio_dev_watch(struct virtio_dev *vdev, int fd, virtio_watch_fn fn,
		     void *opaque);
void virtio_dev_unwatch(struct virtio_dev *vdev, int fd);

/* Device models. */
struct virtio_rng;
struct virtio_console;

int virtio_rng_create(struct device_ctx *ctx, struct virtio_rng **out);
void virtio_rng_destroy(struct virtio_rng *rng);
struct virtio_dev *virtio_rng_dev(struct virtio_rng *rng);

/* Transmitted bytes go to out_fd; input arrives by virtio_console_receive. */
int virtio_console_create(struct device_ctx *ctx, int out_fd,
			  struct virtio_console **out);
void virtio_console_destroy(struct virtio_console *con);
struct virtio_dev *virtio_console_dev(struct virtio_console *con);
/*
 * Host input for the guest (the console thread): takes up to len bytes
 * into a buffer the I/O thread drains into the receive queue.  Returns
 * how many were taken; when short, `rx_notify` (see below) is signalled
 * once there is room again.  Thread-safe.
 */
size_t virtio_console_receive(void *con, const uint8_t *buf, size_t len);
void virtio_console_set_rx_notify(void *con, int fd);

#endif
