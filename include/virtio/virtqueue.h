/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Split virtqueues, device side (virtio 1.2, 2.7): the descriptor table,
 * the driver area (available ring) and the device area (used ring) in
 * guest RAM.  Every guest access goes through gpa_to_hva(); the guest
 * cannot make the device read or write outside guest RAM.
 *
 * A virtqueue is used by one thread at a time (its device's I/O thread).
 * When the driver breaks a rule the device must be able to rely on (a
 * descriptor outside RAM, a loop, a chain longer than the queue, nested
 * indirect tables, an avail index running ahead by more than the queue
 * size...) the queue is marked broken, the `error` callback runs once
 * (the transport sets DEVICE_NEEDS_RESET, 2.1.2) and every later pop
 * returns -EIO without touching guest memory.
 */
#ifndef MVM_VIRTQUEUE_H
#define MVM_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/guest_mem.h"

/* 2.7.5: struct virtq_desc flags. */
#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4
/* 2.7.6 / 2.7.8: suppression flags. */
#define VIRTQ_AVAIL_F_NO_INTERRUPT	1
#define VIRTQ_USED_F_NO_NOTIFY		1

/* Ring feature bits (6: reserved feature bits). */
#define VIRTIO_RING_F_INDIRECT_DESC	28
#define VIRTIO_RING_F_EVENT_IDX		29

#define VIRTQ_DESC_SIZE		16
#define VIRTQ_USED_ELEM_SIZE	8
/* Largest queue mvm offers; also bounds the iovecs of one chain. */
#define VIRTQ_MAX_SIZE		1024
#define VIRTQ_MAX_IOV		VIRTQ_MAX_SIZE

/* 2.7: sizes of the three areas for a queue of `n` entries. */
static inline uint64_t virtq_desc_bytes(unsigned int n)
{
	return (uint64_t)VIRTQ_DESC_SIZE * n;
}

static inline uint64_t virtq_avail_bytes(unsigned int n)
{
	return 6 + 2ULL * n;	/* flags, idx, ring[n], used_event */
}

static inline uint64_t virtq_used_bytes(unsigned int n)
{
	return 6 + (uint64_t)VIRTQ_USED_ELEM_SIZE * n;	/* + avail_event */
}

/*
 * 2.7.10: "would the other side want a notification now that the index
 * moved from old to new, given the event index it published?"
 */
static inline bool virtq_need_event(uint16_t event, uint16_t new_idx,
				    uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

struct virtq;
typedef void (*virtq_error_fn)(struct virtq *vq, void *opaque);

struct virtq {
	const struct guest_mem *mem;
	uint16_t size;			/* 0: not set up */
	bool event_idx;			/* VIRTIO_RING_F_EVENT_IDX */
	bool indirect;			/* VIRTIO_RING_F_INDIRECT_DESC */
	bool broken;
	uint8_t *desc;			/* host views of the three areas */
	uint8_t *avail;
	uint8_t *used;
	uint16_t last_avail;		/* next avail entry to consume */
	uint16_t used_idx;		/* our copy of used->idx */
	uint16_t signalled_used;	/* used_idx at the last notify check */
	bool notify_enabled;
	virtq_error_fn error;
	void *error_opaque;
	unsigned int index;		/* for messages */
	const char *name;
};

/*
 * One popped chain: nr_out device-readable iovecs (iov[0..nr_out)),
 * then nr_in device-writable ones.  Zero-length descriptors are
 * skipped.  Large (16 KiB): keep one per in-flight request.
 */
struct virtq_elem {
	uint16_t head;
	unsigned int nr_out, nr_in;
	uint64_t out_len, in_len;	/* bytes in each part */
	struct iovec iov[VIRTQ_MAX_IOV];
};

/*
 * Map a queue of `size` entries (a power of two, 1..VIRTQ_MAX_SIZE) at the
 * given guest-physical addresses with the negotiated `features`.  Returns
 * -EINVAL for a bad size or misaligned area (2.7: 16, 2 and 4 bytes),
 * -EFAULT if an area is not entirely in guest RAM.
 */
int virtq_init(struct virtq *vq, const struct guest_mem *mem, uint16_t size,
	       uint64_t desc, uint64_t avail, uint64_t used,
	       uint64_t features);
/* Forget the rings (device reset). */
void virtq_reset(struct virtq *vq);
void virtq_set_error_handler(struct virtq *vq, virtq_error_fn fn,
			     void *opaque);

/* Number of available chains not popped yet (0 if broken or empty). */
unsigned int virtq_pending(struct virtq *vq);
/*
 * Take the next available chain.  Returns 1 with *e filled, 0 if the
 * ring is empty, -EIO if the queue is (or just became) broken.
 */
int virtq_pop(struct virtq *vq, struct virtq_elem *e);
/* Give a chain back to the avail ring unconsumed (e.g. no room yet). */
void virtq_unpop(struct virtq *vq);
/* Return chain `head` with `len` bytes written, and publish used->idx. */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t len);
/*
 * Return n chains with one used->idx update (2.7.8.2): with
 * VIRTIO_NET_F_MRG_RXBUF the driver takes num_buffers used elements as
 * soon as it sees the first (5.1.6.4), so all must become visible at once.
 */
void virtq_push_batch(struct virtq *vq, const uint16_t *heads,
		      const uint32_t *lens, unsigned int n);

/*
 * Driver notification suppression (2.7.7, 2.7.10).  disable: the driver
 * need not notify while we are draining the ring; enable: ask for a
 * notification on the next buffer and return true if buffers arrived
 * meanwhile (drain again).  The usual device loop:
 *
 *	do {
 *		virtq_disable_notify(vq);
 *		while ((r = virtq_pop(vq, e)) > 0)
 *			... virtq_push(vq, e->head, written);
 *	} while (r == 0 && virtq_enable_notify(vq));
 */
void virtq_disable_notify(struct virtq *vq);
bool virtq_enable_notify(struct virtq *vq);
/*
 * Ask for a notification when the driver adds buffers beyond those it
 * has made available so far; true if it already did.  Unlike
 * virtq_enable_notify(), which asks at the next unconsumed entry, this is
 * for a device that leaves available buffers it cannot use yet (a frame
 * needing more mergeable buffers than are there): with EVENT_IDX,
 * avail_event must then be the driver's current avail->idx (2.7.10).
 */
bool virtq_notify_on_new(struct virtq *vq);
/*
 * Used buffer notification suppression (2.7.7.2, 2.7.10): should the
 * device interrupt the driver for what it pushed since the last call?
 */
bool virtq_should_notify(struct virtq *vq);

/* Copy between a chain's parts and a flat buffer; return bytes copied. */
size_t virtq_elem_read(const struct virtq_elem *e, size_t off, void *buf,
		       size_t len);
size_t virtq_elem_write(const struct virtq_elem *e, size_t off,
			const void *buf, size_t len);

#endif
