// SPDX-License-Identifier: GPL-2.0
/*
 * Raw disk images: a regular file or a block device whose bytes are the
 * disk's bytes.  Discard punches holes (FALLOC_FL_PUNCH_HOLE) where the
 * file system or device supports it.
 */
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "block_int.h"
#include "core/util.h"

struct raw {
	struct blockdev bd;
	struct iovec *scratch;	/* a consumable copy of the request's iov */
	int scratch_cnt;
};

static struct iovec *raw_copy_iov(struct raw *r, const struct iovec *iov,
				  int cnt)
{
	if (cnt > r->scratch_cnt) {
		struct iovec *n = realloc(r->scratch, sizeof(*n) * (size_t)cnt);

		if (!n)
			return NULL;
		r->scratch = n;
		r->scratch_cnt = cnt;
	}
	memcpy(r->scratch, iov, sizeof(*iov) * (size_t)cnt);
	return r->scratch;
}

static int raw_preadv(struct blockdev *bd, const struct iovec *iov, int cnt,
		      uint64_t off, size_t len)
{
	struct raw *r = container_of(bd, struct raw, bd);
	struct iovec *v = raw_copy_iov(r, iov, cnt);

	if (!v)
		return -ENOMEM;
	/* The file shrinking under us is an I/O error, not zeros. */
	return blk_preadv_full(bd->fd, v, cnt, len, off, false);
}

static int raw_pwritev(struct blockdev *bd, const struct iovec *iov, int cnt,
		       uint64_t off, size_t len)
{
	struct raw *r = container_of(bd, struct raw, bd);
	struct iovec *v = raw_copy_iov(r, iov, cnt);

	if (!v)
		return -ENOMEM;
	return blk_pwritev_full(bd->fd, v, cnt, len, off);
}

static int raw_flush(struct blockdev *bd)
{
	return fdatasync(bd->fd) ? -errno : 0;
}

static int raw_discard(struct blockdev *bd, uint64_t off, uint64_t len)
{
	if (!fallocate(bd->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		       (off_t)off, (off_t)len))
		return 0;
	if (errno == EOPNOTSUPP || errno == ENOSYS) {
		bd->discard = false;
		return -EOPNOTSUPP;
	}
	return -errno;
}

static void raw_close(struct blockdev *bd)
{
	struct raw *r = container_of(bd, struct raw, bd);

	free(r->scratch);
	free(r);
}

static const struct blockdev_ops raw_ops = {
	.preadv = raw_preadv,
	.pwritev = raw_pwritev,
	.flush = raw_flush,
	.discard = raw_discard,
	.close = raw_close,
};

/*
 * Punching a hole past the end of the file (KEEP_SIZE) changes nothing,
 * so it tells whether the file system can punch holes without touching
 * data.  Block devices support it since Linux 4.9; if not, the first
 * discard turns the capability off.
 */
static bool raw_probe_discard(int fd, const struct stat *st)
{
	if (S_ISBLK(st->st_mode))
		return true;
	return !fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  st->st_size, 4096);
}

int raw_open(int fd, const char *path, bool ro, const struct stat *st,
	     struct blockdev **out)
{
	uint64_t size = (uint64_t)st->st_size;
	struct raw *r;

	if (S_ISBLK(st->st_mode) && ioctl(fd, BLKGETSIZE64, &size)) {
		int err = errno;

		pr_errno(err, "%s: cannot get the block device size", path);
		return -err;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		pr_err("%s: out of memory", path);
		return -ENOMEM;
	}
	r->bd.ops = &raw_ops;
	r->bd.format = "raw";
	r->bd.size = size;
	r->bd.read_only = ro;
	r->bd.discard = !ro && raw_probe_discard(fd, st);
	r->bd.fd = fd;
	*out = &r->bd;
	return 0;
}
