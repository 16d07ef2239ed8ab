/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PIO/MMIO dispatcher shared by all devices.  Each address space keeps a
 * sorted array of non-overlapping ranges; lookup is a binary search.
 * Registering a range that overlaps an existing one is refused.  Devices
 * meet the vCPU run loop only through this table.
 */
#ifndef MVM_IOBUS_H
#define MVM_IOBUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * `off` is relative to the registered base; `data` holds `len` bytes in
 * guest (little-endian) byte order.  A read handler must fill all `len`
 * bytes.  vcpu is the index of the vCPU doing the access (-1 if none).
 */
struct io_ops {
	void (*read)(void *opaque, uint64_t off, uint8_t *data,
		     unsigned int len);
	void (*write)(void *opaque, uint64_t off, const uint8_t *data,
		      unsigned int len);
};

struct io_range {
	uint64_t base;
	uint64_t len;
	const struct io_ops *ops;
	void *opaque;
	const char *name;
};

struct iobus {
	const char *name;		/* "pio" or "mmio", for messages */
	pthread_rwlock_t lock;
	struct io_range *ranges;	/* sorted by base */
	unsigned int nr;
	unsigned int cap;
};

void iobus_init(struct iobus *bus, const char *name);
void iobus_destroy(struct iobus *bus);
/* Returns 0, -EEXIST on overlap (and prints which device), -EINVAL, -ENOMEM. */
int iobus_register(struct iobus *bus, uint64_t base, uint64_t len,
		   const struct io_ops *ops, void *opaque, const char *name);
/* Remove the range starting at base owned by opaque; -ENOENT if none. */
int iobus_unregister(struct iobus *bus, uint64_t base, void *opaque);
/*
 * Dispatch an access.  Returns false if no device claims the address or
 * the access straddles the end of a range; reads of unclaimed addresses
 * are filled with 0xff (what a PC returns for a master abort).
 * Handlers run without the bus lock held and may (un)register ranges.
 */
bool iobus_access(struct iobus *bus, uint64_t addr, uint8_t *data,
		  unsigned int len, bool is_write);
/* Lookup without dispatch (for tests and debugging). */
const struct io_range *iobus_find(struct iobus *bus, uint64_t addr);

#endif
