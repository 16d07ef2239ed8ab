// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-rng (virtio/rng.c) through the virtio-pci transport: writable
 * buffers come back full of random bytes, large ones capped, chains
 * without a writable part come back empty.
 */
#include "tap.h"
#include "lib/guest_virtq.h"
#include "core/util.h"
#include "virtio/virtio.h"

#define F_WANT		(1ULL << VIRTIO_F_VERSION_1 | \
			 1ULL << VIRTIO_RING_F_EVENT_IDX | \
			 1ULL << VIRTIO_RING_F_INDIRECT_DESC)

static struct fake_kvm kvm;

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static uint32_t request(struct vtest_dev *d, struct gvq *g,
			const struct gvq_buf *b, unsigned int n, bool indirect)
{
	uint32_t id, len = ~0U;

	if (indirect)
		gvq_add_indirect(g, b, n);
	else
		gvq_add(g, b, n);
	if (gvq_publish(g))
		vtest_notify(d, 0);
	if (!vtest_wait_used(g) || !gvq_get_used(g, &id, &len))
		return ~0U;
	return len;
}

int main(void)
{
	struct test_machine m;
	struct virtio_rng *rng;
	struct vtest_dev d;
	struct gvq g;
	uint64_t a, b, big;
	uint8_t *pa, *pb;

	fake_kvm_init(&kvm);
	log_quiet = true;
	if (test_machine_init(&m, &kvm, &(struct test_machine_opts){ .ioeventfd = true }) ||
	    virtio_rng_create(m.ctx, &rng))
		tap_skip_all("cannot build the test machine");
	is_int(vtest_find(&d, &m, VIRTIO_ID_RNG), 0, "virtio-rng found: 0x1044");
	is_int(d.cap_device, 0, "no device-specific configuration (5.4.4)");
	is_int(vtest_common_read(&d, VIRTIO_PCI_COMMON_NUMQ, 2), 1,
	       "one request queue (5.4.2)");
	ok(vtest_negotiate(&d, F_WANT), "features negotiated");
	gvq_init(&g, m.mem, 0x400000, 0x400000, 64, true);
	vtest_setup_queue(&d, 0, &g, VIRTIO_MSI_NO_VECTOR);
	vtest_driver_ok(&d);

	a = gvq_alloc(&g, 64);
	b = gvq_alloc(&g, 64);
	pa = gvq_ptr(&g, a, 64);
	pb = gvq_ptr(&g, b, 64);
	is_int(request(&d, &g, (struct gvq_buf[]){ { a, 64, true } }, 1, false),
	       64, "64-byte buffer filled");
	is_int(request(&d, &g, (struct gvq_buf[]){ { b, 64, true } }, 1, false),
	       64, "a second one");
	ok(!all_zero(pa, 64) && memcmp(pa, pb, 64), "random, and different");
	memset(pa, 0, 64);
	memset(pb, 0, 64);
	is_int(request(&d, &g, (struct gvq_buf[]){ { a, 7, true },
						   { b, 9, true } }, 2, true),
	       16, "indirect chain of two buffers: 16 bytes");
	ok(!all_zero(pa, 7) && !all_zero(pb, 9) && all_zero(pa + 7, 57),
	   "both parts filled, nothing beyond");
	is_int(request(&d, &g, (struct gvq_buf[]){ { a, 64, false } }, 1, false),
	       0, "readable-only chain: 0 bytes written");
	big = gvq_alloc(&g, 256 * 1024);
	is_int(request(&d, &g, (struct gvq_buf[]){ { big, 256 * 1024, true } },
		       1, false), 64 * 1024, "256 KiB buffer: capped at 64 KiB");
	virtio_rng_destroy(rng);
	test_machine_destroy(&m);
	fake_kvm_destroy(&kvm);
	return tap_done();
}
