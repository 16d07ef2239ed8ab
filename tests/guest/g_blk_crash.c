// SPDX-License-Identifier: GPL-2.0
/*
 * A guest that writes to its virtio-blk disk until mvm is killed
 * (tests/boot/disk-crash.t).  Block k (4 KiB, BLOCK_SLOTS of them from
 * sector 0) receives writes seq = k, k + BLOCK_SLOTS, ... in turn; every
 * FLUSH_EVERY writes it sends a FLUSH and, once the device has completed
 * it, prints "F <seq>" on the serial console: every write up to seq is
 * then durable.  A block holds
 *
 *   u64 magic, u64 seq, u64 slot, bytes crash_pattern(seq, i)..., u64 seq
 *
 * so a torn or misplaced block shows (tests/boot/blkcrash_check.c checks
 * the image against the last "F" line).
 */
#include "guest.h"
#include "idt.h"
#include "smp.h"
#include "virtio.h"

#define VIRTIO_BLK_F_FLUSH	9
#define T_OUT			1
#define T_FLUSH			4
#define S_OK			0
#define SECTOR			512
#define BLOCK			4096
#define BLOCK_SLOTS		256		/* 1 MiB */
#define FLUSH_EVERY		4
#define CRASH_MAGIC		0x736172632d6d766dULL	/* "mvm-cras" */
#define IRQ_VECTOR		0x40
#define QSIZE			16
#define TIMEOUT			40000000000ULL	/* TSC cycles, >= 10 s */

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static struct virtio_pci vp;
static struct vq q;
static struct blk_hdr hdr;
static uint8_t status;
static uint8_t block[BLOCK] __attribute__((aligned(4096)));

/* blkcrash_check.c has the same function. */
static inline uint8_t crash_pattern(uint64_t seq, unsigned int i)
{
	return (uint8_t)(seq * 167 + i * 13 + (i >> 8) + 0x3c);
}

static uint8_t request(uint32_t type, uint64_t sector, void *data,
		       uint32_t len)
{
	struct vq_buf out[2], in = { &status, 1 };
	unsigned int no = 0;
	uint32_t used;
	int head;

	hdr = (struct blk_hdr){ .type = type, .sector = sector };
	status = 0xee;
	out[no++] = (struct vq_buf){ &hdr, sizeof(hdr) };
	if (len)
		out[no++] = (struct vq_buf){ data, len };
	head = vq_add(&q, out, no, &in, 1);
	GUEST_ASSERT(head >= 0);
	vq_kick(&vp, &q);
	GUEST_ASSERT_EQ(vq_wait(&q, &used, TIMEOUT), head);
	return status;
}

static void fill(uint64_t seq)
{
	unsigned int i;
	uint64_t slot = seq % BLOCK_SLOTS;

	for (i = 24; i < BLOCK - 8; i++)
		block[i] = crash_pattern(seq, i);
	memcpy(block, &(uint64_t){ CRASH_MAGIC }, 8);
	memcpy(block + 8, &seq, 8);
	memcpy(block + 16, &slot, 8);
	memcpy(block + BLOCK - 8, &seq, 8);
}

void guest_main(void *bp)
{
	uint64_t seq;

	GUEST_ASSERT_EQ(virtio_pci_find(VIRTIO_ID_BLOCK, &vp), 0);
	idt_init();
	lapic_enable();
	irq_enable();
	GUEST_ASSERT_EQ(virtio_msix_enable(&vp, IRQ_VECTOR), 0);
	GUEST_ASSERT_EQ(virtio_start(&vp, 1ULL << VIRTIO_BLK_F_FLUSH), 0);
	GUEST_ASSERT(vp.negotiated & (1ULL << VIRTIO_BLK_F_FLUSH));
	GUEST_ASSERT_EQ(virtio_set_config_vector(&vp, VIRTIO_MSI_NO_VECTOR),
			VIRTIO_MSI_NO_VECTOR);
	GUEST_ASSERT_EQ(virtio_setup_queue(&vp, &q, 0, QSIZE, 0), 0);
	GUEST_ASSERT(virtio_cfg_r64(&vp, 0) >= BLOCK_SLOTS * (BLOCK / SECTOR));
	virtio_driver_ok(&vp);
	guest_printf("g_blk_crash: writing\n");
	for (seq = 1;; seq++) {
		fill(seq);
		GUEST_ASSERT_EQ(request(T_OUT, (seq % BLOCK_SLOTS) *
					       (BLOCK / SECTOR), block, BLOCK),
				S_OK);
		if (seq % FLUSH_EVERY)
			continue;
		GUEST_ASSERT_EQ(request(T_FLUSH, 0, NULL, 0), S_OK);
		guest_printf("F %lu\n", (unsigned long)seq);
	}
}
