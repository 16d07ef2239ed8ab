/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Block backends: what a virtual disk controller (virtio-blk) reads from
 * and writes to.  A disk is opened from a spec "FILE[,ro][,format=raw|qcow2]";
 * the format is detected from the file's first bytes unless forced.  See
 * docs/block.md.
 *
 * Contract, identical for every format:
 *  - Transfers are all-or-nothing: 0 means every byte was transferred, a
 *    negative errno means the request failed (the guest sees an I/O error).
 *  - A request must lie entirely inside [0, size): -EINVAL otherwise.
 *  - Writes, flushes and discards on a read-only disk return -EROFS.
 *  - Threads: a blockdev has no internal lock.  All calls on one blockdev
 *    must come from one thread at a time (virtio-blk: its I/O thread);
 *    different blockdevs are independent.
 *  - Corrupt images never make mvm crash or access memory out of bounds:
 *    they are refused at open (-EINVAL / -ENOTSUP with one "mvm: FILE: ..."
 *    line) or fail the request with -EIO at run time.
 */
#ifndef MVM_BLOCKDEV_H
#define MVM_BLOCKDEV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct blockdev;

struct blockdev_ops {
	/* Offsets and lengths are validated by the blockdev_*() wrappers. */
	int (*preadv)(struct blockdev *bd, const struct iovec *iov, int cnt,
		      uint64_t off, size_t len);
	int (*pwritev)(struct blockdev *bd, const struct iovec *iov, int cnt,
		       uint64_t off, size_t len);
	int (*flush)(struct blockdev *bd);
	int (*discard)(struct blockdev *bd, uint64_t off, uint64_t len);
	void (*close)(struct blockdev *bd);
};

struct blockdev {
	const struct blockdev_ops *ops;
	char *path;		/* as given in the spec */
	const char *format;	/* "raw" or "qcow2" */
	uint64_t size;		/* virtual disk size in bytes */
	bool read_only;
	bool discard;		/* blockdev_discard() is supported */
	int fd;			/* the image file, locked (see docs/block.md) */
};

/*
 * Open a disk from "FILE[,ro][,format=raw|qcow2]".  On failure prints one
 * "mvm: FILE: reason" line and returns -errno: -EBUSY if another process
 * holds the image lock, -EINVAL for a bad spec or corrupt image, -ENOTSUP
 * for an image feature mvm does not implement.
 */
int blockdev_open(const char *spec, struct blockdev **out);

/* Read/write len = sum of iov lengths bytes at off.  0 or -errno. */
int blockdev_preadv(struct blockdev *bd, const struct iovec *iov, int cnt,
		    uint64_t off);
int blockdev_pwritev(struct blockdev *bd, const struct iovec *iov, int cnt,
		     uint64_t off);

/* Flat-buffer conveniences. */
int blockdev_pread(struct blockdev *bd, void *buf, size_t len, uint64_t off);
int blockdev_pwrite(struct blockdev *bd, const void *buf, size_t len,
		    uint64_t off);

/* Make every completed write durable (fdatasync).  0 or -errno. */
int blockdev_flush(struct blockdev *bd);

/*
 * Tell the backend [off, off + len) is unused; it may read back as zeros or
 * as the old data.  -EOPNOTSUPP when bd->discard is false.
 */
int blockdev_discard(struct blockdev *bd, uint64_t off, uint64_t len);

/* Flush a writable disk, release the lock, close, free.  NULL is a no-op. */
void blockdev_close(struct blockdev *bd);

#endif
