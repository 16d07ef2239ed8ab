// SPDX-License-Identifier: GPL-2.0
/*
 * A virtio-blk driver (virtio 1.2, 5.2) run by test_g_virtio_blk with one
 * `-d` disk, raw or qcow2, read-write or ",ro":
 *
 *  - find 1af4:1042, MSI-X on (queue 0 -> IDT vector 0x40, config: no
 *    vector), negotiate VERSION_1 | FLUSH, read capacity and blk_size;
 *  - T_OUT sectors 0-1 (two data descriptors) and the last sector with
 *    blk_pattern(); on a read-only disk the complement is written and
 *    IOERR is expected;
 *  - T_IN them back (one descriptor each) and compare with the pattern
 *    (a read-only disk was filled with it by the host); T_IN sector 2,
 *    never written: zeros;
 *  - T_OUT one sector past the end: IOERR; T_FLUSH: OK; T_GET_ID;
 *  - every completion must also have raised one MSI-X interrupt.
 *
 * Requests go one at a time; the used ring is polled (no exits).
 */
#include "guest.h"
#include "idt.h"
#include "smp.h"
#include "virtio.h"

#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9
#define BLK_CFG_CAPACITY	0
#define BLK_CFG_BLK_SIZE	20
#define T_IN			0
#define T_OUT			1
#define T_FLUSH			4
#define T_GET_ID		8
#define S_OK			0
#define S_IOERR			1
#define ID_BYTES		20
#define SECTOR			512

#define IRQ_VECTOR		0x40
#define QSIZE			16
#define TIMEOUT			40000000000ULL	/* TSC cycles, >= 10 s */

/* SYNC stages; test_g_virtio_blk.c asserts on them. */
enum {
	ST_FOUND = 1,	/* dev << 3 | fn */
	ST_FEATURES,	/* offered */
	ST_NEGOTIATED,
	ST_QVECTOR,	/* queue 0's MSI-X vector, read back */
	ST_CAPACITY,	/* sectors */
	ST_BLK_SIZE,
	/* Requests: status | used len << 8, each followed by its check. */
	ST_WRITE01,
	ST_WRITE_LAST,
	ST_READ01,
	ST_CMP01,	/* bytes of sectors 0-1 that differ from the pattern */
	ST_READ_LAST,
	ST_CMP_LAST,
	ST_READ2,
	ST_NONZERO2,	/* non-zero bytes in sector 2 */
	ST_WRITE_BEYOND,
	ST_FLUSH,
	ST_GET_ID,
	ST_ID,		/* first 8 bytes of the ID, little-endian */
	ST_IRQS,	/* interrupts << 32 | requests */
	ST_STATUS,	/* device status at the end */
};

/* Byte i of sector s; test_g_virtio_blk.c has the same function. */
static inline uint8_t blk_pattern(uint64_t s, unsigned int i)
{
	return (uint8_t)(s * 131 + i * 7 + (i >> 8) * 3 + 0x5a);
}

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static struct virtio_pci vp;
static struct vq q;
static struct blk_hdr hdr;
static uint8_t status;
static uint8_t wbuf[2 * SECTOR] __attribute__((aligned(512)));
static uint8_t lbuf[SECTOR] __attribute__((aligned(512)));
static uint8_t rbuf[2 * SECTOR] __attribute__((aligned(512)));
static char id[ID_BYTES];
static unsigned int requests;

/*
 * One request: header, data (nr_data buffers of `data`, each `each`
 * bytes, device-writable if `in`), status.  Waits for it to be used and
 * for its interrupt; returns status | used len << 8.
 */
static uint64_t request(uint32_t type, uint64_t sector, void *data,
			unsigned int nr_data, uint32_t each, bool in)
{
	struct vq_buf out[3], inb[3];
	unsigned int no = 0, ni = 0, i;
	uint32_t hits = idt_hits_read(IRQ_VECTOR), len = 0;
	uint64_t start;
	int head;

	hdr.type = type;
	hdr.reserved = 0;
	hdr.sector = sector;
	status = 0xee;
	out[no++] = (struct vq_buf){ &hdr, sizeof(hdr) };
	for (i = 0; i < nr_data; i++) {
		struct vq_buf b = { (uint8_t *)data + i * each, each };

		if (in)
			inb[ni++] = b;
		else
			out[no++] = b;
	}
	inb[ni++] = (struct vq_buf){ &status, 1 };
	head = vq_add(&q, out, no, inb, ni);
	GUEST_ASSERT(head >= 0);
	vq_kick(&vp, &q);
	GUEST_ASSERT_EQ(vq_wait(&q, &len, TIMEOUT), head);
	requests++;
	/* The interrupt follows the used index. */
	start = rdtsc();
	while (idt_hits_read(IRQ_VECTOR) == hits && rdtsc() - start < TIMEOUT)
		cpu_relax();
	return status | (uint64_t)len << 8;
}

static unsigned int pattern_diff(const uint8_t *buf, uint64_t sector,
				 unsigned int nr)
{
	unsigned int i, d = 0;

	for (i = 0; i < nr * SECTOR; i++)
		if (buf[i] != blk_pattern(sector + i / SECTOR, i % SECTOR))
			d++;
	return d;
}

static void fill(uint8_t *buf, uint64_t sector, unsigned int nr, uint8_t x)
{
	unsigned int i;

	for (i = 0; i < nr * SECTOR; i++)
		buf[i] = blk_pattern(sector + i / SECTOR, i % SECTOR) ^ x;
}

void guest_main(void *bp)
{
	uint64_t cap, last, r, v = 0;
	unsigned int i, nz = 0;
	uint8_t exp, x;
	bool ro;
	int err;

	err = virtio_pci_find(VIRTIO_ID_BLOCK, &vp);
	GUEST_ASSERT_EQ(err, 0);
	GUEST_SYNC(ST_FOUND, vp.dev << 3 | vp.fn);

	idt_init();
	lapic_enable();
	irq_enable();
	GUEST_ASSERT_EQ(virtio_msix_enable(&vp, IRQ_VECTOR), 0);

	err = virtio_start(&vp, 1ULL << VIRTIO_BLK_F_FLUSH |
				1ULL << VIRTIO_BLK_F_BLK_SIZE);
	GUEST_SYNC(ST_FEATURES, vp.features);
	GUEST_ASSERT_EQ(err, 0);
	GUEST_SYNC(ST_NEGOTIATED, vp.negotiated);
	ro = vp.features & (1ULL << VIRTIO_BLK_F_RO);
	x = ro ? 0xff : 0;
	exp = ro ? S_IOERR : S_OK;

	GUEST_ASSERT_EQ(virtio_set_config_vector(&vp, VIRTIO_MSI_NO_VECTOR),
			VIRTIO_MSI_NO_VECTOR);
	GUEST_ASSERT_EQ(virtio_setup_queue(&vp, &q, 0, QSIZE, 0), 0);
	GUEST_SYNC(ST_QVECTOR, q.msix_vector);
	GUEST_ASSERT_EQ(q.msix_vector, 0);

	GUEST_ASSERT(vp.device_len >= 24);
	cap = virtio_cfg_r64(&vp, BLK_CFG_CAPACITY);
	GUEST_SYNC(ST_CAPACITY, cap);
	GUEST_SYNC(ST_BLK_SIZE, virtio_cfg_r32(&vp, BLK_CFG_BLK_SIZE));
	GUEST_ASSERT(cap > 3);
	last = cap - 1;
	virtio_driver_ok(&vp);

	/* Writes (the complement on a read-only disk: must not land). */
	fill(wbuf, 0, 2, x);
	fill(lbuf, last, 1, x);
	r = request(T_OUT, 0, wbuf, 2, SECTOR, false);
	GUEST_SYNC(ST_WRITE01, r);
	GUEST_ASSERT_EQ(r & 0xff, exp);
	r = request(T_OUT, last, lbuf, 1, SECTOR, false);
	GUEST_SYNC(ST_WRITE_LAST, r);
	GUEST_ASSERT_EQ(r & 0xff, exp);

	/* Read back. */
	memset(rbuf, 0, sizeof(rbuf));
	r = request(T_IN, 0, rbuf, 1, 2 * SECTOR, true);
	GUEST_SYNC(ST_READ01, r);
	GUEST_SYNC(ST_CMP01, pattern_diff(rbuf, 0, 2));
	memset(rbuf, 0, sizeof(rbuf));
	r = request(T_IN, last, rbuf, 1, SECTOR, true);
	GUEST_SYNC(ST_READ_LAST, r);
	GUEST_SYNC(ST_CMP_LAST, pattern_diff(rbuf, last, 1));
	memset(rbuf, 0xaa, sizeof(rbuf));
	r = request(T_IN, 2, rbuf, 1, SECTOR, true);
	GUEST_SYNC(ST_READ2, r);
	for (i = 0; i < SECTOR; i++)
		nz += rbuf[i] != 0;
	GUEST_SYNC(ST_NONZERO2, nz);

	/* Past the end: an error, nothing written. */
	r = request(T_OUT, cap, lbuf, 1, SECTOR, false);
	GUEST_SYNC(ST_WRITE_BEYOND, r);

	r = request(T_FLUSH, 0, NULL, 0, 0, false);
	GUEST_SYNC(ST_FLUSH, r);

	r = request(T_GET_ID, 0, id, 1, ID_BYTES, true);
	GUEST_SYNC(ST_GET_ID, r);
	for (i = 0; i < 8; i++)
		v |= (uint64_t)(uint8_t)id[i] << (8 * i);
	GUEST_SYNC(ST_ID, v);

	GUEST_SYNC(ST_IRQS, (uint64_t)idt_hits_read(IRQ_VECTOR) << 32 |
			    requests);
	GUEST_SYNC(ST_STATUS, virtio_status(&vp));
	irq_disable();
	GUEST_DONE();
}
