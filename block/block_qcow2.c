// SPDX-License-Identifier: GPL-2.0
/*
 * qcow2 images, versions 2 and 3: opening (header validation, tables) and
 * closing.  Anything mvm does not implement is refused here with one line
 * naming the reason; see docs/block.md for the list.
 */
#include <endian.h>
#include <stdlib.h>

#include "qcow2.h"

struct qcow2_hdr {
	uint32_t magic, version, cluster_bits, crypt_method, l1_size;
	uint32_t rt_clusters, nb_snapshots, refcount_order, header_length;
	uint64_t backing_file_offset, size, l1_offset, rt_offset;
	uint64_t incompatible, autoclear;
	uint8_t compression_type;
};

static uint32_t be32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

static uint64_t be64_at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

/*
 * Does the cluster at off hold an L2 table or a refcount block?  The
 * tables that point at them are in memory (q->l1, q->rt): a linear scan,
 * short for any real image (one L1 entry per 512 MiB of disk with 64 KiB
 * clusters).
 */
static bool is_table_cluster(struct qcow2 *q, uint64_t off)
{
	uint64_t i;

	for (i = 0; q->l1 && i < q->l1_size; i++)
		if ((q->l1[i] & QCOW2_OFFSET_MASK) == off)
			return true;
	for (i = 0; q->rt && i < q->rt_entries; i++)
		if ((q->rt[i] & QCOW2_OFFSET_MASK) == off)
			return true;
	return false;
}

bool qcow2_is_data_overlap(struct qcow2 *q, uint64_t off)
{
	return qcow2_is_metadata(q, off) || is_table_cluster(q, off);
}

bool qcow2_is_metadata(struct qcow2 *q, uint64_t off)
{
	uint64_t end = off + q->cluster_size;

	return off < q->cluster_size ||
	       (q->l1_size && off < q->l1_offset + (uint64_t)q->l1_size * 8 &&
		end > q->l1_offset) ||
	       (off < q->rt_offset + q->rt_entries * 8 && end > q->rt_offset);
}

/* Spec, "Header": byte offsets of the fields. */
static int parse_header(struct qcow2 *q, struct qcow2_hdr *h)
{
	uint8_t b[QCOW2_V3_HDR_LEN + 8] = { 0 };
	ssize_t n = blk_pread(q->bd.fd, b, sizeof(b), 0);

	if (n < 0) {
		pr_errno((int)-n, "%s: cannot read the qcow2 header", q->name);
		return (int)n;
	}
	h->magic = be32_at(b);
	h->version = be32_at(b + 4);
	if (n < 8 || h->magic != QCOW2_MAGIC) {
		pr_err("%s: not a qcow2 image (bad magic)", q->name);
		return -EINVAL;
	}
	if (h->version != 2 && h->version != 3) {
		pr_err("%s: qcow2 version %u is not supported (only 2 and 3)",
		       q->name, h->version);
		return -ENOTSUP;
	}
	if (n < (h->version == 2 ? QCOW2_V2_HDR_LEN : QCOW2_V3_HDR_LEN)) {
		pr_err("%s: truncated qcow2 header (%zd bytes)", q->name, n);
		return -EINVAL;
	}
	h->backing_file_offset = be64_at(b + 8);
	h->cluster_bits = be32_at(b + 20);
	h->size = be64_at(b + 24);
	h->crypt_method = be32_at(b + 32);
	h->l1_size = be32_at(b + 36);
	h->l1_offset = be64_at(b + 40);
	h->rt_offset = be64_at(b + 48);
	h->rt_clusters = be32_at(b + 56);
	h->nb_snapshots = be32_at(b + 60);
	/* Version 2: no feature bits, 16-bit refcounts, 72-byte header. */
	h->incompatible = h->autoclear = 0;
	h->refcount_order = 4;
	h->header_length = QCOW2_V2_HDR_LEN;
	h->compression_type = 0;
	if (h->version == 3) {
		h->incompatible = be64_at(b + 72);
		h->autoclear = be64_at(b + 88);
		h->refcount_order = be32_at(b + 96);
		h->header_length = be32_at(b + 100);
		/* "Additional fields": absent unless header_length covers them. */
		if (h->header_length > 104)
			h->compression_type = b[104];
	}
	return 0;
}

static int check_features(struct qcow2 *q, const struct qcow2_hdr *h)
{
	static const char *const names[] = {
		"the dirty bit is set (it was not closed cleanly; repair it with 'qemu-img check -r all')",
		"the corrupt bit is set (repair it with 'qemu-img check -r all')",
		"it uses an external data file (not supported)",
		"it uses a non-zlib compression type (not supported)",
		"it uses extended L2 entries (not supported)",
	};
	unsigned int bit;

	/* Spec: "An implementation must fail to open an image if an unknown bit is set." */
	for (bit = 0; bit < 64; bit++) {
		if (!(h->incompatible & (1ULL << bit)))
			continue;
		if (bit < ARRAY_SIZE(names))
			pr_err("%s: cannot use this qcow2 image: %s", q->name,
			       names[bit]);
		else
			pr_err("%s: unknown qcow2 incompatible feature bit %u",
			       q->name, bit);
		return -ENOTSUP;
	}
	if (h->compression_type) {
		pr_err("%s: qcow2 compression type %u is not supported (only zlib)",
		       q->name, h->compression_type);
		return -ENOTSUP;
	}
	if (h->backing_file_offset) {
		pr_err("%s: qcow2 image has a backing file; backing files are not supported (flatten it with 'qemu-img convert')",
		       q->name);
		return -ENOTSUP;
	}
	if (h->crypt_method) {
		pr_err("%s: encrypted qcow2 images are not supported", q->name);
		return -ENOTSUP;
	}
	if (h->refcount_order > 6) {
		pr_err("%s: invalid qcow2 refcount_order %u (at most 6)",
		       q->name, h->refcount_order);
		return -EINVAL;
	}
	if (h->refcount_order != 4 && !q->bd.read_only) {
		pr_err("%s: %u-bit qcow2 refcounts are not supported for writing (only 16; use ,ro)",
		       q->name, 1U << h->refcount_order);
		return -ENOTSUP;
	}
	/* Refcounts above one would need copy-on-write, not implemented. */
	if (h->nb_snapshots && !q->bd.read_only) {
		pr_err("%s: qcow2 image has %u internal snapshots; writing to it is not supported (use ,ro)",
		       q->name, h->nb_snapshots);
		return -ENOTSUP;
	}
	return 0;
}

static int check_layout(struct qcow2 *q, const struct qcow2_hdr *h)
{
	unsigned int cb = h->cluster_bits;
	uint64_t need_l1;

	if (cb < QCOW2_MIN_CLUSTER_BITS || cb > QCOW2_MAX_CLUSTER_BITS) {
		pr_err("%s: qcow2 cluster_bits %u out of range (%u..%u)",
		       q->name, cb, QCOW2_MIN_CLUSTER_BITS,
		       QCOW2_MAX_CLUSTER_BITS);
		return -EINVAL;
	}
	q->cluster_bits = cb;
	q->cluster_size = 1ULL << cb;
	q->l2_bits = cb - 3;
	if (h->version == 3 &&
	    (h->header_length < QCOW2_V3_HDR_LEN || h->header_length % 8 ||
	     h->header_length > q->cluster_size)) {
		pr_err("%s: invalid qcow2 header_length %u", q->name,
		       h->header_length);
		return -EINVAL;
	}
	/* Spec, "Cluster mapping": each L1 entry maps 2^(2 * cb - 3) bytes. */
	need_l1 = h->size ? ((h->size - 1) >> (cb + q->l2_bits)) + 1 : 0;
	if (h->l1_size < need_l1 ||
	    (uint64_t)h->l1_size * 8 > QCOW2_MAX_L1_BYTES) {
		pr_err("%s: qcow2 L1 table size %u does not fit the virtual size %llu",
		       q->name, h->l1_size, (unsigned long long)h->size);
		return -EINVAL;
	}
	if (h->l1_size && (!h->l1_offset ||
			   !IS_ALIGNED(h->l1_offset, q->cluster_size) ||
			   !qcow2_in_file(q, h->l1_offset,
					  (uint64_t)h->l1_size * 8))) {
		pr_err("%s: qcow2 L1 table at %#llx is misaligned or past the end of the file",
		       q->name, (unsigned long long)h->l1_offset);
		return -EINVAL;
	}
	if (!h->rt_offset || !IS_ALIGNED(h->rt_offset, q->cluster_size) ||
	    !h->rt_clusters ||
	    (uint64_t)h->rt_clusters << cb > QCOW2_MAX_RT_BYTES ||
	    !qcow2_in_file(q, h->rt_offset, (uint64_t)h->rt_clusters << cb)) {
		pr_err("%s: qcow2 refcount table at %#llx (%u clusters) is misaligned, too large or past the end of the file",
		       q->name, (unsigned long long)h->rt_offset,
		       h->rt_clusters);
		return -EINVAL;
	}
	q->bd.size = h->size;
	q->l1_offset = h->l1_offset;
	q->l1_size = h->l1_size;
	q->rt_offset = h->rt_offset;
	q->rt_entries = ((uint64_t)h->rt_clusters << cb) / 8;
	q->rb_bits = cb + 3 - h->refcount_order;
	return 0;
}

/*
 * Spec, "Header extensions": after the header, up to the end of the first
 * cluster.  None changes how mvm reads (the features that matter have
 * incompatible bits), so they are only walked to check they are sane.
 */
static int check_extensions(struct qcow2 *q, const struct qcow2_hdr *h)
{
	uint64_t limit = MIN(q->cluster_size, q->file_size), pos;
	uint8_t *b = malloc(limit);
	int ret = 0;

	if (!b)
		return -ENOMEM;
	if (blk_pread(q->bd.fd, b, limit, 0) != (ssize_t)limit) {
		ret = -EIO;
		pr_err("%s: cannot read the qcow2 header cluster", q->name);
		goto out;
	}
	for (pos = h->header_length; pos + 8 <= limit;) {
		uint32_t type = be32_at(b + pos), len = be32_at(b + pos + 4);

		if (!type)
			break;
		if (len > limit - pos - 8) {
			pr_err("%s: qcow2 header extension %#x overruns the first cluster",
			       q->name, type);
			ret = -EINVAL;
			goto out;
		}
		pos += 8 + ALIGN_UP((uint64_t)len, 8);
	}
out:
	free(b);
	return ret;
}

static int load_l1(struct qcow2 *q)
{
	size_t bytes = (size_t)q->l1_size * 8;
	uint32_t i;

	q->l1 = malloc(bytes ? bytes : 1);
	if (!q->l1)
		return -ENOMEM;
	if (blk_pread(q->bd.fd, q->l1, bytes, q->l1_offset) != (ssize_t)bytes) {
		pr_err("%s: cannot read the qcow2 L1 table", q->name);
		return -EIO;
	}
	for (i = 0; i < q->l1_size; i++) {
		uint64_t e = be64toh(q->l1[i]), off = e & QCOW2_OFFSET_MASK;

		q->l1[i] = e;
		if ((e & QCOW2_L1E_RESERVED) ||
		    (off && (!IS_ALIGNED(off, q->cluster_size) ||
			     !qcow2_in_file(q, off, q->cluster_size) ||
			     qcow2_is_metadata(q, off)))) {
			pr_err("%s: qcow2 L1 entry %u (%#llx) is invalid or points past the end of the file",
			       q->name, i, (unsigned long long)e);
			return -EINVAL;
		}
	}
	return 0;
}

static int load_rt(struct qcow2 *q)
{
	size_t bytes = (size_t)q->rt_entries * 8, i;

	q->rt = malloc(bytes);
	if (!q->rt)
		return -ENOMEM;
	if (blk_pread(q->bd.fd, q->rt, bytes, q->rt_offset) != (ssize_t)bytes) {
		pr_err("%s: cannot read the qcow2 refcount table", q->name);
		return -EIO;
	}
	/* Entries are checked when used (qcow2_refcount.c). */
	for (i = 0; i < q->rt_entries; i++)
		q->rt[i] = be64toh(q->rt[i]);
	return 0;
}

static int alloc_buffers(struct qcow2 *q)
{
	uint64_t cs = q->cluster_size;
	unsigned int i;

	/* About 4 MiB of L2 tables: 16 GiB of guest disk at 64 KiB clusters. */
	q->l2c_n = (unsigned int)MAX(2ULL, MIN(32ULL, 4 * MiB / cs));
	q->l2c = calloc(q->l2c_n, sizeof(*q->l2c));
	if (!q->l2c)
		return -ENOMEM;
	for (i = 0; i < q->l2c_n; i++) {
		q->l2c[i].tab = malloc(cs);
		if (!q->l2c[i].tab)
			return -ENOMEM;
	}
	q->cbuf = malloc(2 * cs);
	q->dbuf = malloc(cs);
	q->wbuf = malloc(cs);
	q->rbuf = malloc(cs);
	if (!q->cbuf || !q->dbuf || !q->wbuf || !q->rbuf)
		return -ENOMEM;
	/* Spec, "Compressed Clusters": QEMU deflates with windowBits -12. */
	if (inflateInit2(&q->zs, -12) != Z_OK)
		return -ENOMEM;
	return 0;
}

static void qcow2_free(struct qcow2 *q)
{
	unsigned int i;

	if (q->zs.state)
		inflateEnd(&q->zs);
	for (i = 0; q->l2c && i < q->l2c_n; i++)
		free(q->l2c[i].tab);
	free(q->l2c);
	free(q->l1);
	free(q->rt);
	free(q->cbuf);
	free(q->dbuf);
	free(q->wbuf);
	free(q->rbuf);
	free(q->scratch);
	free(q);
}

static int qcow2_flush(struct blockdev *bd)
{
	return qcow2_sync(to_qcow2(bd));
}

static int qcow2_discard(struct blockdev *bd, uint64_t off, uint64_t len)
{
	return -EOPNOTSUPP;
}

static void qcow2_close(struct blockdev *bd)
{
	qcow2_free(to_qcow2(bd));
}

static const struct blockdev_ops qcow2_ops = {
	.preadv = qcow2_preadv,
	.pwritev = qcow2_pwritev,
	.flush = qcow2_flush,
	.discard = qcow2_discard,
	.close = qcow2_close,
};

/*
 * Spec, "autoclear_features": a writer must clear the bits it does not
 * maintain (all of them, for mvm) before writing anything else.
 */
static int clear_autoclear(struct qcow2 *q, const struct qcow2_hdr *h)
{
	uint64_t zero = 0;
	int ret;

	if (q->bd.read_only || !h->autoclear)
		return 0;
	ret = blk_pwrite(q->bd.fd, &zero, sizeof(zero), 88);
	if (!ret)
		ret = qcow2_sync(q);
	if (ret)
		pr_errno(-ret, "%s: cannot clear the qcow2 autoclear features",
			 q->name);
	return ret;
}

int qcow2_open(int fd, const char *path, bool ro, const struct stat *st,
	       struct blockdev **out)
{
	struct qcow2_hdr h = { 0 };
	struct qcow2 *q;
	int ret;

	if (!S_ISREG(st->st_mode)) {
		pr_err("%s: qcow2 images must be regular files", path);
		return -EINVAL;
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		pr_err("%s: out of memory", path);
		return -ENOMEM;
	}
	q->name = path;
	q->bd.ops = &qcow2_ops;
	q->bd.format = "qcow2";
	q->bd.read_only = ro;
	q->bd.fd = fd;
	q->file_size = (uint64_t)st->st_size;
	ret = parse_header(q, &h);
	if (!ret)
		ret = check_features(q, &h);
	if (!ret)
		ret = check_layout(q, &h);
	if (!ret)
		ret = check_extensions(q, &h);
	if (!ret)
		ret = load_l1(q);
	if (!ret)
		ret = load_rt(q);
	if (!ret) {
		ret = alloc_buffers(q);
		if (ret)
			pr_err("%s: out of memory", path);
	}
	if (!ret)
		ret = clear_autoclear(q, &h);
	if (ret) {
		qcow2_free(q);
		return ret;
	}
	q->version = h.version;
	q->alloc_end = ALIGN_UP(q->file_size, q->cluster_size);
	*out = &q->bd;
	return 0;
}
