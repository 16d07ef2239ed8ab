// SPDX-License-Identifier: GPL-2.0
/*
 * qcow2 guest-to-host mapping and reads (spec, "Cluster mapping"): the
 * active L1 table is in memory, L2 tables go through a small cache, and
 * every entry is checked before it is used.
 */
#include <endian.h>
#include <stdlib.h>

#include "qcow2.h"

struct iovec *qcow2_scratch(struct qcow2 *q, int cnt)
{
	if (cnt > q->scratch_cnt) {
		struct iovec *n = realloc(q->scratch, sizeof(*n) * (size_t)cnt);

		if (!n)
			return NULL;
		q->scratch = n;
		q->scratch_cnt = cnt;
	}
	return q->scratch;
}

static struct qcow2_l2_slot *l2_find(struct qcow2 *q, uint64_t l2_off)
{
	unsigned int i;

	for (i = 0; i < q->l2c_n; i++)
		if (q->l2c[i].off == l2_off)
			return &q->l2c[i];
	return NULL;
}

int qcow2_l2_load(struct qcow2 *q, uint64_t l2_off, uint64_t **tab)
{
	struct qcow2_l2_slot *s = l2_find(q, l2_off);
	ssize_t n;

	if (s) {
		*tab = s->tab;
		return 0;
	}
	/* Spec: L2 tables are one cluster, cluster-aligned. */
	if (!IS_ALIGNED(l2_off, q->cluster_size) ||
	    !qcow2_in_file(q, l2_off, q->cluster_size) ||
	    qcow2_is_metadata(q, l2_off)) {
		qcow2_err(q, "L2 table offset %#llx is invalid (image corrupt)",
			  (unsigned long long)l2_off);
		return -EIO;
	}
	s = &q->l2c[q->l2c_next];
	q->l2c_next = (q->l2c_next + 1) % q->l2c_n;
	s->off = 0;
	n = blk_pread(q->bd.fd, s->tab, q->cluster_size, l2_off);
	if (n < 0)
		return (int)n;
	if ((uint64_t)n != q->cluster_size)
		return -EIO;
	s->off = l2_off;
	*tab = s->tab;
	return 0;
}

/* The on-disk table at l2_off now reads tab: refresh or insert it. */
void qcow2_l2_update(struct qcow2 *q, uint64_t l2_off, const uint64_t *tab)
{
	struct qcow2_l2_slot *s = l2_find(q, l2_off);

	if (!s) {
		s = &q->l2c[q->l2c_next];
		q->l2c_next = (q->l2c_next + 1) % q->l2c_n;
	}
	if (s->tab != tab)
		memcpy(s->tab, tab, q->cluster_size);
	s->off = l2_off;
}

/* Forget the cached copy of the table at l2_off (after a failed write). */
void qcow2_l2_drop(struct qcow2 *q, uint64_t l2_off)
{
	struct qcow2_l2_slot *s = l2_find(q, l2_off);

	if (s)
		s->off = 0;
}

enum qcow2_kind qcow2_classify(struct qcow2 *q, uint64_t e, uint64_t *host,
			       uint64_t *clen)
{
	*host = 0;
	*clen = 0;
	if (e & QCOW2_OFLAG_COMPRESSED) {
		/*
		 * Spec, "Compressed Clusters Descriptor": x = 62 -
		 * (cluster_bits - 8) offset bits, then the number of extra
		 * 512-byte sectors.  Compressed clusters never have bit 63.
		 */
		unsigned int x = 62 - (q->cluster_bits - 8);
		uint64_t off = e & ((1ULL << x) - 1);
		uint64_t nsec = ((e >> x) &
				 ((1ULL << (q->cluster_bits - 8)) - 1)) + 1;

		if ((e & QCOW2_OFLAG_COPIED) || off >= q->file_size ||
		    (off >> 56))
			return QCOW2_BAD;
		*host = off;
		*clen = nsec * 512 - (off & 511);
		return QCOW2_COMPRESSED;
	}
	/* Spec, "Standard Cluster Descriptor"; bit 0 is reserved in v2. */
	if ((e & QCOW2_L2E_RESERVED) ||
	    (q->version == 2 && (e & QCOW2_OFLAG_ZERO)))
		return QCOW2_BAD;
	*host = e & QCOW2_OFFSET_MASK;
	if (!IS_ALIGNED(*host, q->cluster_size))
		return QCOW2_BAD;
	if (e & QCOW2_OFLAG_ZERO)
		return QCOW2_ZERO;
	if (!*host)
		return QCOW2_UNALLOCATED;
	/* The cluster may end past EOF (reads as zeros) but not start. */
	if (*host >= q->file_size)
		return QCOW2_BAD;
	return QCOW2_NORMAL;
}

/* The big-endian L2 entry of guest cluster vcluster (0 if no L2 table). */
int qcow2_get_entry(struct qcow2 *q, uint64_t vcluster, uint64_t *entry)
{
	uint64_t l2_off = q->l1[vcluster >> q->l2_bits] & QCOW2_OFFSET_MASK;
	uint64_t *tab;
	int ret;

	*entry = 0;
	if (!l2_off)
		return 0;
	ret = qcow2_l2_load(q, l2_off, &tab);
	if (ret)
		return ret;
	*entry = be64toh(tab[vcluster & ((1ULL << q->l2_bits) - 1)]);
	return 0;
}

/*
 * Inflate a compressed cluster (raw deflate, 4 KiB window: QEMU writes
 * it with windowBits -12) into q->dbuf.  The data must produce exactly
 * one cluster; it may end anywhere in its last sector.
 */
int qcow2_decompress(struct qcow2 *q, uint64_t entry, uint64_t host,
		     uint64_t clen)
{
	uint64_t avail = MIN(clen, q->file_size - host);
	ssize_t n;
	int zret;

	if (q->dbuf_entry == entry)
		return 0;
	q->dbuf_entry = 0;
	n = blk_pread(q->bd.fd, q->cbuf, (size_t)avail, host);
	if (n < 0)
		return (int)n;
	if (inflateReset(&q->zs) != Z_OK)
		return -EIO;
	q->zs.next_in = q->cbuf;
	q->zs.avail_in = (uInt)n;
	q->zs.next_out = q->dbuf;
	q->zs.avail_out = (uInt)q->cluster_size;
	zret = inflate(&q->zs, Z_FINISH);
	if (q->zs.avail_out ||
	    (zret != Z_STREAM_END && zret != Z_OK && zret != Z_BUF_ERROR)) {
		qcow2_err(q, "compressed cluster at host offset %#llx does not inflate (image corrupt)",
			  (unsigned long long)host);
		return -EIO;
	}
	q->dbuf_entry = entry;
	return 0;
}

/* How many bytes from guest cluster vc on map to contiguous host data. */
static uint64_t normal_run(struct qcow2 *q, uint64_t vc, uint64_t host,
			   uint64_t want)
{
	uint64_t run = q->cluster_size, e, h, clen;

	while (run < want) {
		if (qcow2_get_entry(q, ++vc, &e) ||
		    qcow2_classify(q, e, &h, &clen) != QCOW2_NORMAL ||
		    h != host + run)
			break;
		run += q->cluster_size;
	}
	return run;
}

int qcow2_preadv(struct blockdev *bd, const struct iovec *iov, int cnt,
		 uint64_t off, size_t len)
{
	struct qcow2 *q = to_qcow2(bd);
	struct iovec *sl = qcow2_scratch(q, cnt);
	struct iov_cursor c;
	uint64_t e, host, clen;
	int ret, k;

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
		case QCOW2_UNALLOCATED:
		case QCOW2_ZERO:
			iovc_zero(&c, n);
			break;
		case QCOW2_NORMAL:
			n = (size_t)MIN((uint64_t)len,
					normal_run(q, vc, host, in + len) - in);
			k = iovc_slice(&c, n, sl, cnt);
			ret = k < 0 ? k : blk_preadv_full(bd->fd, sl, k, n,
							  host + in, true);
			if (ret)
				return ret;
			break;
		case QCOW2_COMPRESSED:
			ret = qcow2_decompress(q, e, host, clen);
			if (ret)
				return ret;
			iovc_from_buf(&c, q->dbuf + in, n);
			break;
		default:
			qcow2_err(q, "invalid L2 entry %#llx for guest offset %#llx (image corrupt)",
				  (unsigned long long)e,
				  (unsigned long long)off);
			return -EIO;
		}
		off += n;
		len -= n;
	}
	return 0;
}
