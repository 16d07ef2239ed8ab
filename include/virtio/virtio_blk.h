/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-blk, the block device (virtio 1.2, 5.2), over a block backend
 * (include/block/blockdev.h).  One request queue; requests are served
 * synchronously on the device's I/O thread.  See docs/virtio.md.
 */
#ifndef MVM_VIRTIO_BLK_H
#define MVM_VIRTIO_BLK_H

#include <stdint.h>

#include "block/blockdev.h"
#include "pci/devctx.h"
#include "virtio/virtio.h"

/* 5.2.3: feature bits. */
#define VIRTIO_BLK_F_SIZE_MAX		1
#define VIRTIO_BLK_F_SEG_MAX		2
#define VIRTIO_BLK_F_GEOMETRY		4
#define VIRTIO_BLK_F_RO			5
#define VIRTIO_BLK_F_BLK_SIZE		6
#define VIRTIO_BLK_F_FLUSH		9
#define VIRTIO_BLK_F_TOPOLOGY		10
#define VIRTIO_BLK_F_CONFIG_WCE		11
#define VIRTIO_BLK_F_MQ			12
#define VIRTIO_BLK_F_DISCARD		13
#define VIRTIO_BLK_F_WRITE_ZEROES	14

/* 5.2.4: struct virtio_blk_config field offsets (the part mvm exposes). */
#define VIRTIO_BLK_CFG_CAPACITY		0	/* le64, 512-byte sectors */
#define VIRTIO_BLK_CFG_SIZE_MAX		8	/* le32 */
#define VIRTIO_BLK_CFG_SEG_MAX		12	/* le32 */
#define VIRTIO_BLK_CFG_GEOMETRY		16	/* le16 cyl, u8 heads, u8 sectors */
#define VIRTIO_BLK_CFG_BLK_SIZE		20	/* le32 */
#define VIRTIO_BLK_CFG_TOPOLOGY		24	/* 8 bytes */
#define VIRTIO_BLK_CFG_WRITEBACK	32	/* u8 */
#define VIRTIO_BLK_CFG_NUM_QUEUES	34	/* le16 */
#define VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS	36	/* le32 */
#define VIRTIO_BLK_CFG_MAX_DISCARD_SEG		40	/* le32 */
#define VIRTIO_BLK_CFG_DISCARD_ALIGN		44	/* le32 */
#define VIRTIO_BLK_CFG_MAX_WZ_SECTORS		48	/* le32 */
#define VIRTIO_BLK_CFG_MAX_WZ_SEG		52	/* le32 */
#define VIRTIO_BLK_CFG_WZ_MAY_UNMAP		56	/* u8 */
#define VIRTIO_BLK_CFG_SIZE			60	/* up to unused1[3] */

/* 5.2.6: request types. */
#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1
#define VIRTIO_BLK_T_FLUSH		4
#define VIRTIO_BLK_T_GET_ID		8
#define VIRTIO_BLK_T_GET_LIFETIME	10
#define VIRTIO_BLK_T_DISCARD		11
#define VIRTIO_BLK_T_WRITE_ZEROES	13
#define VIRTIO_BLK_T_SECURE_ERASE	14

/* 5.2.6: the status byte. */
#define VIRTIO_BLK_S_OK			0
#define VIRTIO_BLK_S_IOERR		1
#define VIRTIO_BLK_S_UNSUPP		2

/* 5.2.6: le32 type, le32 reserved, le64 sector. */
#define VIRTIO_BLK_REQ_HDR_SIZE		16
/* 5.2.6: struct virtio_blk_discard_write_zeroes; flags bit 0 is unmap. */
#define VIRTIO_BLK_DWZ_SIZE		16
#define VIRTIO_BLK_DWZ_F_UNMAP		1
#define VIRTIO_BLK_ID_BYTES		20
#define VIRTIO_BLK_SECTOR_SIZE		512

/* What mvm advertises (config space). */
#define VIRTIO_BLK_QUEUE_SIZE		256
#define VIRTIO_BLK_SEG_MAX		(VIRTIO_BLK_QUEUE_SIZE - 2)
#define VIRTIO_BLK_MAX_DISCARD_SECTORS	(1U << 22)	/* 2 GiB */
#define VIRTIO_BLK_MAX_DISCARD_SEG	32
#define VIRTIO_BLK_DISCARD_ALIGN	8		/* 4 KiB */
#define VIRTIO_BLK_MAX_WZ_SECTORS	(1U << 15)	/* 16 MiB */
#define VIRTIO_BLK_MAX_WZ_SEG		1

struct virtio_blk_stats {
	uint64_t reads, writes, flushes, discards, write_zeroes, get_ids;
	uint64_t bytes_read, bytes_written;
	uint64_t ioerr, unsupp;		/* requests completed with them */
	uint64_t backend_flushes;	/* blockdev_flush() calls */
};

struct virtio_blk;

/*
 * Put a virtio-blk device for `bd` on ctx's PCI bus.  The device owns bd
 * from then on (closed by virtio_blk_destroy, or here on failure).
 * `index` names it: serial "mvm-disk-<index>" (VIRTIO_BLK_T_GET_ID).
 * Returns 0 or -errno after printing why.
 */
int virtio_blk_create(struct device_ctx *ctx, struct blockdev *bd,
		      unsigned int index, struct virtio_blk **out);
void virtio_blk_destroy(struct virtio_blk *blk);
struct virtio_dev *virtio_blk_dev(struct virtio_blk *blk);
/* A snapshot of the counters (any thread). */
void virtio_blk_get_stats(struct virtio_blk *blk, struct virtio_blk_stats *s);

#endif
