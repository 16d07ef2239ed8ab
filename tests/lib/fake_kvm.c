// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "lib/fake_kvm.h"

void fake_kvm_init(struct fake_kvm *k)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
}

void fake_kvm_reset(struct fake_kvm *k)
{
	pthread_mutex_lock(&k->lock);
	k->nr_msgs = 0;
	k->nr_irqfds = 0;
	k->nr_routes = 0;
	k->commits = k->irqfd_calls = k->signal_msi_calls = 0;
	pthread_mutex_unlock(&k->lock);
}

void fake_kvm_destroy(struct fake_kvm *k)
{
	pthread_mutex_destroy(&k->lock);
}

static bool route_of(struct fake_kvm *k, int gsi, uint64_t *addr,
		     uint32_t *data)
{
	unsigned int i;

	for (i = 0; i < k->nr_routes; i++) {
		struct kvm_irq_routing_entry *e = &k->routes[i];

		if ((int)e->gsi == gsi && e->type == KVM_IRQ_ROUTING_MSI) {
			*addr = (uint64_t)e->u.msi.address_hi << 32 |
				e->u.msi.address_lo;
			*data = e->u.msi.data;
			return true;
		}
	}
	return false;
}

static void record(struct fake_kvm *k, uint64_t addr, uint32_t data,
		   bool irqfd)
{
	if (k->nr_msgs < FAKE_KVM_MAX_MSGS)
		k->msgs[k->nr_msgs++] = (struct fake_msg){ addr, data, irqfd };
}

/* Caller holds the lock. */
static bool inject_irqfd(struct fake_kvm *k, unsigned int i)
{
	uint64_t n, addr;
	uint32_t data;

	if (read(k->irqfds[i].fd, &n, sizeof(n)) != sizeof(n))
		return false;
	if (route_of(k, k->irqfds[i].gsi, &addr, &data))
		record(k, addr, data, true);
	return true;
}

static int fake_set_gsi_routing(void *opaque, const struct kvm_irq_routing *r)
{
	struct fake_kvm *k = opaque;
	int err = 0;

	pthread_mutex_lock(&k->lock);
	if (k->fail_commit > 0) {
		k->fail_commit--;
		err = -EINVAL;
	} else if (r->nr > FAKE_KVM_MAX_ROUTES) {
		err = -EINVAL;
	} else {
		memcpy(k->routes, r->entries, r->nr * sizeof(r->entries[0]));
		k->nr_routes = r->nr;
		k->commits++;
	}
	pthread_mutex_unlock(&k->lock);
	return err;
}

static int fake_irqfd(void *opaque, const struct kvm_irqfd *f)
{
	struct fake_kvm *k = opaque;
	unsigned int i;
	int err = 0;

	pthread_mutex_lock(&k->lock);
	k->irqfd_calls++;
	if (k->fail_irqfd > 0) {
		k->fail_irqfd--;
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < k->nr_irqfds; i++)
		if (k->irqfds[i].fd == (int)f->fd)
			break;
	if (f->flags & KVM_IRQFD_FLAG_DEASSIGN) {
		if (i == k->nr_irqfds) {
			err = -ENOENT;
			goto out;
		}
		k->irqfds[i] = k->irqfds[--k->nr_irqfds];
		goto out;
	}
	if (i < k->nr_irqfds) {
		err = -EBUSY;	/* KVM refuses the same eventfd twice */
		goto out;
	}
	if (k->nr_irqfds == FAKE_KVM_MAX_IRQFDS) {
		err = -ENOSPC;
		goto out;
	}
	k->irqfds[k->nr_irqfds].fd = (int)f->fd;
	k->irqfds[k->nr_irqfds].gsi = (int)f->gsi;
	k->irqfds[k->nr_irqfds].resample =
		f->flags & KVM_IRQFD_FLAG_RESAMPLE ? (int)f->resamplefd : -1;
	/* KVM injects an event that is already pending at assign time. */
	inject_irqfd(k, k->nr_irqfds++);
out:
	pthread_mutex_unlock(&k->lock);
	return err;
}

static int fake_signal_msi(void *opaque, const struct kvm_msi *m)
{
	struct fake_kvm *k = opaque;

	pthread_mutex_lock(&k->lock);
	k->signal_msi_calls++;
	record(k, (uint64_t)m->address_hi << 32 | m->address_lo, m->data,
	       false);
	pthread_mutex_unlock(&k->lock);
	return 0;
}

const struct kvm_irq_ops fake_kvm_ops = {
	.set_gsi_routing = fake_set_gsi_routing,
	.irqfd = fake_irqfd,
	.signal_msi = fake_signal_msi,
};

unsigned int fake_kvm_poll(struct fake_kvm *k)
{
	unsigned int i, n = 0;

	pthread_mutex_lock(&k->lock);
	for (i = 0; i < k->nr_irqfds; i++)
		n += inject_irqfd(k, i);
	pthread_mutex_unlock(&k->lock);
	return n;
}

bool fake_kvm_route(struct fake_kvm *k, int gsi, uint64_t *addr,
		    uint32_t *data)
{
	bool r;

	pthread_mutex_lock(&k->lock);
	r = route_of(k, gsi, addr, data);
	pthread_mutex_unlock(&k->lock);
	return r;
}

bool fake_kvm_irqfd_assigned(struct fake_kvm *k, int fd)
{
	unsigned int i;
	bool r = false;

	pthread_mutex_lock(&k->lock);
	for (i = 0; i < k->nr_irqfds; i++)
		r |= k->irqfds[i].fd == fd;
	pthread_mutex_unlock(&k->lock);
	return r;
}

unsigned int fake_kvm_count(struct fake_kvm *k, uint32_t data)
{
	unsigned int i, n = 0;

	pthread_mutex_lock(&k->lock);
	for (i = 0; i < k->nr_msgs; i++)
		n += k->msgs[i].data == data;
	pthread_mutex_unlock(&k->lock);
	return n;
}
