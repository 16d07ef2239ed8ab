// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk (virtio/blk.c) driven through its virtqueue by the test
 * driver (tests/lib/guest_virtq) on a KVM-less machine, against raw and
 * qcow2 images in /dev/shm (or /tmp): reads and writes at the first and
 * last sector and past the end, odd descriptor splits, indirect chains,
 * flush and write-through, GET_ID, discard and write-zeroes, read-only
 * disks, malformed requests (NEEDS_RESET), and a qcow2 image that must
 * pass `qemu-img check` after the guest wrote to it.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "lib/guest_virtq.h"
#include "block/blockdev.h"
#include "core/util.h"
#include "virtio/virtio_blk.h"

#define F_RING		(1ULL << VIRTIO_F_VERSION_1 | \
			 1ULL << VIRTIO_RING_F_EVENT_IDX | \
			 1ULL << VIRTIO_RING_F_INDIRECT_DESC)
#define RAW_SIZE	(4 * MiB + 700)	/* capacity 8193: the tail is hidden */
#define RAW_SECTORS	(RAW_SIZE / 512)
#define QCOW_CB		16
#define QCOW_CS		(1ULL << QCOW_CB)
#define QCOW_SIZE	(8 * MiB + 3 * 512)
#define RING_BASE	0x400000
#define RING_LEN	(48 * MiB)
#define STATUS_UNSET	0xee
#define NO_USED		0xffffffffu

static struct fake_kvm kvm;
static char dir[64];
static char raw_path[256], qcow_path[256];

struct bt {
	struct test_machine m;
	struct vtest_dev d;
	struct gvq g;
	struct virtio_blk *blk;
	uint64_t features;
	uint64_t hdr, st;		/* a header and a status buffer */
};

static uint8_t pat(uint64_t off, unsigned int seed)
{
	return (uint8_t)(off * 7 + off / 512 + seed * 31 + 1);
}

static void fill(uint8_t *p, uint64_t off, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pat(off + i, seed);
}

static bool check(const uint8_t *p, uint64_t off, size_t len,
		  unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pat(off + i, seed))
			return false;
	return true;
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	while (n--)
		if (*p++ != v)
			return false;
	return true;
}

static void make_raw(const char *path)
{
	uint8_t *b = malloc(RAW_SIZE);
	int fd;

	fill(b, 0, RAW_SIZE, 0);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (!b || fd < 0 || write(fd, b, RAW_SIZE) != (ssize_t)RAW_SIZE) {
		perror(path);
		exit(1);
	}
	fsync(fd);
	close(fd);
	free(b);
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void be64(uint8_t *p, uint64_t v)
{
	be32(p, v >> 32);
	be32(p + 4, (uint32_t)v);
}

/*
 * An empty qcow2 v3 image (QEMU's docs/interop/qcow2.txt): header in
 * cluster 0, refcount table in 1, refcount block in 2, L1 table in 3.
 */
static void make_qcow2(const char *path)
{
	size_t len = 4 * QCOW_CS;
	uint8_t *img = calloc(1, len);
	int fd, i;

	memcpy(img, "QFI\xfb", 4);
	be32(img + 4, 3);			/* version */
	be32(img + 20, QCOW_CB);		/* cluster_bits */
	be64(img + 24, QCOW_SIZE);		/* size */
	be32(img + 36, 1);			/* l1_size */
	be64(img + 40, 3 * QCOW_CS);		/* l1_table_offset */
	be64(img + 48, 1 * QCOW_CS);		/* refcount_table_offset */
	be32(img + 56, 1);			/* refcount_table_clusters */
	be32(img + 96, 4);			/* refcount_order: 16 bits */
	be32(img + 100, 104);			/* header_length */
	be64(img + QCOW_CS, 2 * QCOW_CS);	/* refcount block */
	for (i = 0; i < 4; i++)
		img[2 * QCOW_CS + 2 * i + 1] = 1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, img, len) != (ssize_t)len) {
		perror(path);
		exit(1);
	}
	close(fd);
	free(img);
}

static int file_pread(const char *path, void *buf, size_t len, uint64_t off)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, buf, len, (off_t)off);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* A machine with one virtio-blk on `spec`; features: the driver's mask. */
static bool bt_setup(struct bt *t, const char *spec, unsigned int index,
		     uint64_t drop_features)
{
	struct blockdev *bd;

	memset(t, 0, sizeof(*t));
	if (test_machine_init(&t->m, &kvm, &(struct test_machine_opts){ .ioeventfd = true }))
		return false;
	if (blockdev_open(spec, &bd) ||
	    virtio_blk_create(t->m.ctx, bd, index, &t->blk)) {
		test_machine_destroy(&t->m);
		return false;
	}
	if (vtest_find(&t->d, &t->m, VIRTIO_ID_BLOCK))
		return false;
	t->features = (vtest_device_features(&t->d) | F_RING) & ~drop_features;
	if (!vtest_negotiate(&t->d, t->features))
		return false;
	gvq_init(&t->g, t->m.mem, RING_BASE, RING_LEN, 128, true);
	vtest_setup_queue(&t->d, 0, &t->g, VIRTIO_MSI_NO_VECTOR);
	vtest_driver_ok(&t->d);
	t->hdr = gvq_alloc(&t->g, VIRTIO_BLK_REQ_HDR_SIZE);
	t->st = gvq_alloc(&t->g, 1);
	return true;
}

static void bt_teardown(struct bt *t)
{
	vtest_common_write(&t->d, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	virtio_blk_destroy(t->blk);
	test_machine_destroy(&t->m);
}

static uint8_t *ptr(struct bt *t, uint64_t gpa, uint64_t len)
{
	return gvq_ptr(&t->g, gpa, len);
}

/* Submit a chain; returns the used length (NO_USED if none came). */
static uint32_t submit(struct bt *t, const struct gvq_buf *b, unsigned int n,
		       bool indirect)
{
	uint32_t id, len = NO_USED;

	if (indirect)
		gvq_add_indirect(&t->g, b, n);
	else
		gvq_add(&t->g, b, n);
	if (gvq_publish(&t->g))
		vtest_notify(&t->d, 0);
	if (!vtest_wait_used(&t->g) || !gvq_get_used(&t->g, &id, &len))
		return NO_USED;
	return len;
}

static void set_hdr(struct bt *t, uint32_t type, uint64_t sector)
{
	uint8_t *h = ptr(t, t->hdr, VIRTIO_BLK_REQ_HDR_SIZE);

	put_le32(h, type);
	put_le32(h + 4, 0);
	put_le64(h + 8, sector);
	*ptr(t, t->st, 1) = STATUS_UNSET;
}

static uint8_t status(struct bt *t)
{
	return *ptr(t, t->st, 1);
}

/* header, one data buffer (readable for writes), status; returns status */
static int rw(struct bt *t, uint32_t type, uint64_t sector, uint64_t data,
	      uint32_t len, uint32_t *used)
{
	bool in = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
	struct gvq_buf b[3] = {
		{ t->hdr, VIRTIO_BLK_REQ_HDR_SIZE, false },
		{ data, len, in },
		{ t->st, 1, true },
	};
	uint32_t u;

	set_hdr(t, type, sector);
	if (len)
		u = submit(t, b, 3, false);
	else
		u = submit(t, (struct gvq_buf[]){ b[0], b[2] }, 2, false);
	if (used)
		*used = u;
	return u == NO_USED ? -1 : status(t);
}

/* One discard / write-zeroes segment request. */
static int dwz(struct bt *t, uint32_t type, uint64_t sector, uint32_t nr,
	       uint32_t flags, unsigned int nr_seg)
{
	uint64_t segs = gvq_alloc(&t->g, 16 * nr_seg);
	uint8_t *s = ptr(t, segs, 16 * nr_seg);
	unsigned int i;

	for (i = 0; i < nr_seg; i++) {
		put_le64(s + 16 * i, sector + (uint64_t)i * nr);
		put_le32(s + 16 * i + 8, nr);
		put_le32(s + 16 * i + 12, flags);
	}
	set_hdr(t, type, 0);
	if (submit(t, (struct gvq_buf[]){ { t->hdr, 16, false },
					  { segs, 16 * nr_seg, false },
					  { t->st, 1, true } }, 3, false) ==
	    NO_USED)
		return -1;
	return status(t);
}

static bool wait_needs_reset(struct bt *t)
{
	unsigned int i;

	for (i = 0; i < 10000; i++) {
		if (vtest_status(&t->d) & VIRTIO_STATUS_NEEDS_RESET)
			return true;
		usleep(1000);
	}
	return false;
}

static struct virtio_blk_stats stats(struct bt *t)
{
	struct virtio_blk_stats s;

	virtio_blk_get_stats(t->blk, &s);
	return s;
}

static void test_config(void)
{
	struct bt t;
	uint64_t f;

	if (!bt_setup(&t, raw_path, 0, 0)) {
		ok(0, "raw disk: device set up");
		return;
	}
	ok(1, "raw disk: virtio-blk found at 0x1042, features negotiated");
	f = vtest_device_features(&t.d);
	ok(f & 1ULL << VIRTIO_BLK_F_SEG_MAX, "SEG_MAX offered (5.2.3)");
	ok(f & 1ULL << VIRTIO_BLK_F_BLK_SIZE, "BLK_SIZE offered");
	ok(f & 1ULL << VIRTIO_BLK_F_FLUSH, "FLUSH offered");
	ok(f & 1ULL << VIRTIO_BLK_F_WRITE_ZEROES, "WRITE_ZEROES offered");
	ok(!(f & 1ULL << VIRTIO_BLK_F_RO), "not read-only");
	ok(!(f & (1ULL << VIRTIO_BLK_F_MQ | 1ULL << VIRTIO_BLK_F_CONFIG_WCE |
		  1ULL << VIRTIO_BLK_F_SIZE_MAX)),
	   "no MQ, CONFIG_WCE, SIZE_MAX");
	is_int(vtest_common_read(&t.d, VIRTIO_PCI_COMMON_NUMQ, 2), 1,
	       "one request queue (5.2.2)");
	is_int(t.d.device_len >= VIRTIO_BLK_CFG_SIZE, 1,
	       "device config covers the discard/write-zeroes fields");
	is_int(vtest_devcfg_read(&t.d, VIRTIO_BLK_CFG_CAPACITY, 4) |
	       vtest_devcfg_read(&t.d, VIRTIO_BLK_CFG_CAPACITY + 4, 4) << 32,
	       RAW_SECTORS, "capacity: size / 512 (5.2.4)");
	is_int(vtest_devcfg_read(&t.d, VIRTIO_BLK_CFG_SEG_MAX, 4),
	       VIRTIO_BLK_SEG_MAX, "seg_max");
	is_int(vtest_devcfg_read(&t.d, VIRTIO_BLK_CFG_BLK_SIZE, 4), 512,
	       "blk_size 512");
	is_int(vtest_devcfg_read(&t.d, VIRTIO_BLK_CFG_MAX_WZ_SECTORS, 4),
	       VIRTIO_BLK_MAX_WZ_SECTORS, "max_write_zeroes_sectors");
	is_int(vtest_devcfg_read(&t.d, VIRTIO_BLK_CFG_MAX_WZ_SEG, 4), 1,
	       "max_write_zeroes_seg");
	is_int(vtest_devcfg_read(&t.d, VIRTIO_BLK_CFG_WZ_MAY_UNMAP, 1), 0,
	       "write_zeroes_may_unmap 0: zeros are written");
	if (f & 1ULL << VIRTIO_BLK_F_DISCARD) {
		is_int(vtest_devcfg_read(&t.d, VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, 4),
		       VIRTIO_BLK_MAX_DISCARD_SECTORS, "max_discard_sectors");
		is_int(vtest_devcfg_read(&t.d, VIRTIO_BLK_CFG_MAX_DISCARD_SEG, 4),
		       VIRTIO_BLK_MAX_DISCARD_SEG, "max_discard_seg");
		is_int(vtest_devcfg_read(&t.d, VIRTIO_BLK_CFG_DISCARD_ALIGN, 4),
		       VIRTIO_BLK_DISCARD_ALIGN, "discard_sector_alignment");
	} else {
		tap_skip(3, "no hole punching on this file system: no DISCARD");
	}
	bt_teardown(&t);
}

static void test_rw(void)
{
	uint64_t buf, last = RAW_SECTORS - 1;
	uint8_t file[1024], *p;
	uint32_t used;
	struct bt t;

	if (!bt_setup(&t, raw_path, 0, 0)) {
		ok(0, "raw disk: device set up");
		return;
	}
	buf = gvq_alloc(&t.g, 64 * 1024);
	p = ptr(&t, buf, 64 * 1024);

	/* Sector 0. */
	memset(p, 0, 4096);
	is_int(rw(&t, VIRTIO_BLK_T_IN, 0, buf, 4096, &used), VIRTIO_BLK_S_OK,
	       "read 8 sectors at sector 0: OK");
	ok(check(p, 0, 4096, 0), "... the image's bytes");
	is_int(used, 4097, "... used length: data + status");
	fill(p, 0, 1024, 1);
	is_int(rw(&t, VIRTIO_BLK_T_OUT, 0, buf, 1024, &used), VIRTIO_BLK_S_OK,
	       "write 2 sectors at sector 0: OK");
	is_int(used, 1, "... used length: the status byte");
	ok(!file_pread(raw_path, file, 1024, 0) && check(file, 0, 1024, 1),
	   "... the file holds them");
	ok(!file_pread(raw_path, file, 512, 1024) && check(file, 1024, 512, 0),
	   "... and nothing beyond");

	/* The last sector. */
	fill(p, last * 512, 512, 2);
	is_int(rw(&t, VIRTIO_BLK_T_OUT, last, buf, 512, NULL), VIRTIO_BLK_S_OK,
	       "write the last sector (%llu)", (unsigned long long)last);
	memset(p, 0, 512);
	is_int(rw(&t, VIRTIO_BLK_T_IN, last, buf, 512, NULL), VIRTIO_BLK_S_OK,
	       "read it back");
	ok(check(p, last * 512, 512, 2), "... same bytes");
	ok(!file_pread(raw_path, file, RAW_SIZE % 512, RAW_SECTORS * 512) &&
	   check(file, RAW_SECTORS * 512, RAW_SIZE % 512, 0),
	   "the partial sector past the capacity is untouched");

	/* Past the end: IOERR, no I/O. */
	memset(p, 0xaa, 1024);
	is_int(rw(&t, VIRTIO_BLK_T_IN, RAW_SECTORS, buf, 512, &used),
	       VIRTIO_BLK_S_IOERR, "read at sector == capacity: IOERR");
	ok(all_bytes(p, 1024, 0xaa), "... the buffer is not written");
	is_int(used, 1, "... used length 1");
	is_int(rw(&t, VIRTIO_BLK_T_IN, last, buf, 1024, NULL),
	       VIRTIO_BLK_S_IOERR, "read straddling the end: IOERR");
	ok(all_bytes(p, 1024, 0xaa), "... the buffer is not written");
	fill(p, 0, 1024, 3);
	is_int(rw(&t, VIRTIO_BLK_T_OUT, last, buf, 1024, NULL),
	       VIRTIO_BLK_S_IOERR, "write straddling the end: IOERR");
	ok(!file_pread(raw_path, file, 512, last * 512) &&
	   check(file, last * 512, 512, 2), "... the last sector is unchanged");
	is_int(rw(&t, VIRTIO_BLK_T_IN, UINT64_MAX, buf, 512, NULL),
	       VIRTIO_BLK_S_IOERR, "sector 2^64-1: IOERR (no overflow)");
	is_int(rw(&t, VIRTIO_BLK_T_OUT, UINT64_MAX / 512, buf, 1024, NULL),
	       VIRTIO_BLK_S_IOERR, "sector 2^55: IOERR");
	is_int(rw(&t, VIRTIO_BLK_T_IN, 4, buf, 100, NULL), VIRTIO_BLK_S_IOERR,
	       "a read of 100 bytes (not a multiple of 512): IOERR");
	is_int(rw(&t, VIRTIO_BLK_T_IN, RAW_SECTORS, buf, 0, &used),
	       VIRTIO_BLK_S_OK, "a zero-length read at the end: OK");

	/* Big request: 64 KiB in one buffer. */
	fill(p, 512 * 1000, 64 * 1024, 4);
	is_int(rw(&t, VIRTIO_BLK_T_OUT, 1000, buf, 64 * 1024, NULL),
	       VIRTIO_BLK_S_OK, "64 KiB write");
	memset(p, 0, 64 * 1024);
	is_int(rw(&t, VIRTIO_BLK_T_IN, 1000, buf, 64 * 1024, NULL),
	       VIRTIO_BLK_S_OK, "64 KiB read");
	ok(check(p, 512 * 1000, 64 * 1024, 4), "... same bytes");
	bt_teardown(&t);
}

/*
 * A request cut into many odd pieces: the header over three descriptors,
 * the data over `n` descriptors of odd sizes, and the status byte in the
 * same descriptor as the end of the data (2.6.4: no framing).
 */
static uint32_t split_req(struct bt *t, uint32_t type, uint64_t sector,
			  uint64_t data, uint32_t len, bool indirect)
{
	static const uint32_t sizes[] = { 1, 3, 511, 2, 64, 700, 13, 1000 };
	bool in = type == VIRTIO_BLK_T_IN;
	struct gvq_buf b[64];
	uint64_t h = gvq_alloc(&t->g, 16), st;
	unsigned int n = 0, i = 0;
	uint32_t off = 0, l;
	uint8_t *hp = ptr(t, h, 16);

	put_le32(hp, type);
	put_le32(hp + 4, 0);
	put_le64(hp + 8, sector);
	b[n++] = (struct gvq_buf){ h, 5, false };
	b[n++] = (struct gvq_buf){ h + 5, 7, false };
	b[n++] = (struct gvq_buf){ h + 12, 4, false };
	while (off < len) {
		l = MIN(sizes[i % ARRAY_SIZE(sizes)], len - off);
		i++;
		b[n++] = (struct gvq_buf){ data + off, l, in };
		off += l;
	}
	if (in) {
		/* data + status contiguous: the last piece gets one more byte */
		b[n - 1].len++;
		st = data + len;
	} else {
		st = gvq_alloc(&t->g, 1);
		b[n++] = (struct gvq_buf){ st, 1, true };
	}
	*ptr(t, st, 1) = STATUS_UNSET;
	if (submit(t, b, n, indirect) == NO_USED)
		return NO_USED;
	return *ptr(t, st, 1);
}

static void test_split(void)
{
	uint64_t buf;
	uint8_t *p;
	struct bt t;
	int k;

	if (!bt_setup(&t, raw_path, 0, 0)) {
		ok(0, "raw disk: device set up");
		return;
	}
	buf = gvq_alloc(&t.g, 8192 + 16);
	p = ptr(&t, buf, 8192 + 1);
	for (k = 0; k < 2; k++) {
		bool ind = k == 1;
		const char *how = ind ? "indirect" : "direct";

		fill(p, 512 * 77, 8192, 5 + k);
		is_int(split_req(&t, VIRTIO_BLK_T_OUT, 77, buf, 8192, ind),
		       VIRTIO_BLK_S_OK,
		       "%s: 8 KiB write over 3 + 27 descriptors", how);
		memset(p, 0, 8192 + 1);
		is_int(split_req(&t, VIRTIO_BLK_T_IN, 77, buf, 8192, ind),
		       VIRTIO_BLK_S_OK,
		       "%s: read back with status in the last data descriptor",
		       how);
		ok(check(p, 512 * 77, 8192, 5 + k), "%s: same bytes", how);
	}
	bt_teardown(&t);
}

static void test_flush_id_unsupp(void)
{
	struct virtio_blk_stats s0, s1;
	uint64_t buf;
	uint8_t *p;
	uint32_t used;
	struct bt t;

	if (!bt_setup(&t, raw_path, 0, 0)) {
		ok(0, "raw disk: device set up");
		return;
	}
	buf = gvq_alloc(&t.g, 4096);
	p = ptr(&t, buf, 4096);

	s0 = stats(&t);
	is_int(rw(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &used), VIRTIO_BLK_S_OK,
	       "FLUSH: OK");
	s1 = stats(&t);
	is_int(s1.flushes - s0.flushes, 1, "... counted");
	is_int(s1.backend_flushes - s0.backend_flushes, 1,
	       "... blockdev_flush (fdatasync) called");
	fill(p, 0, 512, 9);
	rw(&t, VIRTIO_BLK_T_OUT, 9, buf, 512, NULL);
	is_int(stats(&t).backend_flushes, s1.backend_flushes,
	       "FLUSH negotiated: a write does not sync by itself");

	memset(p, 0xaa, 64);
	is_int(rw(&t, VIRTIO_BLK_T_GET_ID, 0, buf, 64, &used), VIRTIO_BLK_S_OK,
	       "GET_ID: OK");
	ok(!memcmp(p, "mvm-disk-0", 10) && all_bytes(p + 10, 10, 0),
	   "... \"mvm-disk-0\", NUL-padded to 20 bytes");
	ok(all_bytes(p + 20, 44, 0xaa), "... nothing written after 20 bytes");
	is_int(used, 21, "... used length 20 + status");

	is_int(rw(&t, VIRTIO_BLK_T_GET_LIFETIME, 0, buf, 64, NULL),
	       VIRTIO_BLK_S_UNSUPP, "GET_LIFETIME: UNSUPP");
	is_int(rw(&t, VIRTIO_BLK_T_SECURE_ERASE, 0, buf, 64, NULL),
	       VIRTIO_BLK_S_UNSUPP, "SECURE_ERASE: UNSUPP");
	is_int(rw(&t, 0x12345, 0, buf, 64, NULL), VIRTIO_BLK_S_UNSUPP,
	       "unknown type: UNSUPP");
	is_int(rw(&t, 2, 0, 0, 0, NULL), VIRTIO_BLK_S_UNSUPP,
	       "legacy SCSI command: UNSUPP");
	bt_teardown(&t);

	/* Without FLUSH the device is write-through (5.2.6.2). */
	if (!bt_setup(&t, raw_path, 0, 1ULL << VIRTIO_BLK_F_FLUSH)) {
		ok(0, "raw disk without FLUSH: device set up");
		return;
	}
	buf = gvq_alloc(&t.g, 512);
	fill(ptr(&t, buf, 512), 9 * 512, 512, 9);
	s0 = stats(&t);
	is_int(rw(&t, VIRTIO_BLK_T_OUT, 9, buf, 512, NULL), VIRTIO_BLK_S_OK,
	       "FLUSH not negotiated: write OK");
	is_int(stats(&t).backend_flushes - s0.backend_flushes, 1,
	       "... and synced before completion (write-through)");
	bt_teardown(&t);
}

static void test_discard_wz(void)
{
	uint64_t buf, off = 2 * MiB, len = 256 * 1024;
	struct stat st0, st1;
	uint8_t *p, *file;
	struct bt t;
	bool discard;

	if (!bt_setup(&t, raw_path, 0, 0)) {
		ok(0, "raw disk: device set up");
		return;
	}
	buf = gvq_alloc(&t.g, len);
	p = ptr(&t, buf, len);
	file = malloc(len);
	discard = t.features & 1ULL << VIRTIO_BLK_F_DISCARD;

	/* Write zeroes. */
	fill(p, off, len, 11);
	rw(&t, VIRTIO_BLK_T_OUT, off / 512, buf, len, NULL);
	is_int(dwz(&t, VIRTIO_BLK_T_WRITE_ZEROES, off / 512 + 8, 16, 0, 1),
	       VIRTIO_BLK_S_OK, "WRITE_ZEROES of 16 sectors: OK");
	ok(!file_pread(raw_path, file, len, off) && all_bytes(file + 4096,
	   8192, 0) && check(file, off, 4096, 11) &&
	   check(file + 12288, off + 12288, 4096, 11),
	   "... exactly those sectors read zeros in the file");
	is_int(dwz(&t, VIRTIO_BLK_T_WRITE_ZEROES, off / 512 + 32, 8,
		   VIRTIO_BLK_DWZ_F_UNMAP, 1), VIRTIO_BLK_S_OK,
	       "WRITE_ZEROES with unmap: OK");
	memset(p, 0xaa, 4096);
	rw(&t, VIRTIO_BLK_T_IN, off / 512 + 32, buf, 4096, NULL);
	ok(all_bytes(p, 4096, 0), "... reads zeros through the device");
	is_int(dwz(&t, VIRTIO_BLK_T_WRITE_ZEROES, off / 512, 8, 2, 1),
	       VIRTIO_BLK_S_UNSUPP, "WRITE_ZEROES with an unknown flag: UNSUPP");
	is_int(dwz(&t, VIRTIO_BLK_T_WRITE_ZEROES, off / 512, 8, 0, 2),
	       VIRTIO_BLK_S_IOERR, "two segments (max_write_zeroes_seg 1): IOERR");
	is_int(dwz(&t, VIRTIO_BLK_T_WRITE_ZEROES, RAW_SECTORS - 4, 8, 0, 1),
	       VIRTIO_BLK_S_IOERR, "WRITE_ZEROES past the end: IOERR");
	ok(!file_pread(raw_path, file, 2048, (RAW_SECTORS - 4) * 512) &&
	   !all_bytes(file, 2048, 0), "... nothing zeroed");
	is_int(dwz(&t, VIRTIO_BLK_T_WRITE_ZEROES, 0,
		   VIRTIO_BLK_MAX_WZ_SECTORS + 1, 0, 1),
	       VIRTIO_BLK_S_IOERR, "more than max_write_zeroes_sectors: IOERR");

	/* Discard. */
	if (!discard) {
		is_int(dwz(&t, VIRTIO_BLK_T_DISCARD, off / 512, 8, 0, 1),
		       VIRTIO_BLK_S_UNSUPP, "DISCARD not offered: UNSUPP");
		tap_skip(6, "no hole punching on this file system");
		goto out;
	}
	fill(p, off, len, 12);
	rw(&t, VIRTIO_BLK_T_OUT, off / 512, buf, len, NULL);
	rw(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, NULL);
	stat(raw_path, &st0);
	is_int(dwz(&t, VIRTIO_BLK_T_DISCARD, off / 512, len / 512, 0, 1),
	       VIRTIO_BLK_S_OK, "DISCARD of 256 KiB: OK");
	stat(raw_path, &st1);
	ok(st1.st_blocks + (blkcnt_t)(len / 512) <= st0.st_blocks,
	   "... the file's blocks are dropped (%lld -> %lld)",
	   (long long)st0.st_blocks, (long long)st1.st_blocks);
	memset(p, 0xaa, len);
	rw(&t, VIRTIO_BLK_T_IN, off / 512, buf, len, NULL);
	ok(all_bytes(p, len, 0), "... the range reads back as zeros");
	is_int(dwz(&t, VIRTIO_BLK_T_DISCARD, off / 512, 8,
		   VIRTIO_BLK_DWZ_F_UNMAP, 1), VIRTIO_BLK_S_UNSUPP,
	       "DISCARD with the unmap flag: UNSUPP (5.2.6.2)");
	is_int(dwz(&t, VIRTIO_BLK_T_DISCARD, RAW_SECTORS - 1, 2, 0, 1),
	       VIRTIO_BLK_S_IOERR, "DISCARD past the end: IOERR");
	is_int(dwz(&t, VIRTIO_BLK_T_DISCARD, 64, 8, 0, 4), VIRTIO_BLK_S_OK,
	       "DISCARD of 4 segments: OK");
out:
	free(file);
	bt_teardown(&t);
}

static void test_ro(void)
{
	char spec[300];
	uint8_t file[512];
	uint64_t buf, f;
	struct bt t;
	uint8_t *p;

	snprintf(spec, sizeof(spec), "%s,ro", raw_path);
	if (!bt_setup(&t, spec, 3, 0)) {
		ok(0, "read-only disk: device set up");
		return;
	}
	f = vtest_device_features(&t.d);
	ok(f & 1ULL << VIRTIO_BLK_F_RO, ",ro: RO offered");
	ok(!(f & (1ULL << VIRTIO_BLK_F_DISCARD |
		  1ULL << VIRTIO_BLK_F_WRITE_ZEROES)),
	   "... no DISCARD, no WRITE_ZEROES");
	buf = gvq_alloc(&t.g, 512);
	p = ptr(&t, buf, 512);
	file_pread(raw_path, file, 512, 100 * 512);
	memset(p, 0x5a, 512);
	is_int(rw(&t, VIRTIO_BLK_T_OUT, 100, buf, 512, NULL),
	       VIRTIO_BLK_S_IOERR, "write: IOERR (5.2.6.2)");
	ok(!file_pread(raw_path, p, 512, 100 * 512) && !memcmp(p, file, 512),
	   "... nothing written");
	memset(p, 0, 512);
	is_int(rw(&t, VIRTIO_BLK_T_IN, 100, buf, 512, NULL), VIRTIO_BLK_S_OK,
	       "read: OK");
	ok(!memcmp(p, file, 512), "... the image's bytes");
	is_int(rw(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, NULL), VIRTIO_BLK_S_OK,
	       "flush: OK (nothing to make stable)");
	is_int(dwz(&t, VIRTIO_BLK_T_DISCARD, 0, 8, 0, 1), VIRTIO_BLK_S_UNSUPP,
	       "discard: UNSUPP");
	is_int(dwz(&t, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 0, 1),
	       VIRTIO_BLK_S_UNSUPP, "write-zeroes: UNSUPP");
	is_int(rw(&t, VIRTIO_BLK_T_GET_ID, 0, buf, 20, NULL), VIRTIO_BLK_S_OK,
	       "GET_ID");
	ok(!memcmp(p, "mvm-disk-3", 11), "... names the disk by its index");
	bt_teardown(&t);
}

static void test_malformed(void)
{
	uint64_t buf, st;
	struct bt t;
	uint8_t *p;

	if (!bt_setup(&t, raw_path, 0, 0)) {
		ok(0, "raw disk: device set up");
		return;
	}
	buf = gvq_alloc(&t.g, 512);
	p = ptr(&t, buf, 512);

	/* An 8-byte header. */
	set_hdr(&t, VIRTIO_BLK_T_IN, 0);
	memset(p, 0xaa, 512);
	gvq_add(&t.g, (struct gvq_buf[]){ { t.hdr, 8, false },
					 { buf, 512, true },
					 { t.st, 1, true } }, 3);
	if (gvq_publish(&t.g))
		vtest_notify(&t.d, 0);
	ok(wait_needs_reset(&t), "8-byte header: DEVICE_NEEDS_RESET");
	ok(all_bytes(p, 512, 0xaa) && status(&t) == STATUS_UNSET,
	   "... nothing written to the guest");
	is_int(gvq_used_idx(&t.g), t.g.last_used, "... nothing used");
	vtest_common_write(&t.d, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	bt_teardown(&t);

	/* No writable status byte. */
	if (!bt_setup(&t, raw_path, 0, 0)) {
		ok(0, "raw disk: device set up");
		return;
	}
	buf = gvq_alloc(&t.g, 512);
	fill(ptr(&t, buf, 512), 0, 512, 13);
	set_hdr(&t, VIRTIO_BLK_T_OUT, 0);
	gvq_add(&t.g, (struct gvq_buf[]){ { t.hdr, 16, false },
					 { buf, 512, false } }, 2);
	if (gvq_publish(&t.g))
		vtest_notify(&t.d, 0);
	ok(wait_needs_reset(&t), "no status byte: DEVICE_NEEDS_RESET");
	ok(!file_pread(raw_path, ptr(&t, buf, 512), 512, 0) &&
	   !check(ptr(&t, buf, 512), 0, 512, 13),
	   "... the write was not carried out");

	/* The driver resets and the device works again. */
	vtest_negotiate(&t.d, t.features);
	gvq_init(&t.g, t.m.mem, RING_BASE, RING_LEN, 128, true);
	vtest_setup_queue(&t.d, 0, &t.g, VIRTIO_MSI_NO_VECTOR);
	vtest_driver_ok(&t.d);
	t.hdr = gvq_alloc(&t.g, 16);
	t.st = gvq_alloc(&t.g, 1);
	buf = gvq_alloc(&t.g, 512);
	is_int(rw(&t, VIRTIO_BLK_T_IN, 0, buf, 512, NULL), VIRTIO_BLK_S_OK,
	       "after a reset, requests work again");

	/* Only a header and no data: an IN request of 0 bytes is fine;
	 * a discard without segments is an I/O error. */
	is_int(rw(&t, VIRTIO_BLK_T_IN, 0, 0, 0, NULL), VIRTIO_BLK_S_OK,
	       "read without data: OK");
	set_hdr(&t, VIRTIO_BLK_T_WRITE_ZEROES, 0);
	st = submit(&t, (struct gvq_buf[]){ { t.hdr, 16, false },
					    { t.st, 1, true } }, 2, false);
	ok(st == 1 && status(&t) == VIRTIO_BLK_S_IOERR,
	   "write-zeroes without segments: IOERR");
	ok(!(vtest_status(&t.d) & VIRTIO_STATUS_NEEDS_RESET),
	   "... the device is still fine");
	bt_teardown(&t);
}

static void test_qcow2(void)
{
	uint64_t buf, last = QCOW_SIZE / 512 - 1;
	const uint64_t sectors[] = { 0, 5, 127, 200, 4095, 9000, last };
	char cmd[600];
	struct blockdev *bd;
	unsigned int i;
	struct bt t;
	uint8_t *p;
	int ret;

	make_qcow2(qcow_path);
	if (!bt_setup(&t, qcow_path, 1, 0)) {
		ok(0, "qcow2 disk: device set up");
		return;
	}
	ok(1, "qcow2 disk: device set up");
	is_int(vtest_devcfg_read(&t.d, VIRTIO_BLK_CFG_CAPACITY, 4),
	       QCOW_SIZE / 512, "capacity: the virtual size in sectors");
	ok(!(t.features & 1ULL << VIRTIO_BLK_F_DISCARD),
	   "no DISCARD for qcow2");
	buf = gvq_alloc(&t.g, 128 * 1024);
	p = ptr(&t, buf, 128 * 1024);
	memset(p, 0xaa, 4096);
	is_int(rw(&t, VIRTIO_BLK_T_IN, 0, buf, 4096, NULL), VIRTIO_BLK_S_OK,
	       "read of an unallocated cluster: OK");
	ok(all_bytes(p, 4096, 0), "... zeros");
	for (i = 0; i < ARRAY_SIZE(sectors); i++) {
		uint32_t len = sectors[i] == last ? 512 : 3 * 512;

		fill(p, sectors[i] * 512, len, 20 + i);
		is_int(rw(&t, VIRTIO_BLK_T_OUT, sectors[i], buf, len, NULL),
		       VIRTIO_BLK_S_OK, "qcow2 write at sector %llu",
		       (unsigned long long)sectors[i]);
	}
	/* Across a cluster boundary, split over many descriptors. */
	fill(p, 127 * 1024, 8192, 30);
	is_int(split_req(&t, VIRTIO_BLK_T_OUT, 254, buf, 8192, true),
	       VIRTIO_BLK_S_OK, "indirect write across a cluster boundary");
	is_int(rw(&t, VIRTIO_BLK_T_WRITE_ZEROES, 0, 0, 0, NULL),
	       VIRTIO_BLK_S_IOERR, "write-zeroes without segments: IOERR");
	is_int(dwz(&t, VIRTIO_BLK_T_WRITE_ZEROES, 4096 + 1, 1, 0, 1),
	       VIRTIO_BLK_S_OK, "write-zeroes of one sector");
	is_int(rw(&t, VIRTIO_BLK_T_IN, last + 1, buf, 512, NULL),
	       VIRTIO_BLK_S_IOERR, "read past the end: IOERR");
	is_int(rw(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, NULL), VIRTIO_BLK_S_OK,
	       "flush");
	memset(p, 0, 8192);
	rw(&t, VIRTIO_BLK_T_IN, 254, buf, 8192, NULL);
	ok(check(p, 127 * 1024, 8192, 30), "read back across the boundary");
	bt_teardown(&t);

	/* Reopen the image: what the guest wrote is there. */
	p = malloc(4096);
	if (!p || blockdev_open(qcow_path, &bd)) {
		ok(0, "qcow2 reopens");
	} else {
		bool good = true;

		for (i = 0; i < ARRAY_SIZE(sectors); i++) {
			uint32_t len = sectors[i] == last ? 512 : 3 * 512;

			if (sectors[i] == 4095)
				len = 512;	/* 4096+ zeroed / rewritten */
			if (blockdev_pread(bd, p, len, sectors[i] * 512) ||
			    !check(p, sectors[i] * 512, len, 20 + i))
				good = false;
		}
		ok(good, "reopened: every write is there");
		ok(!blockdev_pread(bd, p, 1536, 4096 * 512) &&
		   check(p, 4096 * 512, 512, 20 + 4) &&
		   all_bytes(p + 512, 1024, 0),
		   "... and the zeroed sector");
		blockdev_close(bd);
	}
	free(p);
	if (system("command -v qemu-img >/dev/null 2>&1")) {
		tap_skip(1, "qemu-img not installed");
		return;
	}
	snprintf(cmd, sizeof(cmd), "qemu-img check -q -f qcow2 '%s'",
		 qcow_path);
	ret = system(cmd);
	is_int(ret, 0, "qemu-img check: no errors, no leaks");
}

int main(void)
{
	const char *base = access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm";

	snprintf(dir, sizeof(dir), "%s/mvm-vblk-XXXXXX", base);
	if (!mkdtemp(dir))
		tap_skip_all("cannot create a temporary directory");
	snprintf(raw_path, sizeof(raw_path), "%s/disk.raw", dir);
	snprintf(qcow_path, sizeof(qcow_path), "%s/disk.qcow2", dir);
	fake_kvm_init(&kvm);
	log_quiet = !getenv("VERBOSE");
	make_raw(raw_path);

	test_config();
	test_rw();
	test_split();
	test_flush_id_unsupp();
	test_discard_wz();
	test_ro();
	test_malformed();
	test_qcow2();

	unlink(raw_path);
	unlink(qcow_path);
	rmdir(dir);
	fake_kvm_destroy(&kvm);
	return tap_done();
}
