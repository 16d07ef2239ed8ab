// SPDX-License-Identifier: GPL-2.0
/*
 * The format-independent half of the block layer: request validation
 * (bounds, read-only) in front of the backend's ops, and close.
 */
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "block/blockdev.h"
#include "core/util.h"

/* Sum of the iovec lengths, or -EINVAL if it overflows or cnt is bad. */
static int64_t iov_total(const struct iovec *iov, int cnt)
{
	uint64_t len = 0;
	int i;

	if (cnt < 0 || cnt > IOV_MAX)
		return -EINVAL;
	for (i = 0; i < cnt; i++) {
		if (iov[i].iov_len > (uint64_t)INT64_MAX - len)
			return -EINVAL;
		len += iov[i].iov_len;
	}
	return (int64_t)len;
}

static bool in_range(struct blockdev *bd, uint64_t off, uint64_t len)
{
	return off <= bd->size && len <= bd->size - off;
}

int blockdev_preadv(struct blockdev *bd, const struct iovec *iov, int cnt,
		    uint64_t off)
{
	int64_t len = iov_total(iov, cnt);

	if (len < 0 || !in_range(bd, off, (uint64_t)len))
		return -EINVAL;
	if (!len)
		return 0;
	return bd->ops->preadv(bd, iov, cnt, off, (size_t)len);
}

int blockdev_pwritev(struct blockdev *bd, const struct iovec *iov, int cnt,
		     uint64_t off)
{
	int64_t len = iov_total(iov, cnt);

	if (bd->read_only)
		return -EROFS;
	if (len < 0 || !in_range(bd, off, (uint64_t)len))
		return -EINVAL;
	if (!len)
		return 0;
	return bd->ops->pwritev(bd, iov, cnt, off, (size_t)len);
}

int blockdev_pread(struct blockdev *bd, void *buf, size_t len, uint64_t off)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	return blockdev_preadv(bd, &iov, 1, off);
}

int blockdev_pwrite(struct blockdev *bd, const void *buf, size_t len,
		    uint64_t off)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return blockdev_pwritev(bd, &iov, 1, off);
}

int blockdev_flush(struct blockdev *bd)
{
	if (bd->read_only)
		return -EROFS;
	return bd->ops->flush(bd);
}

int blockdev_discard(struct blockdev *bd, uint64_t off, uint64_t len)
{
	if (bd->read_only)
		return -EROFS;
	if (!bd->discard)
		return -EOPNOTSUPP;
	if (!in_range(bd, off, len))
		return -EINVAL;
	if (!len)
		return 0;
	return bd->ops->discard(bd, off, len);
}

void blockdev_close(struct blockdev *bd)
{
	int ret;

	if (!bd)
		return;
	if (!bd->read_only) {
		ret = bd->ops->flush(bd);
		if (ret)
			pr_errno(-ret, "%s: flush on close", bd->path);
	}
	close(bd->fd);
	free(bd->path);
	bd->ops->close(bd);
}
