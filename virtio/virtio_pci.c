// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-pci modern transport (virtio 1.2, 4.1): a non-transitional
 * PCI function with its virtio structures in BAR4, located by vendor
 * capabilities (4.1.4), feature negotiation and the device status state
 * machine (2.1, 2.2, 3.1.1), virtqueue registers, notifications and
 * interrupts, and the device's I/O thread.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "debug/trace.h"
#include "core/util.h"
#include "virtio/virtio.h"

#define CAP_NOTIFY_LEN		20	/* struct virtio_pci_notify_cap */
#define CAP_PCI_CFG_LEN		20	/* struct virtio_pci_cfg_cap */

/* ---- interrupts ---------------------------------------------------- */

static void efd_signal(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one))
		pr_warn_ratelimited("virtio: eventfd write failed: %s",
				    strerror(errno));
}

static void efd_drain(int fd)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		pr_warn_ratelimited("virtio: eventfd read failed: %s",
				    strerror(errno));
}

/*
 * 4.1.5.1.2 / 4.1.5.4: with MSI-X enabled the event goes to `vector`
 * (none for VIRTIO_MSI_NO_VECTOR); otherwise the ISR bit is set and
 * INTx asserted until the driver reads the ISR.  Called without locks.
 */
static void raise_irq(struct virtio_dev *vdev, uint16_t vector, uint8_t isr)
{
	bool msix;

	TRACE(VIRTIO, "%s interrupt vector %u isr %#x", vdev->pci.name,
	      vector, isr);
	pthread_mutex_lock(&vdev->msix.lock);
	msix = vdev->msix.enabled;
	pthread_mutex_unlock(&vdev->msix.lock);
	if (msix) {
		if (vector < vdev->nr_vectors) {
			vdev->stats.irqs_msix++;
			msix_vectors_count_raised(&vdev->vectors, vector);
			efd_signal(vdev->vec_efd[vector]);
		}
		return;
	}
	pthread_mutex_lock(&vdev->lock);
	vdev->isr |= isr;
	vdev->stats.irqs_intx++;
	if (!vdev->intx_level) {
		vdev->intx_level = true;
		pci_intx_set(&vdev->pci, 1);
	}
	pthread_mutex_unlock(&vdev->lock);
}

void virtio_dev_notify_used(struct virtio_dev *vdev, unsigned int q)
{
	uint16_t vector;

	if (q >= vdev->nr_queues || !virtq_should_notify(&vdev->queues[q].vq))
		return;
	pthread_mutex_lock(&vdev->lock);
	vector = vdev->queues[q].msix_vector;
	pthread_mutex_unlock(&vdev->lock);
	raise_irq(vdev, vector, VIRTIO_ISR_QUEUE);
}

/* Returns true if a configuration change interrupt is due. */
static bool needs_reset_locked(struct virtio_dev *vdev)
{
	if (vdev->status & VIRTIO_STATUS_NEEDS_RESET)
		return false;
	vdev->status |= VIRTIO_STATUS_NEEDS_RESET;
	vdev->stats.needs_reset++;
	/* 2.1.2: with DRIVER_OK set, tell the driver. */
	return vdev->status & VIRTIO_STATUS_DRIVER_OK;
}

void virtio_dev_set_needs_reset(struct virtio_dev *vdev)
{
	uint16_t vector;
	bool send;

	pthread_mutex_lock(&vdev->lock);
	send = needs_reset_locked(vdev);
	vector = vdev->config_vector;
	pthread_mutex_unlock(&vdev->lock);
	if (send)
		raise_irq(vdev, vector, VIRTIO_ISR_CONFIG);
}

void virtio_dev_config_changed(struct virtio_dev *vdev)
{
	uint16_t vector;
	bool send;

	pthread_mutex_lock(&vdev->lock);
	vdev->config_generation++;	/* 4.1.4.3.1 */
	send = vdev->status & VIRTIO_STATUS_DRIVER_OK;
	vector = vdev->config_vector;
	pthread_mutex_unlock(&vdev->lock);
	if (send)
		raise_irq(vdev, vector, VIRTIO_ISR_CONFIG);
}

static void vq_error(struct virtq *vq, void *opaque)
{
	virtio_dev_set_needs_reset(opaque);
}

/* ---- notifications ------------------------------------------------- */

/* Keep queue q's ioeventfd in step with its state and BAR4 (lock held). */
static void ioeventfd_update(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_queue *vq = &vdev->queues[q];
	const struct ioeventfd_ops *ops = vdev->ctx->ioeventfd;
	uint64_t addr = vdev->bar_addr + VIRTIO_PCI_NOTIFY_OFF +
			(uint64_t)q * VIRTIO_PCI_NOTIFY_MULT;
	bool want = vq->enabled && vdev->bar_mapped && ops;

	if (vq->ioeventfd && (!want || vq->ioeventfd_addr != addr)) {
		ops->assign(vdev->ctx->ioeventfd_opaque, vq->ioeventfd_addr, 2,
			    vq->kick_fd, false);
		vq->ioeventfd = false;
	}
	/* A failed assign leaves the trapped MMIO write as the path. */
	if (want && !vq->ioeventfd &&
	    !ops->assign(vdev->ctx->ioeventfd_opaque, addr, 2, vq->kick_fd,
			 true)) {
		vq->ioeventfd = true;
		vq->ioeventfd_addr = addr;
	}
}

void virtio_dev_kick(struct virtio_dev *vdev, unsigned int q)
{
	if (q < vdev->nr_queues)
		efd_signal(vdev->queues[q].kick_fd);
}

/* I/O thread: queue q's eventfd fired (KVM ioeventfd or trapped write). */
static void kick_ready(struct virtio_dev *vdev, int fd, void *opaque)
{
	unsigned int q = (unsigned int)(uintptr_t)opaque;
	bool run;

	efd_drain(fd);
	pthread_mutex_lock(&vdev->lock);
	/* 3.1.1 / 2.1.2: no buffers are used before DRIVER_OK or while a
	 * reset is needed. */
	run = (vdev->status & VIRTIO_STATUS_DRIVER_OK) &&
	      !(vdev->status & VIRTIO_STATUS_NEEDS_RESET) &&
	      vdev->queues[q].enabled;
	pthread_mutex_unlock(&vdev->lock);
	TRACE(VIRTIO, "%s queue %u kick%s", vdev->pci.name, q,
	      run ? "" : " ignored (not ready)");
	if (run && vdev->ops->queue_notify)
		vdev->ops->queue_notify(vdev, q);
}

/* External queues: the back-end's used buffer notification without MSI-X. */
static void call_ready(struct virtio_dev *vdev, int fd, void *opaque)
{
	unsigned int q = (unsigned int)(uintptr_t)opaque;
	uint16_t vector;

	efd_drain(fd);
	pthread_mutex_lock(&vdev->lock);
	vector = vdev->queues[q].msix_vector;
	pthread_mutex_unlock(&vdev->lock);
	raise_irq(vdev, vector, VIRTIO_ISR_QUEUE);
}

int virtio_dev_queue_call_fd(struct virtio_dev *vdev, unsigned int q)
{
	uint16_t vector;
	bool msix;

	if (q >= vdev->nr_queues)
		return -1;
	pthread_mutex_lock(&vdev->msix.lock);
	msix = vdev->msix.enabled;
	pthread_mutex_unlock(&vdev->msix.lock);
	pthread_mutex_lock(&vdev->lock);
	vector = vdev->queues[q].msix_vector;
	pthread_mutex_unlock(&vdev->lock);
	if (msix && vector < vdev->nr_vectors)
		return vdev->vec_efd[vector];
	return vdev->queues[q].call_fd;
}

/* ---- the I/O thread ------------------------------------------------ */

static void *io_thread(void *arg)
{
	struct virtio_dev *vdev = arg;
	struct epoll_event ev[16];
	int i, n;

	for (;;) {
		n = epoll_wait(vdev->epfd, ev, ARRAY_SIZE(ev), -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pr_errno(errno, "%s: epoll_wait failed", vdev->name);
			return NULL;
		}
		for (i = 0; i < n; i++) {
			struct virtio_watch *w = ev[i].data.ptr;

			if (!w)		/* stop_fd */
				return NULL;
			pthread_mutex_lock(&vdev->io_lock);
			if (w->fd >= 0)
				w->fn(vdev, w->fd, w->opaque);
			pthread_mutex_unlock(&vdev->io_lock);
		}
	}
}

static int epoll_watch(struct virtio_dev *vdev, int fd, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ptr };

	if (epoll_ctl(vdev->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

int virtio_dev_watch(struct virtio_dev *vdev, int fd, virtio_watch_fn fn,
		     void *opaque)
{
	unsigned int i;
	int err = -ENOSPC;

	pthread_mutex_lock(&vdev->io_lock);
	for (i = 0; i < VIRTIO_MAX_WATCHES; i++) {
		struct virtio_watch *w = &vdev->watches[i];

		if (w->fd >= 0)
			continue;
		w->fn = fn;
		w->opaque = opaque;
		w->fd = fd;
		err = epoll_watch(vdev, fd, w);
		if (err)
			w->fd = -1;
		break;
	}
	pthread_mutex_unlock(&vdev->io_lock);
	return err;
}

void virtio_dev_unwatch(struct virtio_dev *vdev, int fd)
{
	unsigned int i;

	pthread_mutex_lock(&vdev->io_lock);
	for (i = 0; i < VIRTIO_MAX_WATCHES; i++) {
		if (vdev->watches[i].fd == fd) {
			epoll_ctl(vdev->epfd, EPOLL_CTL_DEL, fd, NULL);
			vdev->watches[i].fd = -1;
		}
	}
	pthread_mutex_unlock(&vdev->io_lock);
}

static int thread_start(struct virtio_dev *vdev)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&vdev->thread, NULL, io_thread, vdev);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return err;
	pthread_setname_np(vdev->thread, "mvm-virtio");
	vdev->thread_running = true;
	return 0;
}

static void thread_stop(struct virtio_dev *vdev)
{
	if (!vdev->thread_running)
		return;
	efd_signal(vdev->stop_fd);
	pthread_join(vdev->thread, NULL);
	vdev->thread_running = false;
}

/* ---- device status, features, reset -------------------------------- */

/* 2.4 / 4.1.4.3.2: back to the initial state.  io_lock held. */
static void dev_reset(struct virtio_dev *vdev)
{
	unsigned int q;

	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
	pthread_mutex_lock(&vdev->lock);
	for (q = 0; q < vdev->nr_queues; q++) {
		struct virtio_queue *vq = &vdev->queues[q];

		vq->enabled = false;
		ioeventfd_update(vdev, q);
		efd_drain(vq->kick_fd);
		virtq_reset(&vq->vq);
		vq->size = vdev->ops->queue_size;
		vq->msix_vector = VIRTIO_MSI_NO_VECTOR;
		vq->desc = vq->driver = vq->device = 0;
	}
	vdev->status = 0;
	vdev->dfselect = vdev->gfselect = 0;
	vdev->guest_features = 0;
	vdev->queue_select = 0;
	vdev->config_vector = VIRTIO_MSI_NO_VECTOR;
	vdev->isr = 0;
	if (vdev->intx_level) {
		vdev->intx_level = false;
		pci_intx_set(&vdev->pci, 0);
	}
	pthread_mutex_unlock(&vdev->lock);
}

/* 2.2.1 / 6.1: may the driver's feature set be accepted?  lock held. */
static bool features_acceptable(struct virtio_dev *vdev)
{
	uint64_t f = vdev->guest_features;

	if (f & ~vdev->host_features) {
		pr_warn_ratelimited("%s: driver accepted features %#llx that were not offered",
				    vdev->name,
				    (unsigned long long)(f & ~vdev->host_features));
		return false;
	}
	/* 6.1: a device without legacy support refuses FEATURES_OK unless
	 * VIRTIO_F_VERSION_1 was accepted. */
	if (!(f & (1ULL << VIRTIO_F_VERSION_1))) {
		pr_warn_ratelimited("%s: driver did not accept VIRTIO_F_VERSION_1 (legacy drivers are not supported)",
				    vdev->name);
		return false;
	}
	return !vdev->ops->features_ok || vdev->ops->features_ok(vdev, f);
}

static void status_write(struct virtio_dev *vdev, uint8_t val)
{
	bool start;
	unsigned int q;
	uint8_t old;

	TRACE(VIRTIO, "%s status %#x", vdev->pci.name, val);
	pthread_mutex_lock(&vdev->io_lock);
	if (!val) {
		dev_reset(vdev);
		pthread_mutex_unlock(&vdev->io_lock);
		return;
	}
	pthread_mutex_lock(&vdev->lock);
	old = vdev->status;
	/* 2.1.1: the driver never clears a bit (except by reset), and
	 * DEVICE_NEEDS_RESET is the device's. */
	if (old & ~val & (uint8_t)~VIRTIO_STATUS_NEEDS_RESET)
		pr_warn_ratelimited("%s: driver cleared device status bits %#x without a reset",
				    vdev->name, old & ~val);
	val = (uint8_t)((val & ~VIRTIO_STATUS_NEEDS_RESET) | old);
	/* 3.1.1 step 5-6: FEATURES_OK only sticks if we accept them. */
	if ((val & ~old & VIRTIO_STATUS_FEATURES_OK) &&
	    !features_acceptable(vdev))
		val &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	if ((val & VIRTIO_STATUS_DRIVER_OK) &&
	    !(val & VIRTIO_STATUS_FEATURES_OK)) {
		pr_warn_ratelimited("%s: DRIVER_OK without FEATURES_OK ignored",
				    vdev->name);
		val &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
	}
	vdev->status = val;
	start = (val & ~old & VIRTIO_STATUS_DRIVER_OK) &&
		!(val & VIRTIO_STATUS_NEEDS_RESET);
	pthread_mutex_unlock(&vdev->lock);
	if (start) {
		if (vdev->ops->driver_ok)
			vdev->ops->driver_ok(vdev);
		/* Buffers made available before DRIVER_OK (3.1.1 step 7). */
		for (q = 0; q < vdev->nr_queues; q++)
			if (vdev->queues[q].enabled)
				virtio_dev_kick(vdev, q);
	}
	pthread_mutex_unlock(&vdev->io_lock);
}

/* ---- common configuration (4.1.4.3) -------------------------------- */

static struct virtio_queue *selected(struct virtio_dev *vdev)
{
	return vdev->queue_select < vdev->nr_queues ?
	       &vdev->queues[vdev->queue_select] : NULL;
}

static void common_read(struct virtio_dev *vdev, uint64_t off, uint8_t *data,
			unsigned int len)
{
	uint8_t img[VIRTIO_PCI_COMMON_SIZE + 8] = { 0 };
	struct virtio_queue *vq;
	uint64_t f;

	pthread_mutex_lock(&vdev->lock);
	vq = selected(vdev);
	put_le32(img + VIRTIO_PCI_COMMON_DFSELECT, vdev->dfselect);
	f = vdev->dfselect < 2 ? vdev->host_features >> (32 * vdev->dfselect)
			       : 0;
	put_le32(img + VIRTIO_PCI_COMMON_DF, (uint32_t)f);
	put_le32(img + VIRTIO_PCI_COMMON_GFSELECT, vdev->gfselect);
	f = vdev->gfselect < 2 ? vdev->guest_features >> (32 * vdev->gfselect)
			       : 0;
	put_le32(img + VIRTIO_PCI_COMMON_GF, (uint32_t)f);
	put_le16(img + VIRTIO_PCI_COMMON_MSIX, vdev->config_vector);
	put_le16(img + VIRTIO_PCI_COMMON_NUMQ, (uint16_t)vdev->nr_queues);
	img[VIRTIO_PCI_COMMON_STATUS] = vdev->status;
	img[VIRTIO_PCI_COMMON_CFGGENERATION] = vdev->config_generation;
	put_le16(img + VIRTIO_PCI_COMMON_Q_SELECT, vdev->queue_select);
	/* 4.1.4.3.1: a queue that does not exist reads size 0. */
	if (vq) {
		put_le16(img + VIRTIO_PCI_COMMON_Q_SIZE, vq->size);
		put_le16(img + VIRTIO_PCI_COMMON_Q_MSIX, vq->msix_vector);
		put_le16(img + VIRTIO_PCI_COMMON_Q_ENABLE, vq->enabled);
		put_le16(img + VIRTIO_PCI_COMMON_Q_NOFF, vdev->queue_select);
		put_le64(img + VIRTIO_PCI_COMMON_Q_DESCLO, vq->desc);
		put_le64(img + VIRTIO_PCI_COMMON_Q_AVAILLO, vq->driver);
		put_le64(img + VIRTIO_PCI_COMMON_Q_USEDLO, vq->device);
	}
	pthread_mutex_unlock(&vdev->lock);
	memset(data, 0, len);
	if (off < VIRTIO_PCI_COMMON_SIZE)
		memcpy(data, img + off,
		       MIN((uint64_t)len, VIRTIO_PCI_COMMON_SIZE - off));
}

/* 4.1.5.1.2: a vector the device cannot use reads back as NO_VECTOR. */
static uint16_t valid_vector(struct virtio_dev *vdev, uint16_t v)
{
	return v < vdev->nr_vectors ? v : VIRTIO_MSI_NO_VECTOR;
}

static void queue_enable(struct virtio_dev *vdev, struct virtio_queue *vq)
{
	unsigned int q = (unsigned int)(vq - vdev->queues);
	uint16_t vector = vdev->config_vector;
	bool send = false;
	int err;

	err = virtq_init(&vq->vq, vdev->ctx->mem, vq->size, vq->desc,
			 vq->driver, vq->device, vdev->guest_features);
	if (err) {
		pr_warn_ratelimited("%s: queue %u: rings %#llx/%#llx/%#llx (size %u) are %s; device needs reset",
				    vdev->name, q,
				    (unsigned long long)vq->desc,
				    (unsigned long long)vq->driver,
				    (unsigned long long)vq->device, vq->size,
				    err == -EFAULT ? "outside guest RAM" :
				    "misaligned");
		send = needs_reset_locked(vdev);
	} else {
		vq->enabled = true;
		ioeventfd_update(vdev, q);
	}
	if (send) {
		pthread_mutex_unlock(&vdev->lock);
		raise_irq(vdev, vector, VIRTIO_ISR_CONFIG);
		pthread_mutex_lock(&vdev->lock);
	}
}

static void set_half(uint64_t *reg, bool high, uint32_t v)
{
	if (high)
		*reg = (*reg & 0xffffffffULL) | (uint64_t)v << 32;
	else
		*reg = (*reg & ~0xffffffffULL) | v;
}

/* A queue register write; lock held. */
static void queue_write(struct virtio_dev *vdev, uint64_t off,
			unsigned int len, uint64_t val)
{
	struct virtio_queue *vq = selected(vdev);

	if (!vq) {
		pr_warn_ratelimited("%s: write to queue %u, which does not exist",
				    vdev->name, vdev->queue_select);
		return;
	}
	if (off == VIRTIO_PCI_COMMON_Q_MSIX) {
		vq->msix_vector = valid_vector(vdev, (uint16_t)val);
		return;
	}
	/* 4.1.4.3.2: the driver configures a queue before enabling it. */
	if (vq->enabled) {
		pr_warn_ratelimited("%s: queue %u: register %#llx written while enabled; ignored",
				    vdev->name, vdev->queue_select,
				    (unsigned long long)off);
		return;
	}
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE:
		if (!val || val > vdev->ops->queue_size || (val & (val - 1)))
			pr_warn_ratelimited("%s: queue %u: size %llu refused (power of two up to %u)",
					    vdev->name, vdev->queue_select,
					    (unsigned long long)val,
					    vdev->ops->queue_size);
		else
			vq->size = (uint16_t)val;
		break;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		if (val == 1)
			queue_enable(vdev, vq);
		break;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_DESCHI:
		if (len == 8)
			vq->desc = val;
		else
			set_half(&vq->desc, off & 4, (uint32_t)val);
		break;
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
		if (len == 8)
			vq->driver = val;
		else
			set_half(&vq->driver, off & 4, (uint32_t)val);
		break;
	case VIRTIO_PCI_COMMON_Q_USEDLO:
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		if (len == 8)
			vq->device = val;
		else
			set_half(&vq->device, off & 4, (uint32_t)val);
		break;
	}
}

/* The width of each writable field (4.1.3.1: natural width). */
static unsigned int field_width(uint64_t off)
{
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
	case VIRTIO_PCI_COMMON_GFSELECT:
	case VIRTIO_PCI_COMMON_GF:
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_DESCHI:
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
	case VIRTIO_PCI_COMMON_Q_USEDLO:
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		return 4;
	case VIRTIO_PCI_COMMON_MSIX:
	case VIRTIO_PCI_COMMON_Q_SELECT:
	case VIRTIO_PCI_COMMON_Q_SIZE:
	case VIRTIO_PCI_COMMON_Q_MSIX:
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		return 2;
	case VIRTIO_PCI_COMMON_STATUS:
		return 1;
	default:
		return 0;	/* read-only or reserved */
	}
}

static void common_write(struct virtio_dev *vdev, uint64_t off,
			 const uint8_t *data, unsigned int len)
{
	unsigned int w = field_width(off);
	uint64_t val = get_leN(data, len);
	bool wide = len == 8 && (off == VIRTIO_PCI_COMMON_Q_DESCLO ||
				 off == VIRTIO_PCI_COMMON_Q_AVAILLO ||
				 off == VIRTIO_PCI_COMMON_Q_USEDLO);

	if (!w || (len != w && !wide)) {
		pr_warn_ratelimited("%s: ignored %u-byte write to common config offset %#llx",
				    vdev->name, len, (unsigned long long)off);
		return;
	}
	if (off == VIRTIO_PCI_COMMON_STATUS) {
		status_write(vdev, (uint8_t)val);
		return;
	}
	pthread_mutex_lock(&vdev->lock);
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		vdev->dfselect = (uint32_t)val;
		break;
	case VIRTIO_PCI_COMMON_GFSELECT:
		vdev->gfselect = (uint32_t)val;
		break;
	case VIRTIO_PCI_COMMON_GF:
		/* 3.1.1: features are fixed once FEATURES_OK is set. */
		if (vdev->status & VIRTIO_STATUS_FEATURES_OK)
			pr_warn_ratelimited("%s: driver features written after FEATURES_OK; ignored",
					    vdev->name);
		else if (vdev->gfselect < 2)
			set_half(&vdev->guest_features, vdev->gfselect,
				 (uint32_t)val);
		break;
	case VIRTIO_PCI_COMMON_MSIX:
		vdev->config_vector = valid_vector(vdev, (uint16_t)val);
		break;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		vdev->queue_select = (uint16_t)val;
		break;
	default:
		queue_write(vdev, off, len, val);
		break;
	}
	pthread_mutex_unlock(&vdev->lock);
}

/* ---- BAR4 ---------------------------------------------------------- */

static bool within(uint64_t off, unsigned int len, uint64_t start,
		   uint64_t size)
{
	return off >= start && off + len <= start + size;
}

/* 4.1.4.5.1: reading the ISR returns and clears it, deasserting INTx. */
static uint8_t isr_read(struct virtio_dev *vdev)
{
	uint8_t v;

	pthread_mutex_lock(&vdev->lock);
	v = vdev->isr;
	vdev->isr = 0;
	if (vdev->intx_level) {
		vdev->intx_level = false;
		pci_intx_set(&vdev->pci, 0);
	}
	pthread_mutex_unlock(&vdev->lock);
	return v;
}

static void bar_read(void *opaque, uint64_t off, uint8_t *data,
		     unsigned int len)
{
	struct virtio_dev *vdev = opaque;
	struct msix *m = &vdev->msix;

	memset(data, 0, len);
	if (within(off, len, VIRTIO_PCI_COMMON_OFF, 0x1000)) {
		common_read(vdev, off - VIRTIO_PCI_COMMON_OFF, data, len);
	} else if (within(off, len, VIRTIO_PCI_ISR_OFF, 4)) {
		if (off == VIRTIO_PCI_ISR_OFF)
			data[0] = isr_read(vdev);
	} else if (within(off, len, VIRTIO_PCI_DEVICE_OFF,
			  vdev->ops->config_size)) {
		pthread_mutex_lock(&vdev->lock);
		vdev->ops->config_read(vdev,
				       (unsigned int)(off - VIRTIO_PCI_DEVICE_OFF),
				       data, len);
		pthread_mutex_unlock(&vdev->lock);
	} else if (within(off, len, VIRTIO_PCI_MSIX_TABLE_OFF,
			  msix_table_size(m))) {
		msix_table_read(m, off - VIRTIO_PCI_MSIX_TABLE_OFF, data, len);
	} else if (within(off, len, VIRTIO_PCI_MSIX_PBA_OFF,
			  msix_pba_size(m))) {
		msix_pba_read(m, off - VIRTIO_PCI_MSIX_PBA_OFF, data, len);
	}
}

static void bar_write(void *opaque, uint64_t off, const uint8_t *data,
		      unsigned int len)
{
	struct virtio_dev *vdev = opaque;
	struct msix *m = &vdev->msix;

	if (within(off, len, VIRTIO_PCI_COMMON_OFF, 0x1000)) {
		common_write(vdev, off - VIRTIO_PCI_COMMON_OFF, data, len);
	} else if (within(off, len, VIRTIO_PCI_NOTIFY_OFF,
			  (uint64_t)vdev->nr_queues *
			  VIRTIO_PCI_NOTIFY_MULT)) {
		/* 4.1.5.2: the address says which queue; no ioeventfd. */
		vdev->stats.kicks_trapped++;
		virtio_dev_kick(vdev, (unsigned int)((off - VIRTIO_PCI_NOTIFY_OFF) /
						     VIRTIO_PCI_NOTIFY_MULT));
	} else if (within(off, len, VIRTIO_PCI_DEVICE_OFF,
			  vdev->ops->config_size)) {
		pthread_mutex_lock(&vdev->lock);
		if (vdev->ops->config_write)
			vdev->ops->config_write(vdev,
						(unsigned int)(off - VIRTIO_PCI_DEVICE_OFF),
						data, len);
		pthread_mutex_unlock(&vdev->lock);
	} else if (within(off, len, VIRTIO_PCI_MSIX_TABLE_OFF,
			  msix_table_size(m))) {
		msix_table_write(m, off - VIRTIO_PCI_MSIX_TABLE_OFF, data, len);
	} else if (within(off, len, VIRTIO_PCI_MSIX_PBA_OFF,
			  msix_pba_size(m))) {
		msix_pba_write(m, off - VIRTIO_PCI_MSIX_PBA_OFF, data, len);
	} else {
		pr_warn_ratelimited("%s: ignored %u-byte write at BAR4 offset %#llx",
				    vdev->name, len, (unsigned long long)off);
	}
}

static const struct io_ops bar_ops = { .read = bar_read, .write = bar_write };

/* ---- PCI config space ---------------------------------------------- */

static struct virtio_dev *to_vdev(struct pci_device *dev)
{
	return dev->priv;
}

/*
 * 4.1.4.8: the VIRTIO_PCI_CAP_PCI_CFG window: an access to pci_cfg_data
 * is an access of `length` bytes at `offset` in BAR `bar`.  Returns
 * false (and the access is ignored) unless that is a sane access.
 */
static bool cfg_window(struct virtio_dev *vdev, unsigned int *off,
		       unsigned int *len)
{
	unsigned int cap = (unsigned int)vdev->cfg_cap;
	uint32_t o = pci_cfg_get32(&vdev->pci, cap + VIRTIO_PCI_CAP_OFFSET);
	uint32_t l = pci_cfg_get32(&vdev->pci, cap + VIRTIO_PCI_CAP_LENGTH);

	/* o > SIZE - l, not o + l > SIZE: the sum wraps at 0xfffffffc. */
	if (vdev->pci.cfg[cap + VIRTIO_PCI_CAP_BAR] != VIRTIO_PCI_BAR ||
	    (l != 1 && l != 2 && l != 4) || (o & (l - 1)) ||
	    o > VIRTIO_PCI_BAR_SIZE - l)
		return false;
	*off = o;
	*len = l;
	return true;
}

static bool touches_window(struct virtio_dev *vdev, unsigned int off,
			   unsigned int len)
{
	unsigned int data = (unsigned int)vdev->cfg_cap +
			    VIRTIO_PCI_CFG_DATA;

	return off < data + 4 && off + len > data;
}

static void vcfg_read(struct pci_device *dev, unsigned int off,
		      uint8_t *data, unsigned int len)
{
	struct virtio_dev *vdev = to_vdev(dev);
	unsigned int boff, blen;

	if (touches_window(vdev, off, len) && cfg_window(vdev, &boff, &blen)) {
		uint8_t *win = &dev->cfg[vdev->cfg_cap + VIRTIO_PCI_CFG_DATA];

		memset(win, 0, 4);
		bar_read(vdev, boff, win, blen);
	}
	pci_cfg_generic_read(dev, off, data, len);
}

static void vcfg_written(struct pci_device *dev, unsigned int off,
			 const uint8_t *data, unsigned int len, uint32_t old)
{
	struct virtio_dev *vdev = to_vdev(dev);
	unsigned int boff, blen;

	msix_cfg_written(&vdev->msix, off, len);
	if (touches_window(vdev, off, len) && cfg_window(vdev, &boff, &blen))
		bar_write(vdev, boff,
			  &dev->cfg[vdev->cfg_cap + VIRTIO_PCI_CFG_DATA],
			  blen);
}

/* BAR4 starts or stops decoding: move the iobus range and ioeventfds. */
static int vbar_map(struct pci_device *dev, unsigned int bar, uint64_t addr,
		    bool map)
{
	struct virtio_dev *vdev = to_vdev(dev);
	unsigned int q;
	int err;

	if (bar != VIRTIO_PCI_BAR)
		return 0;
	if (map)
		err = iobus_register(dev->bus->mmio, addr, VIRTIO_PCI_BAR_SIZE,
				     &bar_ops, vdev, vdev->name);
	else
		err = iobus_unregister(dev->bus->mmio, addr, vdev);
	if (err)
		return err;
	pthread_mutex_lock(&vdev->lock);
	vdev->bar_mapped = map;
	vdev->bar_addr = addr;
	for (q = 0; q < vdev->nr_queues; q++)
		ioeventfd_update(vdev, q);
	pthread_mutex_unlock(&vdev->lock);
	return 0;
}

static const struct pci_device_ops virtio_pci_ops = {
	.cfg_written = vcfg_written,
	.cfg_read = vcfg_read,
	.bar_map = vbar_map,
};

static void vector_changed(struct msix *m, unsigned int v)
{
	struct virtio_dev *vdev = m->opaque;

	msix_vectors_sync(&vdev->vectors, v);
}

static const struct msix_ops virtio_msix_ops = {
	.vector_changed = vector_changed,
};

/* 4.1.4: struct virtio_pci_cap. */
static int add_cap(struct pci_device *dev, uint8_t type, uint32_t off,
		   uint32_t len, unsigned int cap_len)
{
	int pos = pci_device_add_capability(dev, PCI_CAP_ID_VNDR, cap_len);

	if (pos < 0)
		return pos;
	dev->cfg[pos + VIRTIO_PCI_CAP_LEN] = (uint8_t)cap_len;
	dev->cfg[pos + VIRTIO_PCI_CAP_CFG_TYPE] = type;
	dev->cfg[pos + VIRTIO_PCI_CAP_BAR] = VIRTIO_PCI_BAR;
	pci_cfg_set32(dev, (unsigned int)pos + VIRTIO_PCI_CAP_OFFSET, off);
	pci_cfg_set32(dev, (unsigned int)pos + VIRTIO_PCI_CAP_LENGTH, len);
	return pos;
}

static int build_function(struct virtio_dev *vdev)
{
	const struct virtio_dev_ops *ops = vdev->ops;
	struct pci_device *dev = &vdev->pci;
	uint16_t id = (uint16_t)(VIRTIO_PCI_DEVICE_BASE + ops->device_id);
	int pos, err;

	pci_device_init(dev, vdev->name, VIRTIO_PCI_VENDOR, id, ops->pci_class);
	/* 4.1.2.1: non-transitional devices have revision 1 or higher and
	 * SHOULD have a subsystem device ID of 0x40 or higher. */
	dev->cfg[PCI_REVISION_ID] = VIRTIO_PCI_REVISION;
	pci_cfg_set16(dev, PCI_SUBSYSTEM_VENDOR_ID, VIRTIO_PCI_VENDOR);
	pci_cfg_set16(dev, PCI_SUBSYSTEM_ID, id);
	dev->cfg[PCI_INTERRUPT_PIN] = 1;	/* INTA# */
	dev->ops = &virtio_pci_ops;
	dev->priv = vdev;
	err = pci_device_add_bar(dev, VIRTIO_PCI_BAR, PCI_BAR_MEM64,
				 VIRTIO_PCI_BAR_SIZE, false, &bar_ops, vdev);
	if (!err)
		err = add_cap(dev, VIRTIO_PCI_CAP_COMMON_CFG,
			      VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_SIZE,
			      VIRTIO_PCI_CAP_SIZE);
	if (err >= 0) {
		pos = add_cap(dev, VIRTIO_PCI_CAP_NOTIFY_CFG,
			      VIRTIO_PCI_NOTIFY_OFF,
			      vdev->nr_queues * VIRTIO_PCI_NOTIFY_MULT,
			      CAP_NOTIFY_LEN);
		err = pos;
		if (pos >= 0)
			pci_cfg_set32(dev, (unsigned int)pos +
				      VIRTIO_PCI_NOTIFY_MULTIPLIER,
				      VIRTIO_PCI_NOTIFY_MULT);
	}
	if (err >= 0)
		err = add_cap(dev, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF,
			      1, VIRTIO_PCI_CAP_SIZE);
	if (err >= 0 && ops->config_size)
		err = add_cap(dev, VIRTIO_PCI_CAP_DEVICE_CFG,
			      VIRTIO_PCI_DEVICE_OFF, ops->config_size,
			      VIRTIO_PCI_CAP_SIZE);
	if (err >= 0) {
		/* 4.1.4.8: bar, offset, length and the data are writable. */
		pos = add_cap(dev, VIRTIO_PCI_CAP_PCI_CFG, 0, 0,
			      CAP_PCI_CFG_LEN);
		err = pos;
		if (pos >= 0) {
			vdev->cfg_cap = pos;
			dev->cfg[pos + VIRTIO_PCI_CAP_BAR] = 0;
			memset(&dev->wmask[pos + VIRTIO_PCI_CAP_BAR], 0xff, 1);
			memset(&dev->wmask[pos + VIRTIO_PCI_CAP_OFFSET], 0xff,
			       12);
		}
	}
	if (err >= 0)
		err = msix_init(&vdev->msix, dev, -1, vdev->nr_vectors,
				VIRTIO_PCI_BAR, VIRTIO_PCI_MSIX_TABLE_OFF,
				VIRTIO_PCI_BAR, VIRTIO_PCI_MSIX_PBA_OFF,
				&virtio_msix_ops, vdev);
	return err < 0 ? err : 0;
}

static int make_fds(struct virtio_dev *vdev)
{
	unsigned int i;

	vdev->epfd = epoll_create1(EPOLL_CLOEXEC);
	vdev->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vdev->epfd < 0 || vdev->stop_fd < 0)
		return -errno;
	for (i = 0; i < vdev->nr_queues; i++) {
		vdev->queues[i].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vdev->queues[i].kick_fd < 0)
			return -errno;
		vdev->kicks[i] = (struct virtio_watch){
			.fd = vdev->queues[i].kick_fd, .fn = kick_ready,
			.opaque = (void *)(uintptr_t)i, .queue = i,
		};
		if (vdev->ops->external_queues) {
			/* The back-end reads the kicks; mvm its INTx calls. */
			vdev->queues[i].call_fd = eventfd(0, EFD_CLOEXEC |
							  EFD_NONBLOCK);
			if (vdev->queues[i].call_fd < 0)
				return -errno;
			vdev->kicks[i].fd = vdev->queues[i].call_fd;
			vdev->kicks[i].fn = call_ready;
		}
		if (epoll_watch(vdev, vdev->kicks[i].fd, &vdev->kicks[i]))
			return -errno;
	}
	for (i = 0; i < vdev->nr_vectors; i++) {
		vdev->vec_efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vdev->vec_efd[i] < 0)
			return -errno;
	}
	return epoll_watch(vdev, vdev->stop_fd, NULL);
}

static void init_state(struct virtio_dev *vdev, const struct virtio_dev_ops *ops)
{
	pthread_mutexattr_t attr;
	unsigned int i;

	vdev->ops = ops;
	vdev->nr_queues = ops->nr_queues;
	vdev->nr_vectors = ops->nr_queues + 1;
	snprintf(vdev->name, sizeof(vdev->name), "%s", ops->name);
	vdev->epfd = vdev->stop_fd = -1;
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		struct virtio_queue *vq = &vdev->queues[i];

		vq->kick_fd = vq->call_fd = -1;
		vq->size = ops->queue_size;
		vq->msix_vector = VIRTIO_MSI_NO_VECTOR;
		vq->vq.name = vdev->name;
		vq->vq.index = i;
		virtq_set_error_handler(&vq->vq, vq_error, vdev);
	}
	for (i = 0; i <= VIRTIO_MAX_QUEUES; i++)
		vdev->vec_efd[i] = -1;
	for (i = 0; i < VIRTIO_MAX_WATCHES; i++)
		vdev->watches[i].fd = -1;
	vdev->config_vector = VIRTIO_MSI_NO_VECTOR;
	vdev->host_features = ops->features | 1ULL << VIRTIO_F_VERSION_1 |
			      1ULL << VIRTIO_RING_F_INDIRECT_DESC |
			      1ULL << VIRTIO_RING_F_EVENT_IDX;
	/* Recursive: callbacks on the I/O thread may (un)watch fds. */
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&vdev->io_lock, &attr);
	pthread_mutexattr_destroy(&attr);
	pthread_mutex_init(&vdev->lock, NULL);
}

int virtio_dev_init(struct virtio_dev *vdev, const struct virtio_dev_ops *ops,
		    struct device_ctx *ctx, void *priv)
{
	unsigned int v;
	int err;

	memset(vdev, 0, sizeof(*vdev));
	vdev->ctx = ctx;
	vdev->priv = priv;
	if (!ops->nr_queues || ops->nr_queues > VIRTIO_MAX_QUEUES ||
	    !ops->queue_size || ops->queue_size > VIRTQ_MAX_SIZE ||
	    (ops->queue_size & (ops->queue_size - 1)) ||
	    ops->config_size > VIRTIO_PCI_DEVICE_MAX ||
	    (ops->config_size && !ops->config_read)) {
		pr_err("%s: invalid virtio device description", ops->name);
		return -EINVAL;
	}
	init_state(vdev, ops);
	err = make_fds(vdev);
	if (err) {
		pr_errno(-err, "%s: cannot create eventfds", vdev->name);
		goto fail;
	}
	err = build_function(vdev);
	if (err) {
		pr_errno(-err, "%s: cannot build the PCI function", vdev->name);
		goto fail;
	}
	err = msix_vectors_init(&vdev->vectors, &vdev->msix, ctx->router,
				ctx->loop);
	if (err) {
		pr_errno(-err, "%s: cannot set up MSI-X vectors", vdev->name);
		goto fail;
	}
	pthread_mutex_lock(&vdev->msix.lock);
	for (v = 0; v < vdev->nr_vectors; v++)
		msix_vectors_set_eventfd(&vdev->vectors, v, vdev->vec_efd[v]);
	pthread_mutex_unlock(&vdev->msix.lock);
	err = thread_start(vdev);
	if (err) {
		pr_errno(-err, "%s: cannot start the I/O thread", vdev->name);
		goto fail;
	}
	err = pci_bus_register(ctx->pci, &vdev->pci, -1);
	if (err)
		goto fail;
	vdev->registered = true;
	return 0;
fail:
	virtio_dev_destroy(vdev);
	return err;
}

void virtio_dev_destroy(struct virtio_dev *vdev)
{
	unsigned int i;

	if (vdev->registered)
		pci_bus_unregister(vdev->ctx->pci, &vdev->pci);
	vdev->registered = false;
	thread_stop(vdev);
	msix_vectors_destroy(&vdev->vectors);
	msix_destroy(&vdev->msix);
	for (i = 0; i < vdev->nr_queues; i++) {
		if (vdev->queues[i].kick_fd >= 0)
			close(vdev->queues[i].kick_fd);
		if (vdev->queues[i].call_fd >= 0)
			close(vdev->queues[i].call_fd);
		vdev->queues[i].kick_fd = vdev->queues[i].call_fd = -1;
	}
	for (i = 0; i < vdev->nr_vectors; i++) {
		if (vdev->vec_efd[i] >= 0)
			close(vdev->vec_efd[i]);
		vdev->vec_efd[i] = -1;
	}
	if (vdev->stop_fd >= 0)
		close(vdev->stop_fd);
	if (vdev->epfd >= 0)
		close(vdev->epfd);
	vdev->stop_fd = vdev->epfd = -1;
	if (vdev->ops) {
		pthread_mutex_destroy(&vdev->lock);
		pthread_mutex_destroy(&vdev->io_lock);
		vdev->ops = NULL;
	}
}

struct virtq *virtio_dev_queue(struct virtio_dev *vdev, unsigned int q)
{
	return q < vdev->nr_queues ? &vdev->queues[q].vq : NULL;
}

uint64_t virtio_dev_features(struct virtio_dev *vdev)
{
	uint64_t f;

	pthread_mutex_lock(&vdev->lock);
	f = vdev->guest_features;
	pthread_mutex_unlock(&vdev->lock);
	return f;
}

bool virtio_dev_driver_ok(struct virtio_dev *vdev)
{
	bool ok;

	pthread_mutex_lock(&vdev->lock);
	ok = (vdev->status & VIRTIO_STATUS_DRIVER_OK) &&
	     !(vdev->status & VIRTIO_STATUS_NEEDS_RESET);
	pthread_mutex_unlock(&vdev->lock);
	return ok;
}

void virtio_dev_print_stat(struct virtio_dev *vdev, FILE *out)
{
	/* "raised" is what this device model raised: it counts them. */
	if (vdev->vectors.v)
		msix_vectors_stat(&vdev->vectors, vdev->pci.name, NULL, true,
				  out);
}
