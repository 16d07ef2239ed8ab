// SPDX-License-Identifier: GPL-2.0
/*
 * Split virtqueues (virtio/virtqueue.c) driven by tests/lib/guest_virtq
 * as the guest driver: normal and indirect chains, notification
 * suppression both ways with and without EVENT_IDX, and every malformed
 * ring that must break the queue (NEEDS_RESET) without the device
 * touching memory outside guest RAM.
 */
#include "tap.h"
#include "lib/guest_virtq.h"
#include "x86/layout.h"
#include "core/util.h"

#define QBASE		0x100000ULL
#define QLEN		0x100000ULL
#define QSIZE		16
#define RAM		(64ULL << 20)
#define ALL_F		(1ULL << VIRTIO_RING_F_EVENT_IDX | \
			 1ULL << VIRTIO_RING_F_INDIRECT_DESC)

static struct guest_mem mem;
static unsigned int errors;

static void on_error(struct virtq *vq, void *opaque)
{
	errors++;
}

static void setup(struct gvq *g, struct virtq *vq, uint64_t features)
{
	gvq_init(g, &mem, QBASE, QLEN, QSIZE,
		 features & (1ULL << VIRTIO_RING_F_EVENT_IDX));
	memset(vq, 0, sizeof(*vq));
	virtq_set_error_handler(vq, on_error, NULL);
	vq->name = "test";
	if (virtq_init(vq, &mem, QSIZE, g->desc, g->avail, g->used, features))
		abort();
	errors = 0;
}

static void test_init_checks(void)
{
	struct virtq vq = { 0 };

	is_int(virtq_init(&vq, &mem, 3, QBASE, QBASE + 0x1000, QBASE + 0x2000,
			  0), -EINVAL, "queue size 3 refused");
	is_int(virtq_init(&vq, &mem, 2048, QBASE, QBASE + 0x8000,
			  QBASE + 0x10000, 0), -EINVAL, "queue size above max refused");
	is_int(virtq_init(&vq, &mem, 16, QBASE + 8, QBASE + 0x1000,
			  QBASE + 0x2000, 0), -EINVAL, "misaligned descriptor table");
	is_int(virtq_init(&vq, &mem, 16, QBASE, QBASE + 0x1001,
			  QBASE + 0x2000, 0), -EINVAL, "misaligned avail ring");
	is_int(virtq_init(&vq, &mem, 16, QBASE, QBASE + 0x1000,
			  QBASE + 0x2002, 0), -EINVAL, "misaligned used ring");
	is_int(virtq_init(&vq, &mem, 16, QBASE, QBASE + 0x1000,
			  RAM - 64, 0), -EFAULT, "used ring running off RAM");
	is_int(virtq_init(&vq, &mem, 16, MMIO_HOLE_START, QBASE + 0x1000,
			  QBASE + 0x2000, 0), -EFAULT, "descriptor table in the MMIO hole");
	is_int(virtq_pop(&vq, NULL), 0, "a queue that failed init is empty");
}

static void test_chains(void)
{
	static struct virtq_elem e;
	struct virtq vq;
	struct gvq g;
	uint64_t a, b, c;
	uint8_t out[8] = "abcdefg", buf[16];
	uint32_t id, len;
	int head;

	setup(&g, &vq, ALL_F);
	is_int(virtq_pop(&vq, &e), 0, "empty ring: nothing to pop");
	a = gvq_alloc(&g, 3);
	b = gvq_alloc(&g, 5);
	c = gvq_alloc(&g, 100);
	memcpy(gvq_ptr(&g, a, 3), out, 3);
	memcpy(gvq_ptr(&g, b, 5), out + 3, 5);
	head = gvq_add(&g, (struct gvq_buf[]){ { a, 3, false }, { b, 5, false },
					       { c, 100, true } }, 3);
	gvq_publish(&g);
	is_int(virtq_pending(&vq), 1, "one chain pending");
	is_int(virtq_pop(&vq, &e), 1, "pop a 3-descriptor chain");
	ok(e.head == head && e.nr_out == 2 && e.nr_in == 1 &&
	   e.out_len == 8 && e.in_len == 100, "2 readable (8 bytes), 1 writable (100)");
	ok(e.iov[0].iov_base == gvq_ptr(&g, a, 3) &&
	   e.iov[2].iov_base == gvq_ptr(&g, c, 100), "iovecs point into guest RAM");
	is_int(virtq_elem_read(&e, 1, buf, 16), 7, "read across the readable part");
	ok(!memcmp(buf, "bcdefg", 7), "...bytes in order");
	is_int(virtq_elem_write(&e, 98, "xyz", 3), 2, "write clipped to the writable part");
	virtq_push(&vq, e.head, 42);
	ok(gvq_get_used(&g, &id, &len) && id == (uint32_t)head && len == 42,
	   "used element carries head and length");
	is_int(virtq_pop(&vq, &e), 0, "ring empty again");

	/* Indirect. */
	head = gvq_add_indirect(&g, (struct gvq_buf[]){ { a, 3, false },
							{ b, 5, true },
							{ c, 7, true } }, 3);
	gvq_publish(&g);
	is_int(virtq_pop(&vq, &e), 1, "pop an indirect chain");
	ok(e.head == head && e.nr_out == 1 && e.nr_in == 2 && e.in_len == 12,
	   "indirect: 1 readable, 2 writable");
	virtq_push(&vq, e.head, 0);

	/* Direct descriptors followed by an indirect one (2.7.5.3.2). */
	{
		uint64_t t = gvq_alloc(&g, 32);
		uint8_t *tp = gvq_ptr(&g, t, 32);

		put_le64(tp, b);
		put_le32(tp + 8, 5);
		put_le16(tp + 12, VIRTQ_DESC_F_NEXT);
		put_le16(tp + 14, 1);
		put_le64(tp + 16, c);
		put_le32(tp + 24, 9);
		put_le16(tp + 28, VIRTQ_DESC_F_WRITE);
		gvq_write_desc(&g, 10, a, 3, VIRTQ_DESC_F_NEXT, 11);
		gvq_write_desc(&g, 11, t, 32, VIRTQ_DESC_F_INDIRECT, 0);
		gvq_put_head(&g, 10);
		gvq_publish(&g);
		is_int(virtq_pop(&vq, &e), 1, "direct + indirect chain");
		ok(e.nr_out == 2 && e.nr_in == 1 && e.out_len == 8,
		   "...3 buffers from both tables");
	}
	/* Zero-length descriptors carry no buffer. */
	gvq_write_desc(&g, 12, 0xdead0000000ULL, 0, 0, 0);
	gvq_put_head(&g, 12);
	gvq_publish(&g);
	ok(virtq_pop(&vq, &e) == 1 && e.nr_out + e.nr_in == 0 && !errors,
	   "zero-length descriptor: no iovec, no error");
}

static void test_used_suppression(void)
{
	struct virtq vq;
	struct gvq g;
	int i;

	/* Without EVENT_IDX: VIRTQ_AVAIL_F_NO_INTERRUPT (2.7.7). */
	setup(&g, &vq, 0);
	ok(!virtq_should_notify(&vq), "nothing used: no interrupt");
	virtq_push(&vq, 0, 0);
	ok(virtq_should_notify(&vq), "used buffer: interrupt");
	ok(!virtq_should_notify(&vq), "nothing new since: no interrupt");
	gvq_set_avail_flags(&g, VIRTQ_AVAIL_F_NO_INTERRUPT);
	virtq_push(&vq, 0, 0);
	ok(!virtq_should_notify(&vq), "NO_INTERRUPT: suppressed");
	gvq_set_avail_flags(&g, 0);
	virtq_push(&vq, 0, 0);
	ok(virtq_should_notify(&vq), "flag cleared: interrupt again");

	/* EVENT_IDX: used_event (2.7.10). */
	setup(&g, &vq, ALL_F);
	gvq_set_used_event(&g, 3);
	virtq_push(&vq, 0, 0);
	ok(!virtq_should_notify(&vq), "used_event 3, used idx 1: suppressed");
	for (i = 0; i < 2; i++)
		virtq_push(&vq, 0, 0);
	ok(!virtq_should_notify(&vq), "used idx 3: still suppressed");
	virtq_push(&vq, 0, 0);
	ok(virtq_should_notify(&vq), "used idx crosses used_event: interrupt");
	virtq_push(&vq, 0, 0);
	ok(!virtq_should_notify(&vq), "past used_event without a new one: none");
	gvq_set_used_event(&g, 5);
	virtq_push(&vq, 0, 0);
	ok(virtq_should_notify(&vq), "driver moved used_event: interrupt");
	gvq_set_avail_flags(&g, VIRTQ_AVAIL_F_NO_INTERRUPT);
	gvq_set_used_event(&g, 6);
	virtq_push(&vq, 0, 0);
	ok(virtq_should_notify(&vq), "EVENT_IDX: the flag is ignored");
}

static void test_avail_suppression(void)
{
	static struct virtq_elem e;
	struct gvq_buf buf = { 0 };
	struct virtq vq;
	struct gvq g;

	setup(&g, &vq, 0);
	buf.gpa = gvq_alloc(&g, 16);
	buf.len = 16;
	gvq_add(&g, &buf, 1);
	ok(gvq_publish(&g), "no suppression: kick");
	virtq_disable_notify(&vq);
	gvq_add(&g, &buf, 1);
	ok(!gvq_publish(&g), "VIRTQ_USED_F_NO_NOTIFY: no kick");
	while (virtq_pop(&vq, &e) > 0)
		virtq_push(&vq, e.head, 0);
	ok(!virtq_enable_notify(&vq), "drained: enable reports nothing new");
	gvq_add(&g, &buf, 1);
	ok(gvq_publish(&g), "notifications re-enabled: kick");
	ok(virtq_enable_notify(&vq), "enable with a buffer pending: drain again");

	setup(&g, &vq, ALL_F);
	gvq_add(&g, &buf, 1);
	ok(gvq_publish(&g), "EVENT_IDX: first buffer kicks (avail_event 0)");
	virtq_disable_notify(&vq);
	is_int(virtq_pop(&vq, &e), 1, "device pops it");
	virtq_push(&vq, e.head, 0);
	gvq_add(&g, &buf, 1);
	ok(!gvq_publish(&g), "device busy (avail_event stale): no kick");
	while (virtq_pop(&vq, &e) > 0)
		virtq_push(&vq, e.head, 0);
	ok(!virtq_enable_notify(&vq), "drained");
	is_int(gvq_avail_event(&g), 2, "avail_event = next index to consume");
	gvq_add(&g, &buf, 1);
	gvq_add(&g, &buf, 1);
	ok(gvq_publish(&g), "two buffers crossing avail_event: one kick");
	gvq_add(&g, &buf, 1);
	ok(!gvq_publish(&g), "a third before the device looked: no kick");
}

/* One malformed ring: pop must fail, break the queue, report once. */
static void expect_broken(struct gvq *g, struct virtq *vq, const char *what)
{
	static struct virtq_elem e;

	gvq_publish(g);
	ok(virtq_pop(vq, &e) == -EIO && vq->broken && errors == 1,
	   "%s: queue broken, error reported", what);
	ok(virtq_pop(vq, &e) == -EIO && errors == 1 &&
	   virtq_pending(vq) == 0, "%s: stays broken, reported once", what);
}

static void test_malformed(void)
{
	struct virtq vq;
	struct gvq g;
	uint64_t t, a;
	uint8_t *tp;
	int i;

	setup(&g, &vq, ALL_F);
	gvq_write_desc(&g, 0, RAM - 8, 16, 0, 0);
	gvq_put_head(&g, 0);
	expect_broken(&g, &vq, "buffer running off the end of RAM");

	setup(&g, &vq, ALL_F);
	gvq_write_desc(&g, 0, MMIO_HOLE_START + 0x1000, 64, VIRTQ_DESC_F_WRITE, 0);
	gvq_put_head(&g, 0);
	expect_broken(&g, &vq, "writable buffer in the MMIO hole");

	setup(&g, &vq, ALL_F);
	gvq_write_desc(&g, 0, ~0ULL - 4, 16, 0, 0);
	gvq_put_head(&g, 0);
	expect_broken(&g, &vq, "buffer address wrapping around");

	setup(&g, &vq, ALL_F);
	a = gvq_alloc(&g, 16);
	gvq_write_desc(&g, 0, a, 16, VIRTQ_DESC_F_NEXT, 1);
	gvq_write_desc(&g, 1, a, 16, VIRTQ_DESC_F_NEXT, 0);
	gvq_put_head(&g, 0);
	expect_broken(&g, &vq, "loop 0 -> 1 -> 0");

	setup(&g, &vq, ALL_F);
	gvq_write_desc(&g, 5, a, 16, VIRTQ_DESC_F_NEXT, 5);
	gvq_put_head(&g, 5);
	expect_broken(&g, &vq, "self loop");

	setup(&g, &vq, ALL_F);
	for (i = 0; i < QSIZE; i++)
		gvq_write_desc(&g, (uint16_t)i, a, 16, VIRTQ_DESC_F_NEXT,
			       (uint16_t)((i + 1) % QSIZE));
	gvq_put_head(&g, 0);
	expect_broken(&g, &vq, "chain longer than the queue size");

	setup(&g, &vq, ALL_F);
	gvq_write_desc(&g, 0, a, 16, VIRTQ_DESC_F_NEXT, QSIZE);
	gvq_put_head(&g, 0);
	expect_broken(&g, &vq, "next beyond the table");

	setup(&g, &vq, ALL_F);
	gvq_put_head(&g, QSIZE + 3);
	expect_broken(&g, &vq, "avail head beyond the queue size");

	setup(&g, &vq, ALL_F);
	gvq_set_avail_idx(&g, QSIZE + 1);
	expect_broken(&g, &vq, "avail index jumping by more than the queue size");

	setup(&g, &vq, ALL_F);
	gvq_write_desc(&g, 0, a, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	gvq_write_desc(&g, 1, a, 16, 0, 0);
	gvq_put_head(&g, 0);
	expect_broken(&g, &vq, "readable after writable");

	/* Indirect tables. */
	setup(&g, &vq, 1ULL << VIRTIO_RING_F_EVENT_IDX);
	t = gvq_alloc(&g, 32);
	gvq_write_desc(&g, 0, t, 32, VIRTQ_DESC_F_INDIRECT, 0);
	gvq_put_head(&g, 0);
	expect_broken(&g, &vq, "indirect without VIRTIO_RING_F_INDIRECT_DESC");

	setup(&g, &vq, ALL_F);
	t = gvq_alloc(&g, 64);
	tp = gvq_ptr(&g, t, 64);
	memset(tp, 0, 64);
	put_le64(tp, t);
	put_le32(tp + 8, 64);
	put_le16(tp + 12, VIRTQ_DESC_F_INDIRECT);
	gvq_write_desc(&g, 0, t, 64, VIRTQ_DESC_F_INDIRECT, 0);
	gvq_put_head(&g, 0);
	expect_broken(&g, &vq, "indirect table inside an indirect table");

	setup(&g, &vq, ALL_F);
	t = gvq_alloc(&g, 64);
	tp = gvq_ptr(&g, t, 64);
	for (i = 0; i < 4; i++) {
		put_le64(tp + 16 * i, a);
		put_le32(tp + 16 * i + 8, 16);
		put_le16(tp + 16 * i + 12, VIRTQ_DESC_F_NEXT);
		put_le16(tp + 16 * i + 14, (uint16_t)((i + 1) % 4));
	}
	gvq_write_desc(&g, 0, t, 64, VIRTQ_DESC_F_INDIRECT, 0);
	gvq_put_head(&g, 0);
	expect_broken(&g, &vq, "loop inside an indirect table");

	setup(&g, &vq, ALL_F);
	put_le16(tp + 14, 9);	/* entry 0: next beyond the 4-entry table */
	gvq_write_desc(&g, 0, t, 64, VIRTQ_DESC_F_INDIRECT, 0);
	gvq_put_head(&g, 0);
	expect_broken(&g, &vq, "indirect next beyond its table");

	setup(&g, &vq, ALL_F);
	gvq_write_desc(&g, 0, RAM - 32, 64, VIRTQ_DESC_F_INDIRECT, 0);
	gvq_put_head(&g, 0);
	expect_broken(&g, &vq, "indirect table running off RAM");

	setup(&g, &vq, ALL_F);
	gvq_write_desc(&g, 0, t, 24, VIRTQ_DESC_F_INDIRECT, 0);
	gvq_put_head(&g, 0);
	expect_broken(&g, &vq, "indirect table length not a multiple of 16");

	setup(&g, &vq, ALL_F);
	gvq_write_desc(&g, 0, t, 0, VIRTQ_DESC_F_INDIRECT, 0);
	gvq_put_head(&g, 0);
	expect_broken(&g, &vq, "empty indirect table");

	setup(&g, &vq, ALL_F);
	gvq_write_desc(&g, 0, t, 64, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	gvq_put_head(&g, 0);
	expect_broken(&g, &vq, "indirect descriptor with NEXT");

	/* A broken queue publishes nothing more. */
	virtq_push(&vq, 0, 1);
	is_int(gvq_used_idx(&g), 0, "broken queue: push is a no-op");
	ok(!virtq_should_notify(&vq) && !virtq_enable_notify(&vq),
	   "broken queue: no interrupts, no notifications");
	virtq_reset(&vq);
	ok(!vq.broken && vq.error == on_error, "reset clears broken, keeps the handler");
}

int main(void)
{
	if (guest_mem_init(&mem, RAM))
		tap_skip_all("cannot allocate guest RAM");
	log_quiet = true;
	test_init_checks();
	test_chains();
	test_used_suppression();
	test_avail_suppression();
	test_malformed();
	guest_mem_destroy(&mem);
	return tap_done();
}
