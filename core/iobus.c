// SPDX-License-Identifier: GPL-2.0
/* The PIO/MMIO dispatcher: sorted ranges, binary search, no overlaps. */
#include <stdlib.h>

#include "core/iobus.h"
#include "core/util.h"

void iobus_init(struct iobus *bus, const char *name)
{
	bus->name = name;
	bus->ranges = NULL;
	bus->nr = 0;
	bus->cap = 0;
	pthread_rwlock_init(&bus->lock, NULL);
}

void iobus_destroy(struct iobus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->nr = bus->cap = 0;
	pthread_rwlock_destroy(&bus->lock);
}

/* Index of the first range whose base is > addr. Caller holds the lock. */
static unsigned int upper_bound(const struct iobus *bus, uint64_t addr)
{
	unsigned int lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (bus->ranges[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct io_range *find_locked(const struct iobus *bus, uint64_t addr)
{
	unsigned int i = upper_bound(bus, addr);
	struct io_range *r;

	if (i == 0)
		return NULL;
	r = &bus->ranges[i - 1];
	return addr - r->base < r->len ? r : NULL;
}

int iobus_register(struct iobus *bus, uint64_t base, uint64_t len,
		   const struct io_ops *ops, void *opaque, const char *name)
{
	unsigned int i;
	int err = 0;

	if (!len || base + len - 1 < base || !ops) {
		pr_err("%s: cannot register %s at %#llx+%#llx: bad range",
		       bus->name, name, (unsigned long long)base,
		       (unsigned long long)len);
		return -EINVAL;
	}
	pthread_rwlock_wrlock(&bus->lock);
	i = upper_bound(bus, base);
	/* Overlap with the range before (it may extend past base)... */
	if (i > 0) {
		struct io_range *p = &bus->ranges[i - 1];

		if (base - p->base < p->len) {
			pr_err("%s: %s at %#llx+%#llx overlaps %s at %#llx+%#llx",
			       bus->name, name, (unsigned long long)base,
			       (unsigned long long)len, p->name,
			       (unsigned long long)p->base,
			       (unsigned long long)p->len);
			err = -EEXIST;
			goto out;
		}
	}
	/* ...or with the one after (it may start inside us). */
	if (i < bus->nr && bus->ranges[i].base - base < len) {
		struct io_range *n = &bus->ranges[i];

		pr_err("%s: %s at %#llx+%#llx overlaps %s at %#llx+%#llx",
		       bus->name, name, (unsigned long long)base,
		       (unsigned long long)len, n->name,
		       (unsigned long long)n->base, (unsigned long long)n->len);
		err = -EEXIST;
		goto out;
	}
	if (bus->nr == bus->cap) {
		unsigned int cap = bus->cap ? bus->cap * 2 : 16;
		struct io_range *r = realloc(bus->ranges, cap * sizeof(*r));

		if (!r) {
			err = -ENOMEM;
			goto out;
		}
		bus->ranges = r;
		bus->cap = cap;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i],
		(bus->nr - i) * sizeof(bus->ranges[0]));
	bus->ranges[i] = (struct io_range){
		.base = base, .len = len, .ops = ops, .opaque = opaque,
		.name = name,
	};
	bus->nr++;
out:
	pthread_rwlock_unlock(&bus->lock);
	return err;
}

int iobus_unregister(struct iobus *bus, uint64_t base, void *opaque)
{
	struct io_range *r;
	int err = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	r = find_locked(bus, base);
	if (r && r->base == base && r->opaque == opaque) {
		unsigned int i = (unsigned int)(r - bus->ranges);

		memmove(r, r + 1, (bus->nr - i - 1) * sizeof(*r));
		bus->nr--;
		err = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return err;
}

const struct io_range *iobus_find(struct iobus *bus, uint64_t addr)
{
	const struct io_range *r;

	pthread_rwlock_rdlock(&bus->lock);
	r = find_locked(bus, addr);
	pthread_rwlock_unlock(&bus->lock);
	return r;
}

bool iobus_access(struct iobus *bus, uint64_t addr, uint8_t *data,
		  unsigned int len, bool is_write)
{
	struct io_range *r, copy;
	bool found = false;

	/*
	 * Copy the range and call the handler outside the lock: a handler
	 * may itself (un)register ranges, e.g. a PCI config write that moves
	 * a BAR.  Device objects live as long as the VM, so a range removed
	 * meanwhile still points at a valid device.
	 */
	pthread_rwlock_rdlock(&bus->lock);
	r = find_locked(bus, addr);
	if (r && len <= r->len - (addr - r->base)) {
		copy = *r;
		found = true;
	}
	pthread_rwlock_unlock(&bus->lock);
	if (!found) {
		if (!is_write)
			memset(data, 0xff, len);
		return false;
	}
	if (is_write) {
		if (copy.ops->write)
			copy.ops->write(copy.opaque, addr - copy.base, data,
					len);
	} else if (copy.ops->read) {
		copy.ops->read(copy.opaque, addr - copy.base, data, len);
	} else {
		memset(data, 0, len);
	}
	return true;
}
