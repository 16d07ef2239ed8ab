// SPDX-License-Identifier: GPL-2.0
/*
 * g_virtio_blk (a virtio-blk driver) with one `-d` disk, three ways:
 *
 *   raw	a zeroed 2 MiB file (format detected)
 *   qcow2	a fresh 4 MiB qcow2 v3 image written here (qemu-img is not
 *		available inside the nested-KVM guest that runs make check)
 *   raw,ro	a 1 MiB file pre-filled with the pattern: writes must fail
 *
 * The guest writes a pattern to sectors 0-1 and the last sector, reads
 * them back, reads untouched sector 2, writes past the end, flushes and
 * asks for the ID, with MSI-X completions.  We assert what it saw, then
 * the image bytes on this side: the written sectors byte-exact, nothing
 * else changed.
 */
#include <endian.h>

#include "guest/harness.h"

#define SECTOR		512
#define RAW_SIZE	(2ULL << 20)
#define QCOW2_SIZE	(4ULL << 20)
#define RO_SIZE		(1ULL << 20)

/* qcow2 v3, 64 KiB clusters: header, refcount table, refcount block, L1. */
#define QCOW2_MAGIC		0x514649fbU
#define QC_CLUSTER_BITS		16
#define QC_CLUSTER		(1ULL << QC_CLUSTER_BITS)
#define QC_RT_OFF		(1 * QC_CLUSTER)
#define QC_RB_OFF		(2 * QC_CLUSTER)
#define QC_L1_OFF		(3 * QC_CLUSTER)
#define QC_OFFSET_MASK		0x00fffffffffffe00ULL
#define QC_COMPRESSED		(1ULL << 62)
#define QC_ZERO			1ULL

/* Feature bits and request results, as g_virtio_blk.c. */
#define F_RO		5
#define F_BLK_SIZE	6
#define F_FLUSH		9
#define F_VERSION_1	32
#define S_OK		0
#define S_IOERR		1

enum {
	ST_FOUND = 1, ST_FEATURES, ST_NEGOTIATED, ST_QVECTOR, ST_CAPACITY,
	ST_BLK_SIZE, ST_WRITE01, ST_WRITE_LAST, ST_READ01, ST_CMP01,
	ST_READ_LAST, ST_CMP_LAST, ST_READ2, ST_NONZERO2, ST_WRITE_BEYOND,
	ST_FLUSH, ST_GET_ID, ST_ID, ST_IRQS, ST_STATUS, ST_NR
};
#define NR_REQUESTS	8

/* Byte i of sector s; g_virtio_blk.c has the same function. */
static inline uint8_t blk_pattern(uint64_t s, unsigned int i)
{
	return (uint8_t)(s * 131 + i * 7 + (i >> 8) * 3 + 0x5a);
}

static void pattern_sector(uint8_t *buf, uint64_t s)
{
	unsigned int i;

	for (i = 0; i < SECTOR; i++)
		buf[i] = blk_pattern(s, i);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

static uint32_t get_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

static bool pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	return pwrite(fd, buf, len, off) == (ssize_t)len;
}

static bool pread_all(int fd, void *buf, size_t len, off_t off)
{
	return pread(fd, buf, len, off) == (ssize_t)len;
}

/*
 * An empty image as `qemu-img create -f qcow2 -o cluster_size=64k` makes
 * it (without the feature-name extension): clusters 0-3 in use, refcount
 * 1 each, one L1 entry, no L2 tables.
 */
static bool make_qcow2(int fd, uint64_t size)
{
	uint8_t h[112] = { 0 }, e[8] = { 0 };
	uint16_t rc = htobe16(1);
	unsigned int i;

	put_be32(h + 0, QCOW2_MAGIC);
	put_be32(h + 4, 3);			/* version */
	put_be32(h + 20, QC_CLUSTER_BITS);
	put_be64(h + 24, size);
	put_be32(h + 36, 1);			/* l1_size */
	put_be64(h + 40, QC_L1_OFF);
	put_be64(h + 48, QC_RT_OFF);
	put_be32(h + 56, 1);			/* refcount table clusters */
	put_be32(h + 96, 4);			/* refcount_order: 16 bits */
	put_be32(h + 100, sizeof(h));		/* header_length */
	if (ftruncate(fd, 4 * QC_CLUSTER) || !pwrite_all(fd, h, sizeof(h), 0))
		return false;
	put_be64(e, QC_RB_OFF);
	if (!pwrite_all(fd, e, 8, QC_RT_OFF))
		return false;
	for (i = 0; i < 4; i++)
		if (!pwrite_all(fd, &rc, 2, QC_RB_OFF + 2 * i))
			return false;
	return true;
}

/* Guest sector s of a qcow2 image (zeros where unallocated). */
static bool qcow2_read_sector(int fd, uint64_t s, uint8_t *buf)
{
	uint8_t h[104], e[8];
	uint64_t off = s * SECTOR, l1, l2, data;
	unsigned int cb;

	if (!pread_all(fd, h, sizeof(h), 0))
		return false;
	cb = get_be32(h + 20);
	l1 = get_be64(h + 40);
	if (!pread_all(fd, e, 8, l1 + 8 * (off >> (2 * cb - 3))))
		return false;
	l2 = get_be64(e) & QC_OFFSET_MASK;
	memset(buf, 0, SECTOR);
	if (!l2)
		return true;
	if (!pread_all(fd, e, 8,
		       l2 + 8 * ((off >> cb) & ((1ULL << (cb - 3)) - 1))))
		return false;
	if (get_be64(e) & QC_COMPRESSED)
		return false;
	data = get_be64(e) & QC_OFFSET_MASK;
	if (!data || (get_be64(e) & QC_ZERO))
		return true;
	return pread_all(fd, buf, SECTOR, data + (off & ((1ULL << cb) - 1)));
}

static bool read_sector(int fd, bool qcow2, uint64_t s, uint8_t *buf)
{
	return qcow2 ? qcow2_read_sector(fd, s, buf) :
		       pread_all(fd, buf, SECTOR, s * SECTOR);
}

static bool have_qemu_img(void)
{
	return system("qemu-img --version >/dev/null 2>&1") == 0;
}

struct flavour {
	const char *name;
	bool qcow2, ro;
	uint64_t size;		/* virtual size */
};

static void run_flavour(const uint8_t *img, size_t img_len,
			const struct flavour *fl)
{
	unsigned long long val[ST_NR] = { 0 };
	unsigned int seen[ST_NR] = { 0 }, i, n;
	uint64_t cap = fl->size / SECTOR, last = cap - 1, want_f;
	uint8_t want[SECTOR], got[SECTOR], zero[SECTOR] = { 0 };
	char path[] = "/tmp/mvm-blk-XXXXXX", spec[64], cmd[128], what[32];
	const char *nm = fl->name;
	bool order_ok, okay;
	struct machine_config cfg;
	struct guest_run r;
	uint8_t *before = NULL;
	off_t file_size = 0;
	struct stat st;
	int fd;

	fd = mkstemp(path);
	if (fd < 0) {
		printf("Bail out! mkstemp: %s\n", strerror(errno));
		exit(1);
	}
	if (fl->qcow2) {
		okay = make_qcow2(fd, fl->size);
	} else {
		okay = !ftruncate(fd, (off_t)fl->size);
		if (okay && fl->ro) {
			/* The guest reads these back; sector 2 stays zero. */
			for (i = 0; i < 2 && okay; i++) {
				pattern_sector(want, i);
				okay = pwrite_all(fd, want, SECTOR, i * SECTOR);
			}
			pattern_sector(want, last);
			okay = okay && pwrite_all(fd, want, SECTOR,
						  last * SECTOR);
		}
	}
	if (!okay || fstat(fd, &st)) {
		printf("Bail out! cannot create %s: %s\n", path,
		       strerror(errno));
		exit(1);
	}
	file_size = st.st_size;
	if (fl->ro) {
		before = malloc(file_size);
		if (!before || !pread_all(fd, before, file_size, 0)) {
			printf("Bail out! cannot read %s back\n", path);
			exit(1);
		}
	}
	snprintf(spec, sizeof(spec), "%s%s", path, fl->ro ? ",ro" : "");
	tap_diag("%s: -d %s", nm, spec);

	guest_config(&cfg, img, img_len, "g_virtio_blk");
	cfg.disks[0] = spec;
	cfg.nr_disks = 1;
	guest_run(&cfg, &r);

	snprintf(what, sizeof(what), "%s: ", nm);
	guest_check_done(&r, what);
	order_ok = guest_stages(val, seen, ST_NR, &n);
	ok(order_ok,
	   "%s: %u reports, each stage once, in order", nm, n);

	/* What the guest saw. */
	ok(seen[ST_FOUND], "%s: guest found 1af4:1042 (slot %llu)", nm,
	   val[ST_FOUND] >> 3);
	want_f = 1ULL << F_VERSION_1 | 1ULL << F_FLUSH | 1ULL << F_BLK_SIZE;
	ok((val[ST_FEATURES] & want_f) == want_f,
	   "%s: VERSION_1, FLUSH, BLK_SIZE offered (%#llx)", nm,
	   val[ST_FEATURES]);
	is_int(!!(val[ST_FEATURES] & (1ULL << F_RO)), fl->ro,
	       "%s: RO offered iff the disk is read-only", nm);
	is_int(val[ST_NEGOTIATED], want_f, "%s: negotiated", nm);
	is_int(val[ST_QVECTOR], 0, "%s: queue 0 on MSI-X vector 0", nm);
	is_int(val[ST_CAPACITY], cap, "%s: capacity %llu sectors", nm,
	       (unsigned long long)cap);
	is_int(val[ST_BLK_SIZE], SECTOR, "%s: blk_size 512", nm);
	is_int(val[ST_WRITE01], (fl->ro ? S_IOERR : S_OK) | 1 << 8,
	       "%s: T_OUT sectors 0-1: %s, used len 1", nm,
	       fl->ro ? "IOERR" : "OK");
	is_int(val[ST_WRITE_LAST], (fl->ro ? S_IOERR : S_OK) | 1 << 8,
	       "%s: T_OUT last sector: %s", nm, fl->ro ? "IOERR" : "OK");
	is_int(val[ST_READ01], S_OK | (2 * SECTOR + 1) << 8,
	       "%s: T_IN sectors 0-1: OK, used len 1025", nm);
	is_int(val[ST_CMP01], 0, "%s: sectors 0-1 read back the pattern", nm);
	is_int(val[ST_READ_LAST], S_OK | (SECTOR + 1) << 8,
	       "%s: T_IN last sector: OK, used len 513", nm);
	is_int(val[ST_CMP_LAST], 0, "%s: last sector reads back the pattern",
	       nm);
	is_int(val[ST_READ2], S_OK | (SECTOR + 1) << 8,
	       "%s: T_IN sector 2: OK", nm);
	is_int(val[ST_NONZERO2], 0, "%s: untouched sector 2 reads zeros", nm);
	is_int(val[ST_WRITE_BEYOND], S_IOERR | 1 << 8,
	       "%s: T_OUT past the end: IOERR", nm);
	is_int(val[ST_FLUSH], S_OK | 1 << 8, "%s: T_FLUSH: OK", nm);
	is_int(val[ST_GET_ID], S_OK | 21 << 8, "%s: T_GET_ID: OK, 20 bytes",
	       nm);
	ok(!memcmp(&val[ST_ID], "mvm-disk", 8), "%s: ID starts \"mvm-disk\"",
	   nm);
	is_int(val[ST_IRQS] & 0xffffffff, NR_REQUESTS, "%s: %d requests", nm,
	       NR_REQUESTS);
	is_int(val[ST_IRQS] >> 32, NR_REQUESTS,
	       "%s: one MSI-X interrupt per completion", nm);
	is_int(val[ST_STATUS], 15,
	       "%s: device status DRIVER_OK, no NEEDS_RESET", nm);

	/* The image, on this side. */
	if (fstat(fd, &st))
		st.st_size = -1;
	if (fl->ro) {
		uint8_t *after = malloc(file_size);

		is_int(st.st_size, file_size, "%s: file size unchanged", nm);
		ok(after && pread_all(fd, after, file_size, 0) &&
		   !memcmp(before, after, file_size),
		   "%s: image unchanged", nm);
		free(after);
	} else {
		static const uint64_t sectors[] = { 0, 1 };

		for (i = 0; i < 2; i++) {
			pattern_sector(want, sectors[i]);
			ok(read_sector(fd, fl->qcow2, sectors[i], got) &&
			   !memcmp(got, want, SECTOR),
			   "%s: image sector %llu holds the pattern", nm,
			   (unsigned long long)sectors[i]);
		}
		pattern_sector(want, last);
		ok(read_sector(fd, fl->qcow2, last, got) &&
		   !memcmp(got, want, SECTOR),
		   "%s: image's last sector (%llu) holds the pattern", nm,
		   (unsigned long long)last);
		ok(read_sector(fd, fl->qcow2, 2, got) &&
		   !memcmp(got, zero, SECTOR), "%s: image sector 2 still zero",
		   nm);
		if (fl->qcow2) {
			uint8_t h[80];

			ok(pread_all(fd, h, sizeof(h), 0) &&
			   get_be32(h) == QCOW2_MAGIC &&
			   get_be64(h + 24) == fl->size &&
			   !(get_be64(h + 72) & 1),
			   "%s: header intact, size unchanged, not dirty", nm);
			/* Two data clusters and one L2 table were added. */
			is_int(st.st_size, 7 * QC_CLUSTER,
			       "%s: file grew by 3 clusters", nm);
			if (have_qemu_img()) {
				snprintf(cmd, sizeof(cmd),
					 "qemu-img check -q %s", path);
				is_int(system(cmd), 0, "%s: qemu-img check",
				       nm);
			} else {
				tap_skip(1, "no qemu-img here");
			}
		} else {
			is_int(st.st_size, file_size,
			       "%s: file size unchanged (nothing past the end)",
			       nm);
		}
	}
	free(before);
	free(r.console);
	close(fd);
	unlink(path);
}

int main(void)
{
	static const struct flavour fl[] = {
		{ "raw", false, false, RAW_SIZE },
		{ "qcow2", true, false, QCOW2_SIZE },
		{ "raw,ro", false, true, RO_SIZE },
	};
	uint8_t *img;
	size_t len;
	unsigned int i;

	guest_require_kvm();
	img = guest_load("g_virtio_blk", &len);
	for (i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
		run_flavour(img, len, &fl[i]);
	free(img);
	return tap_done();
}
