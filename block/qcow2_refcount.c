// SPDX-License-Identifier: GPL-2.0
/*
 * qcow2 refcounts and cluster allocation (spec, "Host cluster
 * management").  New clusters are always appended at the end of the file,
 * so clusters freed by copy-on-write are never reused: they stay as free
 * space (refcount 0), which is consistent.  Writes need refcount_order 4
 * (16-bit entries); block_qcow2.c refuses writable opens otherwise.
 */
#include <endian.h>
#include <stdlib.h>
#include <unistd.h>

#include "qcow2.h"

#define RC_MAX		0xffffU		/* 16-bit refcount entries */
#define RC_BYTES	2

static uint64_t rb_entries(struct qcow2 *q)
{
	return 1ULL << q->rb_bits;
}

int qcow2_sync(struct qcow2 *q)
{
	return fdatasync(q->bd.fd) ? -errno : 0;
}

/*
 * Claim n clusters at the end of the file.  The file itself grows later
 * (qcow2_grow), once the refcounts are known to be free: a refused write
 * leaves the file as it was.
 */
int qcow2_reserve(struct qcow2 *q, unsigned int n, uint64_t *off)
{
	uint64_t end = q->alloc_end + (uint64_t)n * q->cluster_size;

	/* Spec, "Cluster mapping": host offsets must stay below 2^56. */
	if (end > QCOW2_OFFSET_MASK) {
		qcow2_err(q, "image file would exceed the qcow2 size limit");
		return -ENOSPC;
	}
	*off = q->alloc_end;
	q->alloc_end = end;
	return 0;
}

/* Extend the file over every reserved cluster; the new part reads zeros. */
int qcow2_grow(struct qcow2 *q)
{
	if (q->file_size >= q->alloc_end)
		return 0;
	if (ftruncate(q->bd.fd, (off_t)q->alloc_end)) {
		int err = errno;

		qcow2_err(q, "cannot grow the image: %s", strerror(err));
		return -err;
	}
	q->file_size = q->alloc_end;
	return 0;
}

static int rb_alloc(struct qcow2 *q, uint64_t tidx, uint64_t *rb_off);

/* Host offset of the refcount block covering host cluster ci (0: none). */
static int rb_lookup(struct qcow2 *q, uint64_t ci, uint64_t *rb_off,
		     bool alloc)
{
	uint64_t tidx = ci >> q->rb_bits, e;

	*rb_off = 0;
	if (tidx >= q->rt_entries) {
		if (!alloc)
			return 0;
		qcow2_err(q, "refcount table is full (growing it is not supported)");
		return -ENOSPC;
	}
	e = q->rt[tidx];
	if (!e)
		return alloc ? rb_alloc(q, tidx, rb_off) : 0;
	if ((e & QCOW2_RTE_RESERVED) || !IS_ALIGNED(e, q->cluster_size) ||
	    !qcow2_in_file(q, e, q->cluster_size) || qcow2_is_metadata(q, e)) {
		qcow2_err(q, "refcount block offset %#llx is invalid (image corrupt)",
			  (unsigned long long)e);
		return -EIO;
	}
	*rb_off = e;
	return 0;
}

/*
 * A new refcount block for table index tidx goes at the end of the file.
 * It is written, and its own refcount recorded, before the table points
 * at it: a crash in between only leaks the cluster.
 */
static int rb_alloc(struct qcow2 *q, uint64_t tidx, uint64_t *rb_off)
{
	uint64_t nb, ci, rte;
	uint8_t *blk;
	bool self;
	int ret;

	ret = qcow2_reserve(q, 1, &nb);
	if (ret)
		return ret;
	blk = calloc(1, q->cluster_size);
	if (!blk)
		return -ENOMEM;
	ci = nb >> q->cluster_bits;
	self = (ci >> q->rb_bits) == tidx;
	if (self) {
		uint16_t one = htobe16(1);

		memcpy(blk + (ci & (rb_entries(q) - 1)) * RC_BYTES, &one,
		       RC_BYTES);
	}
	ret = blk_pwrite(q->bd.fd, blk, q->cluster_size, nb);
	free(blk);
	if (!ret)
		q->file_size = MAX(q->file_size, nb + q->cluster_size);
	if (!ret && !self) {
		ret = qcow2_rc_check_free(q, nb, 1);
		if (!ret)
			ret = qcow2_rc_set_one(q, nb, 1);
	}
	if (!ret)
		ret = qcow2_sync(q);
	if (ret)
		return ret;
	rte = htobe64(nb);
	ret = blk_pwrite(q->bd.fd, &rte, sizeof(rte), q->rt_offset + tidx * 8);
	if (ret)
		return ret;
	q->rt[tidx] = nb;
	*rb_off = nb;
	return 0;
}

int qcow2_refcount(struct qcow2 *q, uint64_t off, uint64_t *rc)
{
	uint64_t ci = off >> q->cluster_bits, rb;
	uint16_t v;
	ssize_t n;
	int ret;

	*rc = 0;
	ret = rb_lookup(q, ci, &rb, false);
	if (ret || !rb)
		return ret;
	n = blk_pread(q->bd.fd, &v, RC_BYTES,
		      rb + (ci & (rb_entries(q) - 1)) * RC_BYTES);
	if (n < 0)
		return (int)n;
	if (n != RC_BYTES)
		return -EIO;
	*rc = be16toh(v);
	return 0;
}

/*
 * Walk the n clusters from host offset off one refcount block at a time;
 * fn gets the block-relative entry offset of the first and the count.
 */
static int rc_walk(struct qcow2 *q, uint64_t off, unsigned int n, bool alloc,
		   int (*fn)(struct qcow2 *q, uint64_t ci, uint64_t pos,
			     unsigned int cnt))
{
	uint64_t ci = off >> q->cluster_bits, rb;
	int ret;

	while (n) {
		uint64_t idx = ci & (rb_entries(q) - 1);
		unsigned int cnt = (unsigned int)MIN((uint64_t)n,
						     rb_entries(q) - idx);

		ret = rb_lookup(q, ci, &rb, alloc);
		if (!ret && !rb)
			ret = -EIO;
		if (!ret)
			ret = fn(q, ci, rb + idx * RC_BYTES, cnt);
		if (ret)
			return ret;
		ci += cnt;
		n -= cnt;
	}
	return 0;
}

static int rc_check_fn(struct qcow2 *q, uint64_t ci, uint64_t pos,
		       unsigned int cnt)
{
	size_t len = (size_t)cnt * RC_BYTES;
	unsigned int i;
	ssize_t n;

	n = blk_pread(q->bd.fd, q->rbuf, len, pos);
	if (n < 0)
		return (int)n;
	if ((size_t)n != len)
		return -EIO;
	for (i = 0; i < cnt; i++) {
		unsigned long long host = (ci + i) << q->cluster_bits;
		uint16_t v;

		memcpy(&v, q->rbuf + i * RC_BYTES, RC_BYTES);
		v = be16toh(v);
		if (v == RC_MAX) {
			qcow2_err(q, "refcount overflow at host offset %#llx: refusing the write",
				  host);
			return -EIO;
		}
		if (v) {
			qcow2_err(q, "free cluster at host offset %#llx has refcount %u (image corrupt)",
				  host, v);
			return -EIO;
		}
	}
	return 0;
}

/*
 * Make sure n new clusters at off can get refcount 1: their refcount
 * blocks exist (allocating them) and their refcounts are 0.
 */
int qcow2_rc_check_free(struct qcow2 *q, uint64_t off, unsigned int n)
{
	return rc_walk(q, off, n, true, rc_check_fn);
}

static int rc_set_fn(struct qcow2 *q, uint64_t ci, uint64_t pos,
		     unsigned int cnt)
{
	uint16_t one = htobe16(1);
	unsigned int i;

	for (i = 0; i < cnt; i++)
		memcpy(q->rbuf + i * RC_BYTES, &one, RC_BYTES);
	return blk_pwrite(q->bd.fd, q->rbuf, (size_t)cnt * RC_BYTES, pos);
}

/* Set the refcounts of n clusters at off (checked free) to one. */
int qcow2_rc_set_one(struct qcow2 *q, uint64_t off, unsigned int n)
{
	return rc_walk(q, off, n, false, rc_set_fn);
}

/*
 * Drop one reference from every cluster overlapping [off, off + len).
 * Called once nothing points there any more; a refcount that is already
 * 0 is reported and left alone, so at worst clusters leak.
 */
void qcow2_rc_release(struct qcow2 *q, uint64_t off, uint64_t len)
{
	uint64_t ci, last, rb;
	uint16_t v;

	if (!len)
		return;
	last = (off + len - 1) >> q->cluster_bits;
	for (ci = off >> q->cluster_bits; ci <= last; ci++) {
		uint64_t pos;

		if (rb_lookup(q, ci, &rb, false) || !rb)
			goto bad;
		pos = rb + (ci & (rb_entries(q) - 1)) * RC_BYTES;
		if (blk_pread(q->bd.fd, &v, RC_BYTES, pos) != RC_BYTES)
			goto bad;
		if (!v)
			goto bad;
		v = htobe16((uint16_t)(be16toh(v) - 1));
		if (blk_pwrite(q->bd.fd, &v, RC_BYTES, pos))
			goto bad;
		continue;
bad:
		qcow2_err(q, "cannot drop the refcount of host offset %#llx; leaking it",
			  (unsigned long long)(ci << q->cluster_bits));
	}
}
