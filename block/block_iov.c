// SPDX-License-Identifier: GPL-2.0
/*
 * Positioned I/O that never returns short (except reads at end of file) and
 * a cursor that walks a request's iovec array in arbitrary pieces.
 */
#include <string.h>
#include <unistd.h>

#include "block_int.h"
#include "core/util.h"

ssize_t blk_pread(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done,
				  (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int blk_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, (const char *)buf + done, len - done,
				   (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* Drop the first n bytes of iov[*idx..cnt). */
static void iov_advance(struct iovec *iov, int cnt, int *idx, size_t n)
{
	while (n && *idx < cnt) {
		size_t step = MIN(n, iov[*idx].iov_len);

		iov[*idx].iov_base = (char *)iov[*idx].iov_base + step;
		iov[*idx].iov_len -= step;
		n -= step;
		if (!iov[*idx].iov_len)
			(*idx)++;
	}
}

static void iov_zero_rest(struct iovec *iov, int cnt, int idx)
{
	for (; idx < cnt; idx++)
		memset(iov[idx].iov_base, 0, iov[idx].iov_len);
}

int blk_preadv_full(int fd, struct iovec *iov, int cnt, size_t len,
		    uint64_t off, bool zero_past_eof)
{
	size_t done = 0;
	int idx = 0;

	while (done < len) {
		ssize_t n = preadv(fd, iov + idx, cnt - idx,
				   (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			if (!zero_past_eof)
				return -EIO;
			iov_zero_rest(iov, cnt, idx);
			return 0;
		}
		done += (size_t)n;
		iov_advance(iov, cnt, &idx, (size_t)n);
	}
	return 0;
}

int blk_pwritev_full(int fd, struct iovec *iov, int cnt, size_t len,
		     uint64_t off)
{
	size_t done = 0;
	int idx = 0;

	while (done < len) {
		ssize_t n = pwritev(fd, iov + idx, cnt - idx,
				    (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
		iov_advance(iov, cnt, &idx, (size_t)n);
	}
	return 0;
}

void iovc_init(struct iov_cursor *c, const struct iovec *iov, int cnt)
{
	c->iov = iov;
	c->cnt = cnt;
	c->idx = 0;
	c->off = 0;
}

/* Run body over the next len bytes, one contiguous piece at a time. */
#define IOVC_WALK(c, len, base, step, body)				\
	do {								\
		size_t __left = (len);					\
		while (__left && (c)->idx < (c)->cnt) {			\
			const struct iovec *__v = &(c)->iov[(c)->idx];	\
			size_t step = MIN(__left, __v->iov_len - (c)->off); \
			char *base = (char *)__v->iov_base + (c)->off;	\
			body;						\
			__left -= step;					\
			(c)->off += step;				\
			if ((c)->off == __v->iov_len) {			\
				(c)->idx++;				\
				(c)->off = 0;				\
			}						\
		}							\
	} while (0)

int iovc_slice(struct iov_cursor *c, size_t len, struct iovec *out, int cap)
{
	int n = 0;

	IOVC_WALK(c, len, base, step, {
		if (n == cap)
			return -EINVAL;
		out[n].iov_base = base;
		out[n++].iov_len = step;
	});
	return n;
}

void iovc_to_buf(struct iov_cursor *c, void *buf, size_t len)
{
	char *p = buf;

	IOVC_WALK(c, len, base, step, {
		memcpy(p, base, step);
		p += step;
	});
}

void iovc_from_buf(struct iov_cursor *c, const void *buf, size_t len)
{
	const char *p = buf;

	IOVC_WALK(c, len, base, step, {
		memcpy(base, p, step);
		p += step;
	});
}

void iovc_zero(struct iov_cursor *c, size_t len)
{
	IOVC_WALK(c, len, base, step, memset(base, 0, step));
}
