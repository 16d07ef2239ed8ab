// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk, the block device (virtio 1.2, 5.2): one request queue
 * (5.2.2), served synchronously on the device's I/O thread against a
 * block backend (raw or qcow2, include/block/blockdev.h), which is only
 * ever called from that thread.
 *
 * A request (5.2.6) is a 16-byte device-readable header (le32 type,
 * le32 reserved, le64 sector), then the data (readable for writes,
 * discards and write-zeroes, writable for reads and GET_ID), then one
 * device-writable status byte: the last byte of the writable part.  The
 * parts may be split across descriptors anywhere (2.6.4: no framing
 * assumptions).  A chain without a 16-byte readable header or without
 * a writable status byte cannot be completed: the device sets
 * DEVICE_NEEDS_RESET (2.1.2), as for a malformed ring.
 *
 * Offered (5.2.3): SEG_MAX, BLK_SIZE (512), FLUSH, RO for ",ro" disks,
 * DISCARD when the backend can punch holes, WRITE_ZEROES on writable
 * disks (done with explicit zero writes: write_zeroes_may_unmap is 0).
 * Without FLUSH negotiated the device is write-through: every write is
 * followed by blockdev_flush() before it completes (5.2.6.2, stable
 * writes, case 1).
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/util.h"
#include "virtio/virtio_blk.h"

#define BLK_ZERO_CHUNK		(64 * 1024)
#define BLK_ZERO_IOVS		16

struct virtio_blk {
	struct virtio_dev vdev;
	struct blockdev *bd;
	uint64_t capacity;		/* 512-byte sectors */
	char serial[VIRTIO_BLK_ID_BYTES + 1];
	struct virtio_blk_stats stats;	/* io_lock */
	struct virtq_elem elem;
	struct iovec data[VIRTQ_MAX_IOV];
	struct virtio_dev_ops ops;	/* features depend on the disk */
};

static const uint8_t zero_chunk[BLK_ZERO_CHUNK];

/* Guest-caused problems: one rate-limited line naming the image. */
#define blk_warn(blk, fmt, ...)						\
	pr_warn_ratelimited("virtio-blk %s: " fmt, (blk)->bd->path,	\
			    ##__VA_ARGS__)

/*
 * Point dst at bytes [off, off + len) of the iovecs src[0..n); returns
 * how many dst entries were used.  The caller checked len fits.
 */
static int iov_slice(struct iovec *dst, const struct iovec *src,
		     unsigned int n, uint64_t off, uint64_t len)
{
	unsigned int i;
	int cnt = 0;

	for (i = 0; i < n && len; i++) {
		uint64_t l = src[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l = MIN(l - off, len);
		dst[cnt].iov_base = (uint8_t *)src[i].iov_base + off;
		dst[cnt].iov_len = l;
		cnt++;
		len -= l;
		off = 0;
	}
	return cnt;
}

/* 5.2.6: a sector range inside the disk (capacity in sectors). */
static bool range_ok(const struct virtio_blk *blk, uint64_t sector,
		     uint64_t nr_sectors)
{
	return sector <= blk->capacity &&
	       nr_sectors <= blk->capacity - sector;
}

static int flush_backend(struct virtio_blk *blk)
{
	blk->stats.backend_flushes++;
	return blockdev_flush(blk->bd);
}

/* VIRTIO_BLK_T_IN / T_OUT; *written gets the data bytes given back. */
static uint8_t do_rw(struct virtio_blk *blk, bool write, uint64_t sector,
		     uint64_t data_len, uint32_t *written)
{
	const struct virtq_elem *e = &blk->elem;
	int cnt, err;

	/* 5.2.6.1: data is a multiple of 512 bytes. */
	if (data_len % VIRTIO_BLK_SECTOR_SIZE) {
		blk_warn(blk, "%s of %llu bytes: not a multiple of 512",
			 write ? "write" : "read",
			 (unsigned long long)data_len);
		return VIRTIO_BLK_S_IOERR;
	}
	if (!range_ok(blk, sector, data_len / VIRTIO_BLK_SECTOR_SIZE)) {
		blk_warn(blk, "%s of %llu sectors at sector %llu: beyond the disk's %llu",
			 write ? "write" : "read",
			 (unsigned long long)(data_len / 512),
			 (unsigned long long)sector,
			 (unsigned long long)blk->capacity);
		return VIRTIO_BLK_S_IOERR;
	}
	/* 5.2.6.2: a write to a read-only device fails and writes nothing. */
	if (write && blk->bd->read_only)
		return VIRTIO_BLK_S_IOERR;
	if (!data_len)
		return VIRTIO_BLK_S_OK;
	if (write) {
		cnt = iov_slice(blk->data, e->iov, e->nr_out,
				VIRTIO_BLK_REQ_HDR_SIZE, data_len);
		err = blockdev_pwritev(blk->bd, blk->data, cnt,
				       sector * VIRTIO_BLK_SECTOR_SIZE);
		/* Write-through unless the driver took FLUSH (5.2.6.2). */
		if (!err && !(virtio_dev_features(&blk->vdev) &
			      (1ULL << VIRTIO_BLK_F_FLUSH)))
			err = flush_backend(blk);
		if (!err)
			blk->stats.bytes_written += data_len;
	} else {
		cnt = iov_slice(blk->data, e->iov + e->nr_out, e->nr_in, 0,
				data_len);
		err = blockdev_preadv(blk->bd, blk->data, cnt,
				      sector * VIRTIO_BLK_SECTOR_SIZE);
		if (!err) {
			blk->stats.bytes_read += data_len;
			*written = (uint32_t)data_len;
		}
	}
	if (err) {
		blk_warn(blk, "%s at sector %llu failed: %s",
			 write ? "write" : "read",
			 (unsigned long long)sector, strerror(-err));
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/* Write zeros over [off, off + len) with a shared zero buffer. */
static int write_zeros(struct virtio_blk *blk, uint64_t off, uint64_t len)
{
	struct iovec iov[BLK_ZERO_IOVS];
	uint64_t n;
	int cnt, err;

	while (len) {
		for (cnt = 0, n = 0; cnt < BLK_ZERO_IOVS && n < len; cnt++) {
			iov[cnt].iov_base = (void *)zero_chunk;
			iov[cnt].iov_len = MIN(len - n, BLK_ZERO_CHUNK);
			n += iov[cnt].iov_len;
		}
		err = blockdev_pwritev(blk->bd, iov, cnt, off);
		if (err)
			return err;
		off += n;
		len -= n;
	}
	return 0;
}

/*
 * VIRTIO_BLK_T_DISCARD / T_WRITE_ZEROES (5.2.6): an array of 16-byte
 * segments after the header.  Every segment is checked before any is
 * carried out, so a bad one means no I/O at all.
 */
static uint8_t do_discard_wz(struct virtio_blk *blk, bool wz,
			     uint64_t data_len)
{
	const char *what = wz ? "write-zeroes" : "discard";
	uint32_t max_seg = wz ? VIRTIO_BLK_MAX_WZ_SEG :
				VIRTIO_BLK_MAX_DISCARD_SEG;
	uint32_t max_sectors = wz ? VIRTIO_BLK_MAX_WZ_SECTORS :
				    VIRTIO_BLK_MAX_DISCARD_SECTORS;
	uint8_t seg[VIRTIO_BLK_DWZ_SIZE];
	uint64_t nr_seg, i, sector, off, len;
	uint32_t nr, flags;
	int err;

	nr_seg = data_len / VIRTIO_BLK_DWZ_SIZE;
	if (!nr_seg || data_len % VIRTIO_BLK_DWZ_SIZE || nr_seg > max_seg) {
		blk_warn(blk, "%s with %llu bytes of segments (at most %u of 16 bytes)",
			 what, (unsigned long long)data_len, max_seg);
		return VIRTIO_BLK_S_IOERR;
	}
	for (i = 0; i < nr_seg; i++) {
		virtq_elem_read(&blk->elem, VIRTIO_BLK_REQ_HDR_SIZE +
				i * VIRTIO_BLK_DWZ_SIZE, seg, sizeof(seg));
		sector = get_le64(seg);
		nr = get_le32(seg + 8);
		flags = get_le32(seg + 12);
		/* 5.2.6.2: unknown flags, or unmap on a discard: UNSUPP. */
		if (flags & ~(uint32_t)(wz ? VIRTIO_BLK_DWZ_F_UNMAP : 0))
			return VIRTIO_BLK_S_UNSUPP;
		if (nr > max_sectors || !range_ok(blk, sector, nr)) {
			blk_warn(blk, "%s of %u sectors at sector %llu: beyond the disk or the limit",
				 what, nr, (unsigned long long)sector);
			return VIRTIO_BLK_S_IOERR;
		}
	}
	for (i = 0; i < nr_seg; i++) {
		virtq_elem_read(&blk->elem, VIRTIO_BLK_REQ_HDR_SIZE +
				i * VIRTIO_BLK_DWZ_SIZE, seg, sizeof(seg));
		off = get_le64(seg) * VIRTIO_BLK_SECTOR_SIZE;
		len = (uint64_t)get_le32(seg + 8) * VIRTIO_BLK_SECTOR_SIZE;
		if (!len)
			continue;
		if (wz) {
			err = write_zeros(blk, off, len);
		} else {
			/* 5.2.6.2: discarding is optional ("MAY deallocate");
			 * a backend that lost the ability is not an error. */
			err = blockdev_discard(blk->bd, off, len);
			if (err == -EOPNOTSUPP)
				err = 0;
		}
		if (err) {
			blk_warn(blk, "%s at byte %llu failed: %s", what,
				 (unsigned long long)off, strerror(-err));
			return VIRTIO_BLK_S_IOERR;
		}
	}
	if (wz && !(virtio_dev_features(&blk->vdev) &
		    (1ULL << VIRTIO_BLK_F_FLUSH)) && flush_backend(blk))
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

/*
 * Serve one popped request.  Returns false if the chain is malformed
 * (no header or no status byte): the caller sets NEEDS_RESET.
 */
static bool serve(struct virtio_blk *blk, uint32_t *used_len)
{
	const struct virtq_elem *e = &blk->elem;
	uint64_t features = virtio_dev_features(&blk->vdev);
	const struct iovec *last;
	uint8_t hdr[VIRTIO_BLK_REQ_HDR_SIZE], status;
	uint64_t sector, out_data, in_data;
	uint32_t type, written = 0;
	int err;

	if (e->out_len < VIRTIO_BLK_REQ_HDR_SIZE || !e->in_len) {
		blk_warn(blk, "request %u has %s: device needs reset",
			 e->head, !e->in_len ? "no writable status byte" :
			 "a header shorter than 16 bytes");
		return false;
	}
	virtq_elem_read(e, 0, hdr, sizeof(hdr));
	type = get_le32(hdr);
	sector = get_le64(hdr + 8);
	out_data = e->out_len - VIRTIO_BLK_REQ_HDR_SIZE;
	in_data = e->in_len - 1;

	switch (type) {
	case VIRTIO_BLK_T_IN:
		blk->stats.reads++;
		status = do_rw(blk, false, sector, in_data, &written);
		break;
	case VIRTIO_BLK_T_OUT:
		blk->stats.writes++;
		status = do_rw(blk, true, sector, out_data, &written);
		break;
	case VIRTIO_BLK_T_FLUSH:
		/* 5.2.6.2: completed writes become stable.  Nothing is
		 * volatile on a read-only disk. */
		blk->stats.flushes++;
		status = VIRTIO_BLK_S_OK;
		if (!blk->bd->read_only) {
			err = flush_backend(blk);
			if (err) {
				blk_warn(blk, "flush failed: %s",
					 strerror(-err));
				status = VIRTIO_BLK_S_IOERR;
			}
		}
		break;
	case VIRTIO_BLK_T_GET_ID:
		/* 5.2.6: up to 20 bytes, NUL-padded. */
		blk->stats.get_ids++;
		written = (uint32_t)virtq_elem_write(e, 0, blk->serial,
				MIN(in_data, VIRTIO_BLK_ID_BYTES));
		status = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: {
		bool wz = type == VIRTIO_BLK_T_WRITE_ZEROES;

		if (!(features & (1ULL << (wz ? VIRTIO_BLK_F_WRITE_ZEROES :
						 VIRTIO_BLK_F_DISCARD)))) {
			status = VIRTIO_BLK_S_UNSUPP;
			break;
		}
		if (wz)
			blk->stats.write_zeroes++;
		else
			blk->stats.discards++;
		status = do_discard_wz(blk, wz, out_data);
		break;
	}
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	if (status == VIRTIO_BLK_S_IOERR)
		blk->stats.ioerr++;
	else if (status == VIRTIO_BLK_S_UNSUPP)
		blk->stats.unsupp++;

	/* The status is the last byte of the last writable buffer. */
	last = &e->iov[e->nr_out + e->nr_in - 1];
	((uint8_t *)last->iov_base)[last->iov_len - 1] = status;
	*used_len = written + 1;
	return true;
}

static void blk_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_blk *blk = vdev->priv;
	struct virtq *vq = virtio_dev_queue(vdev, q);
	uint32_t len;
	int r;

	do {
		virtq_disable_notify(vq);
		while ((r = virtq_pop(vq, &blk->elem)) > 0) {
			if (!serve(blk, &len)) {
				virtio_dev_set_needs_reset(vdev);
				r = -EIO;
				break;
			}
			virtq_push(vq, blk->elem.head, len);
		}
	} while (r == 0 && virtq_enable_notify(vq));
	virtio_dev_notify_used(vdev, q);
}

/* 5.2.4: the configuration space; fields of features not offered read 0. */
static void blk_config_read(struct virtio_dev *vdev, unsigned int off,
			    uint8_t *data, unsigned int len)
{
	struct virtio_blk *blk = vdev->priv;
	uint64_t f = vdev->ops->features;
	uint8_t cfg[VIRTIO_BLK_CFG_SIZE] = { 0 };

	put_le64(cfg + VIRTIO_BLK_CFG_CAPACITY, blk->capacity);
	put_le32(cfg + VIRTIO_BLK_CFG_SEG_MAX, VIRTIO_BLK_SEG_MAX);
	put_le32(cfg + VIRTIO_BLK_CFG_BLK_SIZE, VIRTIO_BLK_SECTOR_SIZE);
	if (f & (1ULL << VIRTIO_BLK_F_DISCARD)) {
		put_le32(cfg + VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS,
			 VIRTIO_BLK_MAX_DISCARD_SECTORS);
		put_le32(cfg + VIRTIO_BLK_CFG_MAX_DISCARD_SEG,
			 VIRTIO_BLK_MAX_DISCARD_SEG);
		put_le32(cfg + VIRTIO_BLK_CFG_DISCARD_ALIGN,
			 VIRTIO_BLK_DISCARD_ALIGN);
	}
	if (f & (1ULL << VIRTIO_BLK_F_WRITE_ZEROES)) {
		put_le32(cfg + VIRTIO_BLK_CFG_MAX_WZ_SECTORS,
			 VIRTIO_BLK_MAX_WZ_SECTORS);
		put_le32(cfg + VIRTIO_BLK_CFG_MAX_WZ_SEG,
			 VIRTIO_BLK_MAX_WZ_SEG);
		/* Zeros are written, never unmapped (5.2.6.2). */
		cfg[VIRTIO_BLK_CFG_WZ_MAY_UNMAP] = 0;
	}
	memcpy(data, cfg + off, len);
}

static const struct virtio_dev_ops blk_ops_template = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.pci_class = 0x010000,		/* mass storage, SCSI (as QEMU) */
	.nr_queues = 1,			/* 5.2.2: requestq1 (no MQ) */
	.queue_size = VIRTIO_BLK_QUEUE_SIZE,
	.config_size = VIRTIO_BLK_CFG_SIZE,
	.config_read = blk_config_read,
	.queue_notify = blk_queue_notify,
};

int virtio_blk_create(struct device_ctx *ctx, struct blockdev *bd,
		      unsigned int index, struct virtio_blk **out)
{
	struct virtio_blk *blk = calloc(1, sizeof(*blk));
	uint64_t f;
	int err;

	if (!blk) {
		blockdev_close(bd);
		return -ENOMEM;
	}
	blk->bd = bd;
	blk->capacity = bd->size / VIRTIO_BLK_SECTOR_SIZE;
	snprintf(blk->serial, sizeof(blk->serial), "mvm-disk-%u", index);

	/* 5.2.3 */
	f = 1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_BLK_SIZE |
	    1ULL << VIRTIO_BLK_F_FLUSH;
	if (bd->read_only)
		f |= 1ULL << VIRTIO_BLK_F_RO;
	else
		f |= 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
	if (bd->discard && !bd->read_only)
		f |= 1ULL << VIRTIO_BLK_F_DISCARD;
	blk->ops = blk_ops_template;
	blk->ops.features = f;

	err = virtio_dev_init(&blk->vdev, &blk->ops, ctx, blk);
	if (err) {
		blockdev_close(bd);
		free(blk);
		return err;
	}
	*out = blk;
	return 0;
}

void virtio_blk_destroy(struct virtio_blk *blk)
{
	if (!blk)
		return;
	virtio_dev_destroy(&blk->vdev);
	blockdev_close(blk->bd);
	free(blk);
}

struct virtio_dev *virtio_blk_dev(struct virtio_blk *blk)
{
	return &blk->vdev;
}

void virtio_blk_get_stats(struct virtio_blk *blk, struct virtio_blk_stats *s)
{
	pthread_mutex_lock(&blk->vdev.io_lock);
	*s = blk->stats;
	pthread_mutex_unlock(&blk->vdev.io_lock);
}
