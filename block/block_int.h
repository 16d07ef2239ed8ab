/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals shared by the block backends (not for device models): backend
 * constructors called by blockdev_open(), full-length positioned I/O, and a
 * cursor over a request's iovec array.
 */
#ifndef MVM_BLOCK_INT_H
#define MVM_BLOCK_INT_H

#include <sys/stat.h>

#include "block/blockdev.h"

/*
 * Backend constructors.  fd is open (O_RDONLY when ro) and locked; path is
 * for messages.  The backend allocates its state around a struct blockdev
 * and fills ops, format, size, discard, fd and read_only; blockdev_open()
 * then sets path.  blockdev_close() closes fd and frees path before
 * ops->close frees the rest.  Return 0 or -errno after printing one line.
 */
int raw_open(int fd, const char *path, bool ro, const struct stat *st,
	     struct blockdev **out);
int qcow2_open(int fd, const char *path, bool ro, const struct stat *st,
	       struct blockdev **out);

/* QCOW magic string "QFI\xfb" (qcow2.txt, "Header", bytes 0-3). */
#define QCOW2_MAGIC	0x514649fbU

/*
 * pread/pwrite that loop over short transfers.  blk_pread() returns the
 * number of bytes read (< len only at end of file) or -errno; blk_pwrite()
 * returns 0 or -errno.
 */
ssize_t blk_pread(int fd, void *buf, size_t len, uint64_t off);
int blk_pwrite(int fd, const void *buf, size_t len, uint64_t off);

/* preadv/pwritev of exactly len bytes; iov is consumed (modified). */
int blk_preadv_full(int fd, struct iovec *iov, int cnt, size_t len,
		    uint64_t off, bool zero_past_eof);
int blk_pwritev_full(int fd, struct iovec *iov, int cnt, size_t len,
		     uint64_t off);

/* A position inside a request's iovec array. */
struct iov_cursor {
	const struct iovec *iov;
	int cnt;
	int idx;	/* current element */
	size_t off;	/* offset inside iov[idx] */
};

void iovc_init(struct iov_cursor *c, const struct iovec *iov, int cnt);
/* Describe the next len bytes in out[] (room for cap entries); advances. */
int iovc_slice(struct iov_cursor *c, size_t len, struct iovec *out, int cap);
void iovc_to_buf(struct iov_cursor *c, void *buf, size_t len);
void iovc_from_buf(struct iov_cursor *c, const void *buf, size_t len);
void iovc_zero(struct iov_cursor *c, size_t len);

#endif
