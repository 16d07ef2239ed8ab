// SPDX-License-Identifier: GPL-2.0
/*
 * The qcow2 backend on synthetic images built here: reads of every cluster
 * kind, writes that allocate (data, L2 tables, refcount blocks) or copy
 * compressed clusters, and each kind of corrupt or unsupported image,
 * which must be refused at open or fail with -EIO, never crash.
 *
 * With arguments it is the helper of tests/cli/qcow2-interop.t:
 *   --dump SPEC OUT           copy the whole virtual disk to the file OUT
 *   --write SPEC OFF LEN BYTE write LEN bytes of value BYTE at OFF
 *   --info SPEC               print "FORMAT SIZE"
 */
#include <endian.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "tap.h"
#include "lib/capture.h"
#include "block/blockdev.h"
#include "core/util.h"

/* ---- helper mode for the interoperability test ---- */

static int tool_dump(const char *spec, const char *out)
{
	struct blockdev *bd;
	uint64_t off = 0;
	size_t chunk = 0;
	uint8_t *buf;
	int fd, ret;

	if (blockdev_open(spec, &bd))
		return 1;
	buf = malloc(1 * MiB);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ret = !buf || fd < 0;
	while (!ret && off < bd->size) {
		/* Odd sizes and three iovecs to cross cluster edges oddly. */
		size_t n = MIN(bd->size - off, (uint64_t)(chunk++ % 2 ?
						 1 * MiB : 70000));
		struct iovec v[3] = {
			{ buf, n / 3 }, { buf + n / 3, n / 3 },
			{ buf + 2 * (n / 3), n - 2 * (n / 3) },
		};

		ret = blockdev_preadv(bd, v, 3, off) ||
		      write(fd, buf, n) != (ssize_t)n;
		off += n;
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	blockdev_close(bd);
	return ret;
}

static int tool_write(const char *spec, uint64_t off, size_t len, int byte)
{
	struct blockdev *bd;
	uint8_t *buf;
	int ret;

	if (blockdev_open(spec, &bd))
		return 1;
	buf = malloc(len ? len : 1);
	if (!buf) {
		blockdev_close(bd);
		return 1;
	}
	memset(buf, byte, len);
	{
		struct iovec v[2] = { { buf, len / 2 },
				      { buf + len / 2, len - len / 2 } };

		ret = blockdev_pwritev(bd, v, 2, off);
	}
	if (ret)
		fprintf(stderr, "write: %s\n", strerror(-ret));
	if (!ret)
		ret = blockdev_flush(bd);
	free(buf);
	blockdev_close(bd);
	return !!ret;
}

static int tool(int argc, char **argv)
{
	struct blockdev *bd;

	if (argc == 4 && !strcmp(argv[1], "--dump"))
		return tool_dump(argv[2], argv[3]);
	if (argc == 6 && !strcmp(argv[1], "--write"))
		return tool_write(argv[2], strtoull(argv[3], NULL, 0),
				  strtoull(argv[4], NULL, 0),
				  (int)strtol(argv[5], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "--info")) {
		if (blockdev_open(argv[2], &bd))
			return 1;
		printf("%s %llu\n", bd->format, (unsigned long long)bd->size);
		blockdev_close(bd);
		return 0;
	}
	fprintf(stderr, "usage: %s [--dump SPEC OUT | --write SPEC OFF LEN BYTE | --info SPEC]\n",
		argv[0]);
	return 2;
}

/* ---- synthetic images ---- */

/*
 * 4 KiB clusters, 4 MiB virtual disk (two L1 entries), laid out as
 *   0 header   1 L1   2 refcount table   3 refcount block   4 L2 table
 *   5 data of guest cluster 0 (bytes i * 7 + 1)
 *   6 compressed guest cluster 1 (bytes i % 251), file ends after it
 * guest cluster 2 is a v3 zero cluster, 3 and beyond unallocated.
 */
#define CB		12
#define CS		(1U << CB)
#define VSIZE		(4 * MiB)
#define H_L1		(1 * CS)
#define H_RT		(2 * CS)
#define H_RB		(3 * CS)
#define H_L2		(4 * CS)
#define H_DATA		(5 * CS)
#define H_COMP		(6 * CS)
#define COPIED		(1ULL << 63)

static char dir[64];
static char path[256];
static uint8_t img[8 * CS];
static size_t img_len;

static void be32_put(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static void be64_put(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

static void be16_put(uint8_t *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, 2);
}

static uint64_t be64_get(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

static uint8_t pat_data(uint64_t i)
{
	return (uint8_t)(i * 7 + 1);
}

static uint8_t pat_comp(uint64_t i)
{
	return (uint8_t)(i % 251);
}

/* Raw deflate (windowBits -12), as QEMU writes compressed clusters. */
static size_t deflate_cluster(uint8_t *out, size_t cap)
{
	uint8_t in[CS];
	z_stream zs = { 0 };
	size_t n;
	int i;

	for (i = 0; i < (int)CS; i++)
		in[i] = pat_comp((uint64_t)i);
	deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, -12, 9,
		     Z_DEFAULT_STRATEGY);
	zs.next_in = in;
	zs.avail_in = CS;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	deflate(&zs, Z_FINISH);
	n = cap - zs.avail_out;
	deflateEnd(&zs);
	return n;
}

static void build(int version)
{
	uint8_t *h = img;
	size_t clen;
	int i;

	memset(img, 0, sizeof(img));
	be32_put(h, 0x514649fb);
	be32_put(h + 4, (uint32_t)version);
	be32_put(h + 20, CB);
	be64_put(h + 24, VSIZE);
	be32_put(h + 36, 2);			/* l1_size */
	be64_put(h + 40, H_L1);
	be64_put(h + 48, H_RT);
	be32_put(h + 56, 1);			/* refcount_table_clusters */
	if (version == 3) {
		be32_put(h + 96, 4);		/* refcount_order */
		be32_put(h + 100, 104);		/* header_length */
	}
	be64_put(img + H_L1, H_L2 | COPIED);
	be64_put(img + H_RT, H_RB);
	for (i = 0; i < 7; i++)
		be16_put(img + H_RB + 2 * i, 1);
	be64_put(img + H_L2, H_DATA | COPIED);
	for (i = 0; i < (int)CS; i++)
		img[H_DATA + i] = pat_data((uint64_t)i);
	/* Compressed: offset, then (sectors - 1) at bit 62 - (CB - 8). */
	clen = deflate_cluster(img + H_COMP, CS);
	be64_put(img + H_L2 + 8, (1ULL << 62) | H_COMP |
		 ((uint64_t)((clen + 511) / 512 - 1) << (62 - (CB - 8))));
	if (version == 3)
		be64_put(img + H_L2 + 16, 1);	/* zero flag, no host */
	img_len = H_COMP + clen;
}

static void save(void)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, img, img_len) != (ssize_t)img_len) {
		perror(path);
		exit(1);
	}
	close(fd);
}

static uint64_t file_u64(uint64_t off)
{
	uint8_t b[8] = { 0 };
	int fd = open(path, O_RDONLY);

	if (pread(fd, b, 8, (off_t)off) != 8)
		memset(b, 0xee, 8);
	close(fd);
	return be64_get(b);
}

static unsigned int file_u16(uint64_t off)
{
	uint8_t b[2] = { 0xee, 0xee };
	int fd = open(path, O_RDONLY);

	if (pread(fd, b, 2, (off_t)off) != 2)
		memset(b, 0xee, 2);
	close(fd);
	return (unsigned int)(b[0] << 8 | b[1]);
}

static uint64_t file_size(void)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_size;
}

/* ---- stderr capture: each refusal must be one "mvm: FILE: ..." line ---- */

static const char *errbuf;	/* what the last capture caught */

static bool one_line_with(const char *what)
{
	return one_error_line(errbuf, path) && strstr(errbuf, what);
}

static void expect_refused(const char *opts, int err, const char *what,
			   const char *name)
{
	struct blockdev *bd = NULL;
	char spec[300];
	int ret;

	save();
	snprintf(spec, sizeof(spec), "%s%s", path, opts);
	capture_start();
	ret = blockdev_open(spec, &bd);
	errbuf = capture_end();
	is_int(ret, -err, "%s: refused", name);
	ok(!bd && one_line_with(what), "%s: one line saying '%s'", name, what);
	if (!one_line_with(what))
		tap_diag("stderr: %s", errbuf);
	blockdev_close(bd);
}

static struct blockdev *open_ok(const char *opts)
{
	struct blockdev *bd = NULL;
	char spec[300];

	snprintf(spec, sizeof(spec), "%s%s", path, opts);
	if (blockdev_open(spec, &bd))
		return NULL;
	return bd;
}

/* ---- tests ---- */

static bool check_clusters(struct blockdev *bd, uint64_t off, size_t len,
			   uint8_t (*pat)(uint64_t), uint64_t pat_base)
{
	uint8_t *b = malloc(len);
	bool good;
	size_t i;

	good = b && !blockdev_pread(bd, b, len, off);
	for (i = 0; good && i < len; i++)
		good = b[i] == (pat ? pat(pat_base + i) : 0);
	free(b);
	return good;
}

static void test_read(int version)
{
	struct blockdev *bd;
	uint8_t b[3 * CS];
	bool good = true;
	int i;

	build(version);
	save();
	bd = open_ok(",ro");
	ok(bd, "v%d: opens", version);
	if (!bd)
		return;
	ok(!strcmp(bd->format, "qcow2") && bd->size == VSIZE && bd->read_only,
	   "v%d: format, size, read-only", version);
	ok(check_clusters(bd, 0, CS, pat_data, 0), "v%d: data cluster",
	   version);
	ok(check_clusters(bd, CS, CS, pat_comp, 0),
	   "v%d: compressed cluster inflates", version);
	ok(check_clusters(bd, CS + 100, 1000, pat_comp, 100),
	   "v%d: part of a compressed cluster", version);
	ok(check_clusters(bd, 2 * CS, 2 * CS, NULL, 0),
	   "v%d: zero and unallocated clusters read zeros", version);
	ok(check_clusters(bd, VSIZE - CS, CS, NULL, 0),
	   "v%d: no L2 table reads zeros", version);
	{
		/* One request over three kinds of cluster, five iovecs. */
		struct iovec v[5] = {
			{ b, 1 }, { b + 1, CS }, { b + 1 + CS, 0 },
			{ b + 1 + CS, CS + 7 }, { b + 8 + 2 * CS, CS - 100 },
		};

		is_int(blockdev_preadv(bd, v, 5, 50), 0,
		       "v%d: request across clusters", version);
		for (i = 0; i < (int)sizeof(b) - 92; i++) {
			uint64_t o = 50 + (uint64_t)i;
			uint8_t want = o < CS ? pat_data(o) :
				       o < 2 * CS ? pat_comp(o - CS) : 0;

			good &= b[i] == want;
		}
		ok(good, "v%d: its bytes", version);
	}
	is_int(blockdev_pread(bd, b, 2, VSIZE - 1), -EINVAL,
	       "v%d: read past the end", version);
	is_int(blockdev_pwrite(bd, b, 1, 0), -EROFS,
	       "v%d: write to read-only", version);
	blockdev_close(bd);
}

static void test_write(int version)
{
	uint8_t b[2 * CS + 300];
	struct blockdev *bd;
	uint64_t end = ALIGN_UP((uint64_t)img_len, CS), e;

	build(version);
	end = ALIGN_UP((uint64_t)img_len, CS);
	save();
	bd = open_ok("");
	ok(bd && !bd->read_only && !bd->discard, "v%d: opens read-write",
	   version);
	if (!bd)
		return;
	memset(b, 0xa5, sizeof(b));
	/* In place. */
	is_int(blockdev_pwrite(bd, b, 10, 5), 0, "v%d: write in place",
	       version);
	/* Unallocated cluster 3: a new cluster at the end of the file. */
	is_int(blockdev_pwrite(bd, b, 300, 3 * CS + 100), 0,
	       "v%d: write to an unallocated cluster", version);
	/* Compressed cluster 1: copied into a new cluster. */
	is_int(blockdev_pwrite(bd, b, 16, CS + 8), 0,
	       "v%d: write into a compressed cluster", version);
	/* Guest 2 MiB: L1[1] is empty, so a new L2 table too. */
	is_int(blockdev_pwrite(bd, b, 8, 2 * MiB + CS), 0,
	       "v%d: write needing a new L2 table", version);
	/* A run of three unallocated clusters, partial at both ends. */
	is_int(blockdev_pwrite(bd, b, sizeof(b), 8 * CS + CS / 2), 0,
	       "v%d: write over several unallocated clusters", version);
	if (version == 3)
		is_int(blockdev_pwrite(bd, b, 4, 2 * CS + 4), 0,
		       "v3: write to a zero cluster");
	is_int(blockdev_flush(bd), 0, "v%d: flush", version);
	blockdev_close(bd);

	/* On disk: cluster 3 -> end, 1 -> end + 1, L2 at end + 3. */
	e = file_u64(H_L2 + 3 * 8);
	is_int(e, end | COPIED, "v%d: L2 entry of cluster 3", version);
	is_int(file_u16(H_RB + 2 * (end / CS)), 1,
	       "v%d: its refcount is 1", version);
	is_int(file_u64(H_L2 + 8), (end + CS) | COPIED,
	       "v%d: compressed cluster replaced", version);
	is_int(file_u16(H_RB + 2 * 6), 0,
	       "v%d: old compressed cluster's refcount dropped", version);
	is_int(file_u64(H_L1 + 8), (end + 3 * CS) | COPIED,
	       "v%d: new L1 entry points at the new L2 table", version);
	is_int(file_u64(end + 3 * CS + 8), (end + 2 * CS) | COPIED,
	       "v%d: which maps guest 2 MiB + 4 KiB", version);
	is_int(file_u16(H_RB + 2 * (end / CS + 3)), 1,
	       "v%d: new L2 table's refcount is 1", version);
	is_int(file_u64(H_L2 + 8 * 8), (end + 4 * CS) | COPIED,
	       "v%d: run: first cluster", version);
	is_int(file_u64(H_L2 + 10 * 8), (end + 6 * CS) | COPIED,
	       "v%d: run: contiguous host clusters", version);

	bd = open_ok(",ro");
	ok(bd, "v%d: reopens", version);
	if (!bd)
		return;
	ok(check_clusters(bd, 0, 5, pat_data, 0) &&
	   check_clusters(bd, 15, CS - 15, pat_data, 15),
	   "v%d: in-place write kept the rest", version);
	ok(check_clusters(bd, 5, 10, NULL, 0) == false, "v%d: and changed 10 bytes",
	   version);
	ok(check_clusters(bd, 3 * CS, 100, NULL, 0) &&
	   check_clusters(bd, 3 * CS + 400, CS - 400, NULL, 0),
	   "v%d: new cluster is zeros around the data", version);
	ok(check_clusters(bd, CS, 8, pat_comp, 0) &&
	   check_clusters(bd, CS + 24, CS - 24, pat_comp, 24),
	   "v%d: copied compressed cluster keeps its data", version);
	{
		uint8_t r[sizeof(b)];
		bool good = !blockdev_pread(bd, r, sizeof(r), 8 * CS + CS / 2);

		good = good && !memcmp(r, b, sizeof(b));
		ok(good, "v%d: run reads back", version);
	}
	if (version == 3)
		ok(check_clusters(bd, 2 * CS, 4, NULL, 0) &&
		   check_clusters(bd, 2 * CS + 8, CS - 8, NULL, 0),
		   "v3: former zero cluster");
	blockdev_close(bd);
}

/* A v3 zero cluster with a preallocated host cluster is written in place. */
static void test_zero_prealloc(void)
{
	struct blockdev *bd;
	uint8_t b[4] = { 1, 2, 3, 4 };

	build(3);
	be64_put(img + H_L2 + 16, H_DATA | COPIED | 1);	/* over cluster 5 */
	be64_put(img + H_L2, 0);			/* cluster 0 unused */
	save();
	bd = open_ok("");
	ok(bd && check_clusters(bd, 2 * CS, CS, NULL, 0),
	   "preallocated zero cluster reads zeros");
	ok(bd && !blockdev_pwrite(bd, b, 4, 2 * CS + 40),
	   "write to it");
	ok(bd && check_clusters(bd, 2 * CS, 40, NULL, 0) &&
	   check_clusters(bd, 2 * CS + 44, CS - 44, NULL, 0),
	   "the rest reads zeros, not the old data");
	blockdev_close(bd);
	is_int(file_u64(H_L2 + 16), H_DATA | COPIED,
	       "zero flag cleared, same host cluster");
}

/* Allocation that needs a new refcount block, then a full table. */
static void test_refblocks(void)
{
	struct blockdev *bd;
	uint8_t b[8] = "newblock";
	int ret;

	build(3);
	save();
	/* Sparse: the next cluster (2048) is beyond the first block's reach. */
	ok(!truncate(path, 8 * MiB), "grow the file to 8 MiB");
	bd = open_ok("");
	ok(bd && !blockdev_pwrite(bd, b, 8, 3 * CS),
	   "write needing a new refcount block");
	blockdev_close(bd);
	is_int(file_u64(H_L2 + 24), (8 * MiB) | COPIED, "data at 8 MiB");
	is_int(file_u64(H_RT + 8), 8 * MiB + CS,
	       "refcount table entry 1 -> new block after the data");
	is_int(file_u16(8 * MiB + CS), 1, "data refcount in the new block");
	is_int(file_u16(8 * MiB + CS + 2), 1, "new block counts itself");

	/* 512 entries * 2048 clusters * 4 KiB: the table covers 4 GiB. */
	build(3);
	save();
	ok(!truncate(path, 4 * GiB), "grow the file to 4 GiB");
	bd = open_ok("");
	capture_start();
	ret = bd ? blockdev_pwrite(bd, b, 8, 3 * CS) : 0;
	errbuf = capture_end();
	is_int(ret, -ENOSPC, "refcount table full: write refused");
	ok(one_line_with("refcount table is full"), "with a clear message");
	blockdev_close(bd);
	is_int(file_u64(H_L2 + 24), 0, "L2 untouched");
	is_int(file_size(), 4 * GiB, "file not grown");
}

static void expect_io_error(bool write, uint64_t off, const char *what,
			    const char *name)
{
	struct blockdev *bd;
	uint8_t b[16] = { 0 };
	int ret = 0;

	save();
	bd = open_ok(write ? "" : ",ro");
	ok(bd, "%s: opens", name);
	if (!bd)
		return;
	capture_start();
	ret = write ? blockdev_pwrite(bd, b, sizeof(b), off) :
		      blockdev_pread(bd, b, sizeof(b), off);
	errbuf = capture_end();
	is_int(ret, -EIO, "%s: -EIO", name);
	ok(one_line_with(what), "%s: says '%s'", name, what);
	if (!one_line_with(what))
		tap_diag("stderr: %s", errbuf);
	blockdev_close(bd);
}

static void test_runtime_corruption(void)
{
	uint64_t before;

	build(3);
	be64_put(img + H_L2, 64 * CS | COPIED);
	expect_io_error(false, 0, "invalid L2 entry", "data pointer past EOF");
	expect_io_error(true, 0, "invalid L2 entry",
			"write to data pointer past EOF");
	build(3);
	be64_put(img + H_L2, (H_DATA + 512) | COPIED);
	expect_io_error(false, 0, "invalid L2 entry", "misaligned data pointer");
	build(3);
	be64_put(img + H_L2, H_DATA | COPIED | (1ULL << 58));
	expect_io_error(false, 0, "invalid L2 entry", "L2 reserved bits");
	build(2);
	be64_put(img + H_L2 + 16, 1);
	expect_io_error(false, 2 * CS, "invalid L2 entry",
			"zero flag in a v2 image");
	build(3);
	be64_put(img + H_L2 + 8, (1ULL << 62) | 64 * CS);
	expect_io_error(false, CS, "invalid L2 entry",
			"compressed pointer past EOF");
	build(3);
	memset(img + H_COMP, 0x55, 64);
	expect_io_error(false, CS, "does not inflate", "garbage compressed data");
	expect_io_error(true, CS, "does not inflate",
			"write to garbage compressed data");
	build(3);
	be64_put(img + H_L2, H_L1 | COPIED);
	expect_io_error(true, 0, "overlaps the image header or tables",
			"data cluster on the L1 table");
	/* Data clusters on the image's own L2 table or refcount block: a
	 * guest write there would rewrite the image's metadata. */
	build(3);
	be64_put(img + H_L2, H_L2 | COPIED);
	expect_io_error(true, 0, "overlaps the image header or tables",
			"data cluster on an L2 table");
	is_int(file_u64(H_L2), H_L2 | COPIED,
	       "data cluster on an L2 table: the table is untouched");
	build(3);
	be64_put(img + H_L2, H_RB | COPIED);
	expect_io_error(true, 0, "overlaps the image header or tables",
			"data cluster on a refcount block");
	build(3);
	be64_put(img + H_L2, H_DATA);		/* no COPIED: refcount says 2 */
	be16_put(img + H_RB + 2 * 5, 2);
	expect_io_error(true, 0, "has refcount 2", "shared cluster");
	build(3);
	be64_put(img + H_RT, H_RB + 100);
	expect_io_error(true, 3 * CS, "refcount block offset",
			"bad refcount block pointer");
	/* The next free cluster (7) already counts 0xffff references. */
	build(3);
	be16_put(img + H_RB + 2 * 7, 0xffff);
	before = (uint64_t)img_len;
	expect_io_error(true, 3 * CS, "refcount overflow", "refcount overflow");
	is_int(file_u64(H_L2 + 24), 0, "refcount overflow: L2 untouched");
	is_int(file_size(), before, "refcount overflow: file not grown");
	build(3);
	be16_put(img + H_RB + 2 * 7, 3);
	expect_io_error(true, 3 * CS, "has refcount 3",
			"free cluster already counted");
}

static void test_refused(void)
{
	build(3);
	img[0] = 'X';
	expect_refused(",format=qcow2", EINVAL, "bad magic", "bad magic");
	build(3);
	be32_put(img + 4, 1);
	expect_refused("", ENOTSUP, "version 1 is not supported", "version 1");
	build(3);
	be32_put(img + 4, 4);
	expect_refused("", ENOTSUP, "version 4 is not supported", "version 4");
	build(3);
	img_len = 50;
	expect_refused("", EINVAL, "truncated qcow2 header", "truncated v3");
	build(2);
	img_len = 60;
	expect_refused("", EINVAL, "truncated qcow2 header", "truncated v2");
	build(3);
	be32_put(img + 20, 8);
	expect_refused("", EINVAL, "cluster_bits 8 out of range",
		       "cluster_bits 8");
	build(3);
	be32_put(img + 20, 22);
	expect_refused("", EINVAL, "cluster_bits 22 out of range",
		       "cluster_bits 22");
	build(3);
	be64_put(img + 40, 64 * CS);
	expect_refused("", EINVAL, "L1 table at 0x40000 is misaligned or past the end",
		       "L1 past EOF");
	build(3);
	be64_put(img + 40, CS + 8);
	expect_refused("", EINVAL, "L1 table at", "L1 misaligned");
	build(3);
	be32_put(img + 36, 1);
	expect_refused("", EINVAL, "does not fit the virtual size",
		       "L1 smaller than the disk");
	build(3);
	be64_put(img + H_L1, 64 * CS | COPIED);
	expect_refused(",ro", EINVAL, "L1 entry 0", "L2 pointer past EOF");
	build(3);
	be64_put(img + H_L1, (H_L2 + 512) | COPIED);
	expect_refused(",ro", EINVAL, "L1 entry 0", "L2 pointer misaligned");
	build(3);
	be64_put(img + H_L1 + 8, H_L1);
	expect_refused(",ro", EINVAL, "L1 entry 1", "L2 table on the L1 table");
	build(3);
	be64_put(img + 48, 64 * CS);
	expect_refused("", EINVAL, "refcount table", "refcount table past EOF");
	build(3);
	be64_put(img + 72, 1ULL << 7);
	expect_refused("", ENOTSUP, "unknown qcow2 incompatible feature bit 7",
		       "unknown incompatible feature");
	build(3);
	be64_put(img + 72, 1);
	expect_refused(",ro", ENOTSUP, "dirty bit", "dirty image");
	build(3);
	be64_put(img + 72, 2);
	expect_refused("", ENOTSUP, "corrupt bit", "corrupt image");
	build(3);
	be64_put(img + 72, 4);
	expect_refused("", ENOTSUP, "external data file", "external data file");
	build(3);
	be64_put(img + 72, 16);
	expect_refused("", ENOTSUP, "extended L2", "extended L2 entries");
	build(3);
	be32_put(img + 100, 112);
	img[104] = 1;
	expect_refused("", ENOTSUP, "compression type 1", "zstd compression");
	build(3);
	be64_put(img + 8, 200);
	be32_put(img + 16, 4);
	memcpy(img + 200, "base", 4);
	expect_refused(",ro", ENOTSUP, "backing file", "backing file");
	build(2);
	be64_put(img + 8, 200);
	expect_refused(",ro", ENOTSUP, "backing file", "v2 backing file");
	build(3);
	be32_put(img + 32, 2);
	expect_refused(",ro", ENOTSUP, "encrypted", "LUKS encryption");
	build(3);
	be32_put(img + 96, 7);
	expect_refused(",ro", EINVAL, "refcount_order 7", "refcount_order 7");
	build(3);
	be32_put(img + 96, 3);
	expect_refused("", ENOTSUP, "8-bit qcow2 refcounts", "8-bit refcounts");
	build(3);
	be32_put(img + 60, 1);
	expect_refused("", ENOTSUP, "1 internal snapshots", "snapshots");
	build(3);
	be32_put(img + 100, 100);
	expect_refused("", EINVAL, "header_length", "header_length 100");
	build(3);
	be32_put(img + 104, 0x12345678);
	be32_put(img + 108, CS);
	expect_refused("", EINVAL, "overruns the first cluster",
		       "header extension too long");
}

static void test_accepted_variants(void)
{
	struct blockdev *bd;

	/* 8-bit refcounts and snapshots are fine for reading. */
	build(3);
	be32_put(img + 96, 3);
	save();
	bd = open_ok(",ro");
	ok(bd && check_clusters(bd, 0, CS, pat_data, 0),
	   "8-bit refcounts: readable with ,ro");
	blockdev_close(bd);
	build(3);
	be32_put(img + 60, 2);
	save();
	bd = open_ok(",ro");
	ok(bd && check_clusters(bd, CS, CS, pat_comp, 0),
	   "snapshots: active disk readable with ,ro");
	blockdev_close(bd);
	/* Header extensions are skipped; autoclear bits are cleared. */
	build(3);
	be32_put(img + 104, 0x6803f857);	/* feature name table */
	be32_put(img + 108, 48);
	memcpy(img + 114, "dirty bit", 9);
	be64_put(img + 88, 1);			/* bitmaps autoclear bit */
	save();
	bd = open_ok("");
	ok(bd && check_clusters(bd, 0, CS, pat_data, 0),
	   "header extensions skipped");
	blockdev_close(bd);
	is_int(file_u64(88), 0, "autoclear bits cleared by a writer");
	/* format=raw forces raw even on a qcow2 file. */
	build(3);
	save();
	bd = open_ok(",format=raw,ro");
	ok(bd && !strcmp(bd->format, "raw") && bd->size == img_len,
	   "format=raw opens the container as raw");
	blockdev_close(bd);
}

static void test_locking(void)
{
	struct blockdev *a, *b = NULL;
	int ret;

	build(3);
	save();
	a = open_ok("");
	capture_start();
	ret = blockdev_open(path, &b);
	errbuf = capture_end();
	is_int(ret, -EBUSY, "second writer refused");
	ok(one_line_with("image is locked by another process (is another VM using it?)"),
	   "with the lock message");
	capture_start();
	ret = blockdev_open(path, &b);
	errbuf = capture_end();
	is_int(ret, -EBUSY, "reader refused while a writer holds it");
	blockdev_close(a);
	a = open_ok(",ro");
	b = open_ok(",ro");
	ok(a && b, "two readers share it");
	blockdev_close(b);
	b = NULL;
	capture_start();
	ret = blockdev_open(path, &b);
	errbuf = capture_end();
	is_int(ret, -EBUSY, "writer refused while a reader holds it");
	blockdev_close(a);
	b = open_ok("");
	ok(b, "writer gets it once everyone closed");
	blockdev_close(b);
}

/*
 * Flip random bytes in the header and tables (deterministic seed), then
 * open, read everything and write a little: nothing may crash (the SAN=1
 * build checks memory safety); every request returns 0 or an error.
 */
static void test_fuzz(void)
{
	static uint8_t b[3 * CS];
	unsigned int seed = 12345, i, j, opened = 0, failed = 0;
	bool sane = true;

	for (i = 0; i < 400; i++) {
		struct blockdev *bd = NULL;
		int ret;

		build(i % 2 ? 3 : 2);
		for (j = 0; j < 1 + i % 4; j++) {
			/* Mostly metadata: header, L1, RT, RB, L2. */
			size_t at = (size_t)rand_r(&seed) % (5 * CS);

			if (j % 2)
				at = (size_t)rand_r(&seed) % 112;
			img[at] ^= (uint8_t)(1 + rand_r(&seed) % 255);
		}
		save();
		capture_start();
		if (!blockdev_open(path, &bd)) {
			uint64_t off, lim = MIN(bd->size, (uint64_t)VSIZE);

			opened++;
			for (off = 0; off + sizeof(b) <= lim;
			     off += sizeof(b)) {
				ret = blockdev_pread(bd, b, sizeof(b), off);
				sane &= ret == 0 || ret == -EIO;
				failed += !!ret;
			}
			for (j = 0; j < 4 && lim > sizeof(b); j++) {
				off = (uint64_t)rand_r(&seed) % (lim - sizeof(b));
				ret = blockdev_pwrite(bd, b, sizeof(b), off);
				sane &= ret <= 0;
			}
			blockdev_close(bd);
		}
		errbuf = capture_end();
	}
	ok(sane, "fuzz: 400 corrupted images, no crash, only clean errors");
	tap_diag("%u opened, %u failed reads", opened, failed);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return tool(argc, argv);
	/* RAM-backed if possible: the backends fdatasync a lot. */
	snprintf(dir, sizeof(dir), "%s/mvm-qcow2-XXXXXX",
		 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
	if (!mkdtemp(dir))
		tap_skip_all("cannot create a temporary directory");
	snprintf(path, sizeof(path), "%s/t.qcow2", dir);

	test_read(2);
	test_read(3);
	test_write(2);
	test_write(3);
	test_zero_prealloc();
	test_refblocks();
	test_runtime_corruption();
	test_refused();
	test_accepted_variants();
	test_locking();
	test_fuzz();

	unlink(path);
	rmdir(dir);
	return tap_done();
}
