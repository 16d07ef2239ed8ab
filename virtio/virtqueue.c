// SPDX-License-Identifier: GPL-2.0
/*
 * Split virtqueues, device side (virtio 1.2, 2.7).  Layout of the areas:
 *
 *   descriptor table  16 bytes x size: le64 addr, le32 len, le16 flags,
 *                     le16 next (2.7.5)
 *   available ring    le16 flags, le16 idx, le16 ring[size],
 *                     le16 used_event (2.7.6)
 *   used ring         le16 flags, le16 idx, {le32 id, le32 len}[size],
 *                     le16 avail_event (2.7.8)
 *
 * Descriptors are copied out of guest memory once, then checked, so a
 * driver rewriting them concurrently cannot change what was validated.
 */
#include <endian.h>
#include <stdarg.h>
#include <stdio.h>

#include "core/util.h"
#include "virtio/virtqueue.h"

#define AVAIL_FLAGS	0
#define AVAIL_IDX	2
#define AVAIL_RING	4
#define USED_FLAGS	0
#define USED_IDX	2
#define USED_RING	4

/*
 * The index and flag fields are naturally aligned (virtq_init checks
 * the area alignment), so they are read and written as single 16-bit
 * accesses: the driver never sees a torn index.
 */
static uint16_t load16(const uint8_t *p, int order)
{
	return le16toh(__atomic_load_n((const uint16_t *)(const void *)p,
				       order));
}

static void store16(uint8_t *p, uint16_t v, int order)
{
	__atomic_store_n((uint16_t *)(void *)p, htole16(v), order);
}

static uint8_t *avail_event(struct virtq *vq)
{
	return vq->used + USED_RING + VIRTQ_USED_ELEM_SIZE * vq->size;
}

static const uint8_t *used_event(struct virtq *vq)
{
	return vq->avail + AVAIL_RING + 2 * vq->size;
}

int virtq_init(struct virtq *vq, const struct guest_mem *mem, uint16_t size,
	       uint64_t desc, uint64_t avail, uint64_t used,
	       uint64_t features)
{
	virtq_reset(vq);
	vq->mem = mem;
	/* 2.7: split queue sizes are powers of two (max 32768). */
	if (!size || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return -EINVAL;
	/* 2.7, table "Virtqueue Part Alignment": 16, 2 and 4 bytes. */
	if (!IS_ALIGNED(desc, 16) || !IS_ALIGNED(avail, 2) ||
	    !IS_ALIGNED(used, 4))
		return -EINVAL;
	vq->desc = gpa_to_hva(mem, desc, virtq_desc_bytes(size));
	vq->avail = gpa_to_hva(mem, avail, virtq_avail_bytes(size));
	vq->used = gpa_to_hva(mem, used, virtq_used_bytes(size));
	if (!vq->desc || !vq->avail || !vq->used) {
		vq->desc = vq->avail = vq->used = NULL;
		return -EFAULT;
	}
	vq->size = size;
	vq->event_idx = features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	/* The used ring starts as the driver initialised it (2.7.8: idx 0). */
	vq->used_idx = load16(vq->used + USED_IDX, __ATOMIC_ACQUIRE);
	vq->last_avail = 0;
	vq->signalled_used = vq->used_idx;
	vq->notify_enabled = true;
	return 0;
}

void virtq_reset(struct virtq *vq)
{
	virtq_error_fn fn = vq->error;
	void *opaque = vq->error_opaque;
	unsigned int index = vq->index;
	const char *name = vq->name;

	memset(vq, 0, sizeof(*vq));
	vq->error = fn;
	vq->error_opaque = opaque;
	vq->index = index;
	vq->name = name;
}

void virtq_set_error_handler(struct virtq *vq, virtq_error_fn fn,
			     void *opaque)
{
	vq->error = fn;
	vq->error_opaque = opaque;
}

/* The driver broke the ring's rules: stop using the queue for good. */
static int __printf(2, 3) virtq_fail(struct virtq *vq, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	if (vq->broken)
		return -EIO;
	vq->broken = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_warn_ratelimited("%s: queue %u: %s; device needs reset",
			    vq->name ? vq->name : "virtio", vq->index, msg);
	if (vq->error)
		vq->error(vq, vq->error_opaque);
	return -EIO;
}

unsigned int virtq_pending(struct virtq *vq)
{
	uint16_t n;

	if (!vq->size || vq->broken)
		return 0;
	n = (uint16_t)(load16(vq->avail + AVAIL_IDX, __ATOMIC_ACQUIRE) -
		       vq->last_avail);
	return n <= vq->size ? n : 0;
}

struct chain_walk {
	const uint8_t *table;	/* the table being walked */
	unsigned int max;	/* its number of entries */
	unsigned int count;	/* descriptors visited in it */
	bool indirect;
};

static int add_buffer(struct virtq *vq, struct virtq_elem *e, uint64_t addr,
		      uint32_t len, bool writable)
{
	struct iovec *iov;
	void *hva;

	if (!len)
		return 0;
	hva = gpa_to_hva(vq->mem, addr, len);
	if (!hva)
		return virtq_fail(vq, "descriptor %#llx+%u is outside guest RAM",
				  (unsigned long long)addr, len);
	/* 2.7.4.2: device-writable descriptors come after readable ones. */
	if (!writable && e->nr_in)
		return virtq_fail(vq, "device-readable descriptor after a writable one");
	if (e->nr_out + e->nr_in == VIRTQ_MAX_IOV)
		return virtq_fail(vq, "chain has more than %u buffers",
				  VIRTQ_MAX_IOV);
	iov = &e->iov[e->nr_out + e->nr_in];
	iov->iov_base = hva;
	iov->iov_len = len;
	if (writable) {
		e->nr_in++;
		e->in_len += len;
	} else {
		e->nr_out++;
		e->out_len += len;
	}
	return 0;
}

/* 2.7.5.3: switch the walk to an indirect table. */
static int enter_indirect(struct virtq *vq, struct chain_walk *w,
			  uint64_t addr, uint32_t len, uint16_t flags)
{
	if (!vq->indirect)
		return virtq_fail(vq, "indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC");
	/* 2.7.5.3.1: no INDIRECT inside an indirect table, no NEXT with it. */
	if (w->indirect)
		return virtq_fail(vq, "indirect table inside an indirect table");
	if (flags & VIRTQ_DESC_F_NEXT)
		return virtq_fail(vq, "indirect descriptor with VIRTQ_DESC_F_NEXT");
	if (!len || len % VIRTQ_DESC_SIZE ||
	    len / VIRTQ_DESC_SIZE > VIRTQ_MAX_IOV)
		return virtq_fail(vq, "indirect table of %u bytes", len);
	w->table = gpa_to_hva(vq->mem, addr, len);
	if (!w->table)
		return virtq_fail(vq, "indirect table %#llx+%u is outside guest RAM",
				  (unsigned long long)addr, len);
	w->max = len / VIRTQ_DESC_SIZE;
	w->count = 0;
	w->indirect = true;
	return 0;
}

static int walk_chain(struct virtq *vq, struct virtq_elem *e, uint16_t head)
{
	struct chain_walk w = { .table = vq->desc, .max = vq->size };
	unsigned int idx = head;
	uint8_t d[VIRTQ_DESC_SIZE];
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
	int err;

	for (;;) {
		memcpy(d, w.table + (size_t)idx * VIRTQ_DESC_SIZE, sizeof(d));
		addr = get_le64(d);
		len = get_le32(d + 8);
		flags = get_le16(d + 12);
		next = get_le16(d + 14);
		/* 2.7.5.2: a chain is never longer than its table: a loop. */
		if (++w.count > w.max)
			return virtq_fail(vq, "descriptor chain longer than %u (a loop?)",
					  w.max);
		if (flags & VIRTQ_DESC_F_INDIRECT) {
			err = enter_indirect(vq, &w, addr, len, flags);
			if (err)
				return err;
			idx = 0;
			continue;
		}
		err = add_buffer(vq, e, addr, len, flags & VIRTQ_DESC_F_WRITE);
		if (err)
			return err;
		if (!(flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (next >= w.max)
			return virtq_fail(vq, "descriptor next %u beyond a table of %u",
					  next, w.max);
		idx = next;
	}
}

int virtq_pop(struct virtq *vq, struct virtq_elem *e)
{
	uint16_t avail_idx, n, head;
	int err;

	if (vq->broken)
		return -EIO;
	if (!vq->size)
		return 0;
	/* Acquire: the ring entries are read after the index (2.7.13.3). */
	avail_idx = load16(vq->avail + AVAIL_IDX, __ATOMIC_ACQUIRE);
	n = (uint16_t)(avail_idx - vq->last_avail);
	if (n > vq->size)
		return virtq_fail(vq, "avail index moved from %u to %u (queue size %u)",
				  vq->last_avail, avail_idx, vq->size);
	if (!n)
		return 0;
	head = get_le16(vq->avail + AVAIL_RING +
			2 * (vq->last_avail & (vq->size - 1)));
	if (head >= vq->size)
		return virtq_fail(vq, "avail ring head %u beyond queue size %u",
				  head, vq->size);
	e->head = head;
	e->nr_out = e->nr_in = 0;
	e->out_len = e->in_len = 0;
	err = walk_chain(vq, e, head);
	if (err)
		return err;
	vq->last_avail++;
	return 1;
}

void virtq_unpop(struct virtq *vq)
{
	vq->last_avail--;
}

void virtq_push_batch(struct virtq *vq, const uint16_t *heads,
		      const uint32_t *lens, unsigned int n)
{
	unsigned int i;
	uint8_t *el;

	if (!vq->size || vq->broken)
		return;
	for (i = 0; i < n; i++) {
		el = vq->used + USED_RING + VIRTQ_USED_ELEM_SIZE *
		     ((uint16_t)(vq->used_idx + i) & (vq->size - 1));
		put_le32(el, heads[i]);
		put_le32(el + 4, lens[i]);
	}
	vq->used_idx = (uint16_t)(vq->used_idx + n);
	/* Release: the elements are visible before the index (2.7.8.2). */
	store16(vq->used + USED_IDX, vq->used_idx, __ATOMIC_RELEASE);
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	virtq_push_batch(vq, &head, &len, 1);
}

void virtq_disable_notify(struct virtq *vq)
{
	if (!vq->size || vq->broken)
		return;
	vq->notify_enabled = false;
	/* With EVENT_IDX the stale avail_event already suppresses kicks. */
	if (!vq->event_idx)
		store16(vq->used + USED_FLAGS, VIRTQ_USED_F_NO_NOTIFY,
			__ATOMIC_RELAXED);
}

bool virtq_enable_notify(struct virtq *vq)
{
	if (!vq->size || vq->broken)
		return false;
	vq->notify_enabled = true;
	if (vq->event_idx)
		store16(avail_event(vq), vq->last_avail, __ATOMIC_RELAXED);
	else
		store16(vq->used + USED_FLAGS, 0, __ATOMIC_RELAXED);
	/*
	 * Full barrier: publish the request before re-reading avail->idx,
	 * or a buffer added in between would get neither a kick nor a look.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16(vq->avail + AVAIL_IDX, __ATOMIC_ACQUIRE) !=
	       vq->last_avail;
}

bool virtq_notify_on_new(struct virtq *vq)
{
	uint16_t seen;

	if (!vq->size || vq->broken)
		return false;
	seen = load16(vq->avail + AVAIL_IDX, __ATOMIC_ACQUIRE);
	virtq_enable_notify(vq);
	if (vq->event_idx)
		store16(avail_event(vq), seen, __ATOMIC_RELAXED);
	/* Publish the request before looking at avail->idx again. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16(vq->avail + AVAIL_IDX, __ATOMIC_ACQUIRE) != seen;
}

bool virtq_should_notify(struct virtq *vq)
{
	uint16_t old = vq->signalled_used, new_idx = vq->used_idx;

	if (!vq->size || vq->broken || old == new_idx)
		return false;
	vq->signalled_used = new_idx;
	/* The used index is published before we read the driver's wish. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->event_idx)	/* 2.7.7.2 / 2.7.10 */
		return virtq_need_event(load16(used_event(vq),
					       __ATOMIC_RELAXED),
					new_idx, old);
	return !(load16(vq->avail + AVAIL_FLAGS, __ATOMIC_RELAXED) &
		 VIRTQ_AVAIL_F_NO_INTERRUPT);
}

static size_t elem_copy(const struct iovec *iov, unsigned int cnt,
			size_t off, void *buf, size_t len, bool to_iov)
{
	size_t done = 0;
	unsigned int i;

	for (i = 0; i < cnt && done < len; i++) {
		size_t n;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		n = MIN(iov[i].iov_len - off, len - done);
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + off,
			       (uint8_t *)buf + done, n);
		else
			memcpy((uint8_t *)buf + done,
			       (uint8_t *)iov[i].iov_base + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t virtq_elem_read(const struct virtq_elem *e, size_t off, void *buf,
		       size_t len)
{
	return elem_copy(e->iov, e->nr_out, off, buf, len, false);
}

size_t virtq_elem_write(const struct virtq_elem *e, size_t off,
			const void *buf, size_t len)
{
	return elem_copy(e->iov + e->nr_out, e->nr_in, off, (void *)buf, len,
			 true);
}
