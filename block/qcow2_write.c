// SPDX-License-Identifier: GPL-2.0
/*
 * qcow2 writes.  Allocated clusters are written in place; unallocated and
 * zero clusters get new clusters appended to the file; compressed clusters
 * are copied into a new normal cluster (decompress, overlay, write).
 *
 * Crash consistency: new clusters are written and counted (data, any new
 * L2 table, refcounts), then fdatasync, and only then does an L2 or L1
 * entry point at them.  A crash at any point leaves a consistent image,
 * at worst with leaked clusters (refcount 1, unreferenced).  The old
 * clusters of a copied compressed cluster lose their reference only after
 * the new L2 entry is durable (a second fdatasync), so a crash there leaks
 * them too but never leaves a referenced cluster with refcount 0.
 */
#include <endian.h>
#include <stdlib.h>

#include "qcow2.h"

/*
 * May the cluster at host (data, or an L2 table) be changed in place?  A
 * data cluster that is also an L2 table or a refcount block would let the
 * guest write the image's own metadata (QEMU's overlap checks refuse it
 * too, qcow2_check_metadata_overlap()).
 */
static int may_write(struct qcow2 *q, uint64_t host, bool copied, bool data)
{
	uint64_t rc;
	int ret;

	if (data ? qcow2_is_data_overlap(q, host) :
		   qcow2_is_metadata(q, host)) {
		qcow2_err(q, "cluster at host offset %#llx overlaps the image header or tables (image corrupt)",
			  (unsigned long long)host);
		return -EIO;
	}
	/* Spec: bit 63 of L1/L2 entries means "refcount is exactly one". */
	if (copied)
		return 0;
	ret = qcow2_refcount(q, host, &rc);
	if (ret || rc == 1)
		return ret;
	qcow2_err(q, "cluster at host offset %#llx has refcount %llu: writing shared clusters is not supported",
		  (unsigned long long)host, (unsigned long long)rc);
	return -EIO;
}

/* The L2 table of guest cluster vc if it exists, checked writable. */
static int l2_for_write(struct qcow2 *q, uint64_t vc, uint64_t *l2_off,
			uint64_t **tab)
{
	uint64_t l1e = q->l1[vc >> q->l2_bits];
	int ret;

	*l2_off = l1e & QCOW2_OFFSET_MASK;
	*tab = NULL;
	if (!*l2_off)
		return 0;
	ret = qcow2_l2_load(q, *l2_off, tab);
	if (!ret)
		ret = may_write(q, *l2_off, l1e & QCOW2_OFLAG_COPIED, false);
	return ret;
}

/* Point k entries of the cached L2 table at l2_off, from idx, at host. */
static int l2_link(struct qcow2 *q, uint64_t l2_off, uint64_t *tab,
		   uint64_t idx, unsigned int k, uint64_t host)
{
	unsigned int i;
	int ret;

	for (i = 0; i < k; i++)
		tab[idx + i] = htobe64((host + i * q->cluster_size) |
				       QCOW2_OFLAG_COPIED);
	ret = blk_pwrite(q->bd.fd, &tab[idx], (size_t)k * 8, l2_off + idx * 8);
	if (ret)
		qcow2_l2_drop(q, l2_off);	/* the disk is the truth */
	return ret;
}

/* A new L2 table at l2_new holding k entries from idx; then the L1 entry. */
static int l2_create(struct qcow2 *q, uint64_t l1i, uint64_t l2_new,
		     uint64_t idx, unsigned int k, uint64_t host, bool link)
{
	uint64_t *tab, l1e;
	unsigned int i;
	int ret;

	if (link) {
		l1e = l2_new | QCOW2_OFLAG_COPIED;
		q->l1[l1i] = l1e;
		l1e = htobe64(l1e);
		ret = blk_pwrite(q->bd.fd, &l1e, 8, q->l1_offset + l1i * 8);
		if (ret)
			q->l1[l1i] = 0;	/* as before, most likely */
		return ret;
	}
	tab = calloc(1, q->cluster_size);
	if (!tab)
		return -ENOMEM;
	for (i = 0; i < k; i++)
		tab[idx + i] = htobe64((host + i * q->cluster_size) |
				       QCOW2_OFLAG_COPIED);
	ret = blk_pwrite(q->bd.fd, tab, q->cluster_size, l2_new);
	if (!ret)
		qcow2_l2_update(q, l2_new, tab);
	free(tab);
	return ret;
}

/*
 * Give k consecutive guest clusters from vc (one L2 table, none holding
 * data) new host clusters at the end of the file, holding n bytes of the
 * request at offset in, or the whole cluster buf (k == 1).  The rest of
 * the new clusters reads as zeros: they lie in a freshly grown part of
 * the file.
 */
static int write_new(struct qcow2 *q, uint64_t vc, unsigned int k,
		     uint64_t in, size_t n, struct iov_cursor *c,
		     struct iovec *sl, int cnt, const uint8_t *buf)
{
	uint64_t l1i = vc >> q->l2_bits, idx = vc & ((1ULL << q->l2_bits) - 1);
	uint64_t l2_off, *tab, data;
	unsigned int nnew;
	int ret, m;

	ret = l2_for_write(q, vc, &l2_off, &tab);
	if (ret)
		return ret;
	nnew = k + !l2_off;
	ret = qcow2_reserve(q, nnew, &data);
	if (!ret)
		ret = qcow2_rc_check_free(q, data, nnew);
	if (!ret)
		ret = qcow2_grow(q);
	if (ret)
		return ret;
	if (buf) {
		ret = blk_pwrite(q->bd.fd, buf, q->cluster_size, data);
	} else {
		m = iovc_slice(c, n, sl, cnt);
		ret = m < 0 ? m : blk_pwritev_full(q->bd.fd, sl, m, n,
						   data + in);
	}
	if (!ret && !l2_off)
		ret = l2_create(q, l1i, data + k * q->cluster_size, idx, k,
				data, false);
	if (!ret)
		ret = qcow2_rc_set_one(q, data, nnew);
	if (!ret)
		ret = qcow2_sync(q);
	if (ret)
		return ret;
	if (!l2_off)
		return l2_create(q, l1i, data + k * q->cluster_size, idx, k,
				 data, true);
	return l2_link(q, l2_off, tab, idx, k, data);
}

/* A v3 zero cluster keeping its allocation: fill it and clear the flag. */
static int write_zero_prealloc(struct qcow2 *q, uint64_t vc, uint64_t e,
			       uint64_t host, uint64_t in, size_t n,
			       struct iov_cursor *c)
{
	uint64_t l2_off, *tab, idx = vc & ((1ULL << q->l2_bits) - 1);
	int ret;

	if (host >= q->file_size) {
		qcow2_err(q, "zero cluster preallocated at %#llx, past the end of the file (image corrupt)",
			  (unsigned long long)host);
		return -EIO;
	}
	ret = l2_for_write(q, vc, &l2_off, &tab);
	if (!ret)
		ret = may_write(q, host, e & QCOW2_OFLAG_COPIED, true);
	if (ret)
		return ret;
	memset(q->wbuf, 0, q->cluster_size);
	iovc_to_buf(c, q->wbuf + in, n);
	ret = blk_pwrite(q->bd.fd, q->wbuf, q->cluster_size, host);
	if (!ret)
		ret = qcow2_sync(q);
	if (!ret)
		ret = l2_link(q, l2_off, tab, idx, 1, host);
	return ret;
}

/* Copy-on-write of a compressed cluster into a new normal cluster. */
static int write_compressed(struct qcow2 *q, uint64_t vc, uint64_t e,
			    uint64_t host, uint64_t clen, uint64_t in,
			    size_t n, struct iov_cursor *c)
{
	int ret;

	ret = qcow2_decompress(q, e, host, clen);
	if (ret)
		return ret;
	memcpy(q->wbuf, q->dbuf, q->cluster_size);
	iovc_to_buf(c, q->wbuf + in, n);
	ret = write_new(q, vc, 1, 0, 0, NULL, NULL, 0, q->wbuf);
	if (!ret)
		ret = qcow2_sync(q);
	if (ret)
		return ret;
	/* Spec: the data spans whole 512-byte sectors from host & ~511. */
	qcow2_rc_release(q, host & ~511ULL, clen + (host & 511));
	return 0;
}

/* Unallocated clusters after vc, within the request and its L2 table. */
static unsigned int free_run(struct qcow2 *q, uint64_t vc, uint64_t want,
			     size_t *n)
{
	uint64_t mask = (1ULL << q->l2_bits) - 1, e, host, clen;
	unsigned int k = 1;

	while (*n < want && ((vc + k) & mask)) {
		enum qcow2_kind kind;

		if (qcow2_get_entry(q, vc + k, &e))
			break;
		kind = qcow2_classify(q, e, &host, &clen);
		if (kind != QCOW2_UNALLOCATED &&
		    !(kind == QCOW2_ZERO && !host))
			break;
		*n += (size_t)MIN(want - *n, q->cluster_size);
		k++;
	}
	return k;
}

int qcow2_pwritev(struct blockdev *bd, const struct iovec *iov, int cnt,
		  uint64_t off, size_t len)
{
	struct qcow2 *q = to_qcow2(bd);
	struct iovec *sl = qcow2_scratch(q, cnt);
	struct iov_cursor c;
	uint64_t e, host, clen;
	unsigned int k;
	int ret, m;

	if (!sl)
		return -ENOMEM;
	iovc_init(&c, iov, cnt);
	while (len) {
		uint64_t vc = off >> q->cluster_bits;
		uint64_t in = off & (q->cluster_size - 1);
		size_t n = (size_t)MIN((uint64_t)len, q->cluster_size - in);

		ret = qcow2_get_entry(q, vc, &e);
		if (ret)
			return ret;
		switch (qcow2_classify(q, e, &host, &clen)) {
		case QCOW2_NORMAL:
			ret = may_write(q, host, e & QCOW2_OFLAG_COPIED, true);
			if (ret)
				return ret;
			m = iovc_slice(&c, n, sl, cnt);
			ret = m < 0 ? m : blk_pwritev_full(bd->fd, sl, m, n,
							   host + in);
			if (!ret && host + in + n > q->file_size)
				q->file_size = host + in + n;
			break;
		case QCOW2_ZERO:
			if (host) {
				ret = write_zero_prealloc(q, vc, e, host, in,
							  n, &c);
				break;
			}
			/* fall through */
		case QCOW2_UNALLOCATED:
			k = free_run(q, vc, len, &n);
			ret = write_new(q, vc, k, in, n, &c, sl, cnt, NULL);
			break;
		case QCOW2_COMPRESSED:
			ret = write_compressed(q, vc, e, host, clen, in, n, &c);
			break;
		default:
			qcow2_err(q, "invalid L2 entry %#llx for guest offset %#llx (image corrupt)",
				  (unsigned long long)e,
				  (unsigned long long)off);
			ret = -EIO;
		}
		if (ret)
			return ret;
		off += n;
		len -= n;
	}
	return 0;
}
