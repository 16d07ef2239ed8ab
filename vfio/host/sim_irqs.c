// SPDX-License-Identifier: GPL-2.0
/*
 * Host interrupt state of the simulated function.
 *
 * VFIO_DEVICE_GET_IRQ_INFO and VFIO_DEVICE_SET_IRQS follow vfio-pci:
 * vfio_pci_ioctl_get_irq_info() and vfio_pci_ioctl_set_irqs() in
 * drivers/vfio/pci/vfio_pci_core.c, vfio_set_irqs_validate_and_prepare()
 * in drivers/vfio/vfio_main.c, and the per-index handlers of
 * drivers/vfio/pci/vfio_pci_intrs.c, including dynamic MSI-X allocation
 * (Linux >= 6.5, pci_msix_alloc_irq_at()) when the host is "dynamic".
 *
 * On top of the uAPI this models how the physical function's interrupts
 * reach the user: an MSI/MSI-X vector with a trigger is unmasked and
 * signals its eventfd; a vector without one is masked by the host kernel
 * (never requested, or free_irq()ed) so the device latches it in its
 * Pending Bit Array and it is delivered when a trigger is attached
 * (request_irq() unmasks it); with MSI-X and MSI disabled and no INTx
 * handler the interrupt is lost.  INTx is level-triggered and automasked
 * (vfio_intx_handler()) until a VFIO unmask.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/util.h"
#include "vfio/vfio_sim.h"

#define IRQ_NONE	VFIO_PCI_NUM_IRQS	/* vdev->irq_type when off */

int sim_trigger_get(struct sim_trigger *t, int fd)
{
	char path[48], link[64];
	ssize_t n;
	int efd;

	/* eventfd_ctx_fdget(): -EBADF without a file, -EINVAL if no eventfd */
	if (fd < 0)
		return -EBADF;
	efd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (efd < 0)
		return errno == EBADF ? -EBADF : -errno;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", efd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n >= 0) {
		link[n] = '\0';
		if (strcmp(link, "anon_inode:[eventfd]") != 0) {
			close(efd);
			return -EINVAL;
		}
	}
	t->user_fd = fd;
	t->efd = efd;
	return 0;
}

void sim_trigger_put(struct sim_trigger *t)
{
	if (t->efd >= 0)
		close(t->efd);
	t->efd = -1;
	t->user_fd = -1;
}

static bool trigger_set(const struct sim_trigger *t)
{
	return t->efd >= 0;
}

/* eventfd_signal(); false when there is no trigger. */
static bool trigger_signal(const struct sim_trigger *t)
{
	uint64_t one = 1;

	if (!trigger_set(t))
		return false;
	if (write(t->efd, &one, sizeof(one)) != sizeof(one))
		return false;
	return true;
}

static void trigger_init(struct sim_trigger *t)
{
	t->user_fd = -1;
	t->efd = -1;
}

int sim_irqs_init(struct sim_irqs *q, pthread_mutex_t *lock,
		  struct vfio_sim_stats *stats, unsigned int msix_count,
		  unsigned int msi_count, bool has_intx, bool dynamic)
{
	unsigned int i;

	memset(q, 0, sizeof(*q));
	if (msi_count > ARRAY_SIZE(q->msi))
		return -EINVAL;
	q->msix = calloc(msix_count ? msix_count : 1, sizeof(*q->msix));
	if (!q->msix)
		return -ENOMEM;
	q->lock = lock;
	q->stats = stats;
	q->type = IRQ_NONE;
	q->dynamic = dynamic;
	q->msix_count = msix_count;
	q->msi_count = msi_count;
	q->has_intx = has_intx;
	for (i = 0; i < msix_count; i++)
		trigger_init(&q->msix[i].trig);
	for (i = 0; i < ARRAY_SIZE(q->msi); i++)
		trigger_init(&q->msi[i].trig);
	trigger_init(&q->intx);
	trigger_init(&q->err);
	trigger_init(&q->req);
	return 0;
}

/* vfio_pci_get_irq_count() */
static unsigned int irq_count(const struct sim_irqs *q, unsigned int index)
{
	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		return q->has_intx ? 1 : 0;
	case VFIO_PCI_MSI_IRQ_INDEX:
		return q->msi_count;
	case VFIO_PCI_MSIX_IRQ_INDEX:
		return q->msix_count;
	case VFIO_PCI_ERR_IRQ_INDEX:	/* pci_is_pcie(): always here */
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	}
	return 0;
}

int sim_irqs_get_info(struct sim_irqs *q, struct vfio_irq_info *info)
{
	if (info->argsz < offsetofend(struct vfio_irq_info, count) ||
	    info->index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	info->flags = VFIO_IRQ_INFO_EVENTFD;
	info->count = irq_count(q, info->index);
	if (info->index == VFIO_PCI_INTX_IRQ_INDEX)
		info->flags |= VFIO_IRQ_INFO_MASKABLE |
			       VFIO_IRQ_INFO_AUTOMASKED;
	else if (info->index != VFIO_PCI_MSIX_IRQ_INDEX || !q->dynamic)
		info->flags |= VFIO_IRQ_INFO_NORESIZE;
	return 0;
}

/*
 * INTx: vfio_intx_enable()/_disable(), the automasking handler and the
 * unmask handler, with "pending" standing for a line still asserted.
 */
static void intx_send(struct sim_irqs *q)
{
	/* vfio_send_intx_eventfd() */
	if (q->type == VFIO_PCI_INTX_IRQ_INDEX)
		trigger_signal(&q->intx);
}

static void intx_mask(struct sim_irqs *q)
{
	if (q->type == VFIO_PCI_INTX_IRQ_INDEX)
		q->intx_masked = true;
}

static void intx_unmask(struct sim_irqs *q)
{
	if (q->type != VFIO_PCI_INTX_IRQ_INDEX || !q->intx_masked)
		return;
	/* pci_check_and_unmask_intx() fails while the line is asserted:
	 * the interrupt is re-sent and INTx stays masked. */
	if (q->intx_pending) {
		q->intx_pending = false;
		if (trigger_signal(&q->intx)) {
			q->stats->deliveries++;
			q->stats->pending_delivered++;
		} else {
			q->stats->dropped++;
		}
		return;
	}
	q->intx_masked = false;
}

/* vfio_virqfd: a thread standing in for the eventfd wait-queue callback */
static void *virqfd_thread(void *arg)
{
	struct sim_virqfd *v = arg;
	struct pollfd p[2] = {
		{ .fd = v->trig.efd, .events = POLLIN },
		{ .fd = v->stop_efd, .events = POLLIN },
	};
	uint64_t cnt;

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		/* virqfd_wakeup() consumes the count (eventfd_ctx_do_read) */
		if (read(v->trig.efd, &cnt, sizeof(cnt)) != sizeof(cnt))
			continue;
		pthread_mutex_lock(v->irqs->lock);
		if (!v->stopping)
			intx_unmask(v->irqs);
		pthread_mutex_unlock(v->irqs->lock);
	}
	return NULL;
}

static int virqfd_enable(struct sim_irqs *q, int fd)
{
	struct sim_virqfd *v;
	int ret;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	ret = sim_trigger_get(&v->trig, fd);
	if (ret)
		goto err_free;
	if (q->intx_unmask) {		/* vfio_virqfd_enable(): -EBUSY */
		ret = -EBUSY;
		goto err_put;
	}
	v->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->stop_efd < 0) {
		ret = -errno;
		goto err_put;
	}
	v->irqs = q;
	ret = -pthread_create(&v->thread, NULL, virqfd_thread, v);
	if (ret)
		goto err_close;
	q->intx_unmask = v;
	return 0;

err_close:
	close(v->stop_efd);
err_put:
	sim_trigger_put(&v->trig);
err_free:
	free(v);
	return ret;
}

static void virqfd_disable(struct sim_irqs *q)
{
	struct sim_virqfd *v = q->intx_unmask;
	uint64_t one = 1;

	if (!v)
		return;
	v->stopping = true;
	if (write(v->stop_efd, &one, sizeof(one)) != sizeof(one))
		pr_warn("sim: cannot stop INTx unmask thread");
	q->intx_unmask = NULL;
	v->next = q->reap;
	q->reap = v;
}

void sim_irqs_reap(struct sim_irqs *q)
{
	struct sim_virqfd *v, *next;

	pthread_mutex_lock(q->lock);
	v = q->reap;
	q->reap = NULL;
	pthread_mutex_unlock(q->lock);
	for (; v; v = next) {
		next = v->next;
		pthread_join(v->thread, NULL);
		sim_trigger_put(&v->trig);
		close(v->stop_efd);
		free(v);
	}
}

static void intx_disable(struct sim_irqs *q)
{
	virqfd_disable(q);
	sim_trigger_put(&q->intx);
	q->intx_masked = false;
	q->intx_pending = false;
	q->type = IRQ_NONE;
}

static int set_intx_unmask(struct sim_irqs *q, unsigned int start,
			   unsigned int count, uint32_t flags, void *data)
{
	if (q->type != VFIO_PCI_INTX_IRQ_INDEX || start != 0 || count != 1)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		intx_unmask(q);
	} else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (*(uint8_t *)data)
			intx_unmask(q);
	} else if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		int32_t fd = *(int32_t *)data;

		if (fd >= 0)
			return virqfd_enable(q, fd);
		virqfd_disable(q);
	}
	return 0;
}

static int set_intx_mask(struct sim_irqs *q, unsigned int start,
			 unsigned int count, uint32_t flags, void *data)
{
	if (q->type != VFIO_PCI_INTX_IRQ_INDEX || start != 0 || count != 1)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		intx_mask(q);
	} else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (*(uint8_t *)data)
			intx_mask(q);
	} else if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		return -ENOTTY;		/* "XXX implement me" upstream */
	}
	return 0;
}

static int set_intx_trigger(struct sim_irqs *q, unsigned int start,
			    unsigned int count, uint32_t flags, void *data)
{
	bool is_intx = q->type == VFIO_PCI_INTX_IRQ_INDEX;

	if (is_intx && !count && (flags & VFIO_IRQ_SET_DATA_NONE)) {
		intx_disable(q);
		return 0;
	}
	if (!(is_intx || q->type == IRQ_NONE) || start != 0 || count != 1)
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		struct sim_trigger t = { .user_fd = -1, .efd = -1 };
		int32_t fd = *(int32_t *)data;
		int ret;

		if (fd >= 0) {
			ret = sim_trigger_get(&t, fd);
			if (ret)
				return ret;
		}
		if (is_intx) {		/* vfio_intx_set_signal() */
			sim_trigger_put(&q->intx);
			q->intx = t;
			return 0;
		}
		/* vfio_intx_enable() */
		if (!q->has_intx) {
			sim_trigger_put(&t);
			return -ENODEV;
		}
		q->intx = t;
		q->intx_masked = false;
		q->intx_pending = false;
		q->type = VFIO_PCI_INTX_IRQ_INDEX;
		return 0;
	}

	if (!is_intx)
		return -EINVAL;
	if ((flags & VFIO_IRQ_SET_DATA_NONE) ||
	    ((flags & VFIO_IRQ_SET_DATA_BOOL) && *(uint8_t *)data)) {
		if (trigger_set(&q->intx))
			q->stats->loopbacks++;
		intx_send(q);
	}
	return 0;
}

/* MSI and MSI-X: vfio_msi_enable(), _set_vector_signal(), _disable(). */
static struct sim_vec *vectors(struct sim_irqs *q, bool msix)
{
	return msix ? q->msix : q->msi;
}

static unsigned int nr_vectors(const struct sim_irqs *q, bool msix)
{
	return msix ? q->msix_count : q->msi_count;
}

static int msi_enable(struct sim_irqs *q, unsigned int nvec, bool msix)
{
	struct sim_vec *v = vectors(q, msix);
	unsigned int i;

	if (q->type != IRQ_NONE)
		return -EINVAL;
	/* pci_alloc_irq_vectors(pdev, 1, nvec, ...): nvec 0 is -ERANGE */
	if (nvec == 0)
		return -ERANGE;
	for (i = 0; i < nr_vectors(q, msix); i++) {
		v[i].allocated = i < nvec;
		v[i].pending = false;	/* msix_mask_all() at enable */
	}
	q->type = msix ? VFIO_PCI_MSIX_IRQ_INDEX : VFIO_PCI_MSI_IRQ_INDEX;
	return 0;
}

static void msi_disable(struct sim_irqs *q, bool msix)
{
	struct sim_vec *v = vectors(q, msix);
	unsigned int i;

	/* free_irq() every ctx, then pci_free_irq_vectors() */
	for (i = 0; i < nr_vectors(q, msix); i++) {
		sim_trigger_put(&v[i].trig);
		v[i].allocated = false;
		v[i].pending = false;
		v[i].hw_irqs = 0;	/* the host IRQ is gone with it */
	}
	q->type = IRQ_NONE;
}

static int msi_set_vector_signal(struct sim_irqs *q, unsigned int vector,
				 int fd, bool msix)
{
	struct sim_vec *v = &vectors(q, msix)[vector];
	bool had_ctx = trigger_set(&v->trig);
	int ret;

	/* free_irq(): the vector stays allocated until MSI-X disable */
	if (had_ctx)
		sim_trigger_put(&v->trig);
	if (fd < 0)
		return 0;
	if (!had_ctx && !v->allocated) {
		/* vfio_msi_alloc_irq(): pci_irq_vector() is -EINVAL past the
		 * allocated vectors unless MSI-X is dynamic */
		if (!msix || !q->dynamic)
			return -EINVAL;
		v->allocated = true;	/* pci_msix_alloc_irq_at() */
	}
	ret = sim_trigger_get(&v->trig, fd);
	if (ret)
		return ret;
	/* request_irq() unmasks: a latched PBA bit fires at once */
	if (v->pending) {
		v->pending = false;
		v->hw_irqs++;
		trigger_signal(&v->trig);
		q->stats->deliveries++;
		q->stats->pending_delivered++;
	}
	return 0;
}

static int msi_set_block(struct sim_irqs *q, unsigned int start,
			 unsigned int count, const int32_t *fds, bool msix)
{
	unsigned int i, j;
	int ret = 0;

	for (i = 0, j = start; i < count && !ret; i++, j++)
		ret = msi_set_vector_signal(q, j, fds ? fds[i] : -1, msix);
	if (ret) {
		for (i = start; i < j; i++)
			msi_set_vector_signal(q, i, -1, msix);
	}
	return ret;
}

static int set_msi_trigger(struct sim_irqs *q, unsigned int index,
			   unsigned int start, unsigned int count,
			   uint32_t flags, void *data)
{
	bool msix = index == VFIO_PCI_MSIX_IRQ_INDEX;
	struct sim_vec *v = vectors(q, msix);
	unsigned int i;
	int ret;

	if (q->type == index && !count && (flags & VFIO_IRQ_SET_DATA_NONE)) {
		msi_disable(q, msix);
		return 0;
	}
	if (!(q->type == index || q->type == IRQ_NONE))
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		if (q->type == index)
			return msi_set_block(q, start, count, data, msix);
		ret = msi_enable(q, start + count, msix);
		if (ret)
			return ret;
		ret = msi_set_block(q, start, count, data, msix);
		if (ret)
			msi_disable(q, msix);
		return ret;
	}

	if (q->type != index)
		return -EINVAL;
	for (i = start; i < start + count; i++) {
		if (!trigger_set(&v[i].trig))
			continue;
		if ((flags & VFIO_IRQ_SET_DATA_NONE) ||
		    ((flags & VFIO_IRQ_SET_DATA_BOOL) &&
		     ((uint8_t *)data)[i - start])) {
			trigger_signal(&v[i].trig);
			q->stats->loopbacks++;
		}
	}
	return 0;
}

/* vfio_pci_set_ctx_trigger_single(): the ERR and REQ triggers */
static int set_ctx_trigger_single(struct sim_irqs *q, struct sim_trigger *t,
				  unsigned int count, uint32_t flags,
				  void *data)
{
	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		if (trigger_set(t)) {
			if (count) {
				trigger_signal(t);
				q->stats->loopbacks++;
			} else {
				sim_trigger_put(t);
			}
			return 0;
		}
	} else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (!count)
			return -EINVAL;
		if (*(uint8_t *)data && trigger_set(t)) {
			trigger_signal(t);
			q->stats->loopbacks++;
		}
		return 0;
	} else if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		struct sim_trigger n;
		int32_t fd;
		int ret;

		if (!count)
			return -EINVAL;
		fd = *(int32_t *)data;
		if (fd == -1) {
			sim_trigger_put(t);
		} else if (fd >= 0) {
			ret = sim_trigger_get(&n, fd);
			if (ret)
				return ret;
			sim_trigger_put(t);
			*t = n;
		}
		return 0;
	}
	return -EINVAL;
}

static int set_err_req_trigger(struct sim_irqs *q, unsigned int index,
			       unsigned int start, unsigned int count,
			       uint32_t flags, void *data)
{
	if (start != 0 || count > 1)
		return -EINVAL;
	return set_ctx_trigger_single(q, index == VFIO_PCI_ERR_IRQ_INDEX ?
				      &q->err : &q->req, count, flags, data);
}

/* vfio_set_irqs_validate_and_prepare() */
static int validate(const struct sim_irqs *q, const struct vfio_irq_set *h)
{
	size_t minsz = offsetofend(struct vfio_irq_set, count);
	unsigned int max;
	size_t size;

	if (h->argsz < minsz || h->index >= VFIO_PCI_NUM_IRQS ||
	    h->count >= (UINT32_MAX - h->start) ||
	    (h->flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK |
			  VFIO_IRQ_SET_ACTION_TYPE_MASK)))
		return -EINVAL;
	max = irq_count(q, h->index);
	if (h->start >= max || h->start + h->count > max)
		return -EINVAL;
	switch (h->flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		size = 0;
		break;
	case VFIO_IRQ_SET_DATA_BOOL:
		size = sizeof(uint8_t);
		break;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		size = sizeof(int32_t);
		break;
	default:
		return -EINVAL;
	}
	if (size && h->argsz - minsz < (size_t)h->count * size)
		return -EINVAL;
	return 0;
}

/* vfio_pci_set_irqs_ioctl(): one handler per index and action. */
static int set_irqs(struct sim_irqs *q, struct vfio_irq_set *h)
{
	uint32_t action = h->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	void *data = h->data;

	switch (h->index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_MASK)
			return set_intx_mask(q, h->start, h->count, h->flags,
					     data);
		if (action == VFIO_IRQ_SET_ACTION_UNMASK)
			return set_intx_unmask(q, h->start, h->count,
					       h->flags, data);
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return set_intx_trigger(q, h->start, h->count,
						h->flags, data);
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
	case VFIO_PCI_MSIX_IRQ_INDEX:
		/* MASK/UNMASK: "XXX Need masking support exported" */
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return set_msi_trigger(q, h->index, h->start,
					       h->count, h->flags, data);
		break;
	case VFIO_PCI_ERR_IRQ_INDEX:
	case VFIO_PCI_REQ_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return set_err_req_trigger(q, h->index, h->start,
						   h->count, h->flags, data);
		break;
	}
	return -ENOTTY;
}

static void count_switch(struct sim_irqs *q, unsigned int before)
{
	struct vfio_sim_stats *st = q->stats;

	if (before == q->type)
		return;
	if (before == VFIO_PCI_MSIX_IRQ_INDEX)
		st->msix_disables++;
	else if (before == VFIO_PCI_MSI_IRQ_INDEX)
		st->msi_disables++;
	else if (before == VFIO_PCI_INTX_IRQ_INDEX)
		st->intx_disables++;
	if (q->type == VFIO_PCI_MSIX_IRQ_INDEX)
		st->msix_enables++;
	else if (q->type == VFIO_PCI_MSI_IRQ_INDEX)
		st->msi_enables++;
	else if (q->type == VFIO_PCI_INTX_IRQ_INDEX)
		st->intx_enables++;
}

int sim_irqs_set(struct sim_irqs *q, struct vfio_irq_set *hdr)
{
	unsigned int before = q->type;
	int ret;

	ret = validate(q, hdr);
	if (ret)
		return ret;
	ret = set_irqs(q, hdr);
	count_switch(q, before);
	return ret;
}

void sim_irqs_release(struct sim_irqs *q)
{
	if (q->type == VFIO_PCI_INTX_IRQ_INDEX)
		intx_disable(q);
	else if (q->type == VFIO_PCI_MSI_IRQ_INDEX)
		msi_disable(q, false);
	else if (q->type == VFIO_PCI_MSIX_IRQ_INDEX)
		msi_disable(q, true);
	sim_trigger_put(&q->err);
	sim_trigger_put(&q->req);
}

/* An MSI/MSI-X message from the device. */
static int raise_msi(struct sim_irqs *q, struct sim_vec *v)
{
	if (v->allocated && trigger_set(&v->trig)) {
		v->hw_irqs++;
		trigger_signal(&v->trig);
		q->stats->deliveries++;
		return VFIO_SIM_DELIVERED;
	}
	/* masked by the host kernel: the PBA latches it */
	v->pending = true;
	return VFIO_SIM_PENDING;
}

int sim_irqs_raise(struct sim_irqs *q, unsigned int vector)
{
	if (vector >= q->msix_count)
		return -EINVAL;
	switch (q->type) {
	case VFIO_PCI_MSIX_IRQ_INDEX:
		return raise_msi(q, &q->msix[vector]);
	case VFIO_PCI_MSI_IRQ_INDEX:
		/* one message when the device has one */
		return raise_msi(q, &q->msi[vector < q->msi_count ?
					    vector : 0]);
	case VFIO_PCI_INTX_IRQ_INDEX:
		if (q->intx_masked) {
			q->intx_pending = true;
			return VFIO_SIM_PENDING;
		}
		q->intx_masked = true;	/* vfio_intx_handler() automask */
		if (trigger_signal(&q->intx)) {
			q->stats->deliveries++;
			return VFIO_SIM_DELIVERED;
		}
		break;
	}
	q->stats->dropped++;
	return VFIO_SIM_DROPPED;
}

int sim_irqs_request(struct sim_irqs *q)
{
	if (!trigger_signal(&q->req))
		return -ENOENT;
	return 0;
}

void sim_irqs_destroy(struct sim_irqs *q)
{
	if (!q->msix)
		return;
	pthread_mutex_lock(q->lock);
	sim_irqs_release(q);
	pthread_mutex_unlock(q->lock);
	sim_irqs_reap(q);
	free(q->msix);
	q->msix = NULL;
}
