/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qcow2 backend internals.  Format references are to QEMU's
 * docs/interop/qcow2.txt ("the spec"); all on-disk numbers are big-endian.
 *
 * Files: block_qcow2.c (open, header checks, close), qcow2_map.c (L1/L2
 * lookup, L2 cache, reads, decompression), qcow2_write.c (writes and
 * copy-on-write of compressed clusters), qcow2_refcount.c (refcounts and
 * cluster allocation).
 */
#ifndef MVM_QCOW2_H
#define MVM_QCOW2_H

#include <zlib.h>

#include "block_int.h"
#include "core/util.h"

/* Spec, "Header": v2 headers are 72 bytes, v3 at least 104. */
#define QCOW2_V2_HDR_LEN	72
#define QCOW2_V3_HDR_LEN	104
#define QCOW2_MIN_CLUSTER_BITS	9	/* "Must not be less than 9" */
#define QCOW2_MAX_CLUSTER_BITS	21	/* QEMU's 2 MiB limit, ditto */
#define QCOW2_MAX_L1_BYTES	(32 * MiB)	/* QEMU's L1 table limit */
#define QCOW2_MAX_RT_BYTES	(8 * MiB)	/* QEMU's refcount table limit */

/* Spec, "incompatible_features". */
#define QCOW2_INCOMPAT_DIRTY	(1ULL << 0)
#define QCOW2_INCOMPAT_CORRUPT	(1ULL << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ULL << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ULL << 3)
#define QCOW2_INCOMPAT_EXTL2	(1ULL << 4)

/* Spec, "Cluster mapping": L1 and L2 entries. */
#define QCOW2_OFLAG_COPIED	(1ULL << 63)	/* refcount is exactly one */
#define QCOW2_OFLAG_COMPRESSED	(1ULL << 62)
#define QCOW2_OFLAG_ZERO	(1ULL << 0)	/* v3 standard clusters */
#define QCOW2_OFFSET_MASK	0x00fffffffffffe00ULL	/* bits 9-55 */
#define QCOW2_L1E_RESERVED	0x7f000000000001ffULL	/* bits 0-8, 56-62 */
#define QCOW2_L2E_RESERVED	0x3f000000000001feULL	/* bits 1-8, 56-61 */
/* Spec, "Host cluster management": refcount table entries. */
#define QCOW2_RTE_RESERVED	0x1ffULL		/* bits 0-8 */

enum qcow2_kind {
	QCOW2_UNALLOCATED,	/* reads as zeros (no backing file) */
	QCOW2_ZERO,		/* zero flag; *host may hold a preallocation */
	QCOW2_NORMAL,		/* data at *host */
	QCOW2_COMPRESSED,	/* zlib data at *host, *clen bytes at most */
	QCOW2_BAD,		/* reserved bits, misalignment, past EOF */
};

struct qcow2_l2_slot {
	uint64_t off;		/* host offset of the table; 0 = empty slot */
	uint64_t *tab;		/* cluster_size bytes, big-endian entries */
};

struct qcow2 {
	struct blockdev bd;
	const char *name;	/* for messages (the path) */
	struct ratelimit rl;	/* run-time errors come from the guest */

	uint32_t version;
	unsigned int cluster_bits;
	uint64_t cluster_size;
	unsigned int l2_bits;	/* log2(entries per L2 table) */
	uint64_t file_size;	/* current end of the image file */
	uint64_t alloc_end;	/* where the next new cluster goes */

	uint64_t l1_offset;
	uint32_t l1_size;
	uint64_t *l1;		/* host-endian copy of the active L1 table */

	uint64_t rt_offset;
	uint64_t rt_entries;
	uint64_t *rt;		/* host-endian copy of the refcount table */
	unsigned int rb_bits;	/* log2(entries per refcount block) */

	struct qcow2_l2_slot *l2c;
	unsigned int l2c_n, l2c_next;

	z_stream zs;
	uint8_t *cbuf;		/* compressed input: up to two clusters */
	uint8_t *dbuf;		/* last decompressed cluster */
	uint64_t dbuf_entry;	/* its L2 entry; 0 = dbuf empty */
	uint8_t *wbuf;		/* a cluster under construction */
	uint8_t *rbuf;		/* refcount entries being read/written */
	struct iovec *scratch;
	int scratch_cnt;
};

#define qcow2_err(q, fmt, ...)						\
	do {								\
		if (ratelimit_allow(&(q)->rl))				\
			pr_err("%s: " fmt, (q)->name, ##__VA_ARGS__);	\
	} while (0)

static inline struct qcow2 *to_qcow2(struct blockdev *bd)
{
	return container_of(bd, struct qcow2, bd);
}

/* [off, off + len) lies inside the image file. */
static inline bool qcow2_in_file(struct qcow2 *q, uint64_t off, uint64_t len)
{
	return off <= q->file_size && len <= q->file_size - off;
}

/* True if a cluster at off would overlap the header, L1 or refcount table. */
bool qcow2_is_metadata(struct qcow2 *q, uint64_t off);
/* The same, or an L2 table or refcount block: no data cluster may be. */
bool qcow2_is_data_overlap(struct qcow2 *q, uint64_t off);

/* qcow2_map.c */
int qcow2_l2_load(struct qcow2 *q, uint64_t l2_off, uint64_t **tab);
void qcow2_l2_update(struct qcow2 *q, uint64_t l2_off, const uint64_t *tab);
void qcow2_l2_drop(struct qcow2 *q, uint64_t l2_off);
enum qcow2_kind qcow2_classify(struct qcow2 *q, uint64_t entry,
			       uint64_t *host, uint64_t *clen);
int qcow2_get_entry(struct qcow2 *q, uint64_t vcluster, uint64_t *entry);
int qcow2_decompress(struct qcow2 *q, uint64_t entry, uint64_t host,
		     uint64_t clen);
struct iovec *qcow2_scratch(struct qcow2 *q, int cnt);
int qcow2_preadv(struct blockdev *bd, const struct iovec *iov, int cnt,
		 uint64_t off, size_t len);

/* qcow2_write.c */
int qcow2_pwritev(struct blockdev *bd, const struct iovec *iov, int cnt,
		  uint64_t off, size_t len);

/* qcow2_refcount.c */
int qcow2_refcount(struct qcow2 *q, uint64_t off, uint64_t *rc);
int qcow2_reserve(struct qcow2 *q, unsigned int n, uint64_t *off);
int qcow2_grow(struct qcow2 *q);
int qcow2_rc_check_free(struct qcow2 *q, uint64_t off, unsigned int n);
int qcow2_rc_set_one(struct qcow2 *q, uint64_t off, unsigned int n);
void qcow2_rc_release(struct qcow2 *q, uint64_t off, uint64_t len);
int qcow2_sync(struct qcow2 *q);

#endif
