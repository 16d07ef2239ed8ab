// SPDX-License-Identifier: GPL-2.0
/*
 * Raw block backend and blockdev_open(): spec parsing, format detection,
 * vectored I/O, bounds, read-only, flush, discard, and clear refusals.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "lib/capture.h"
#include "block/blockdev.h"
#include "core/util.h"

#define DISK_SIZE	(1 * MiB)

static char dir[64];
static char path[256];
static const char *errbuf;	/* what the last capture caught */

static bool one_line_with(const char *what)
{
	return one_error_line(errbuf, what);
}

static void expect_refused(const char *spec, int err, const char *what)
{
	struct blockdev *bd = NULL;
	int ret;

	capture_start();
	ret = blockdev_open(spec, &bd);
	errbuf = capture_end();
	is_int(ret, -err, "'%s' refused", spec);
	ok(!bd && one_line_with(what), "... with one line saying '%s'", what);
	if (!one_line_with(what))
		tap_diag("stderr: %s", errbuf);
	blockdev_close(bd);
}

static void make_disk(void)
{
	uint8_t *b = malloc(DISK_SIZE);
	int fd, i;

	for (i = 0; i < (int)DISK_SIZE; i++)
		b[i] = (uint8_t)(i * 13 + i / 4096);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, b, DISK_SIZE) != (ssize_t)DISK_SIZE) {
		perror(path);
		exit(1);
	}
	close(fd);
	free(b);
}

static uint8_t pat(uint64_t i)
{
	return (uint8_t)(i * 13 + i / 4096);
}

static void test_rw(void)
{
	static uint8_t big[8192];
	uint8_t a[100], b[5000], c[3];
	struct iovec v[3] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, 3 } };
	struct blockdev *bd;
	bool good = true;
	size_t i;

	make_disk();
	ok(!blockdev_open(path, &bd), "opens");
	if (!bd)
		return;
	ok(!strcmp(bd->format, "raw") && bd->size == DISK_SIZE &&
	   !bd->read_only, "raw, size from the file, writable");
	is_int(blockdev_preadv(bd, v, 3, 777), 0, "vectored read");
	for (i = 0; i < sizeof(a); i++)
		good &= a[i] == pat(777 + i);
	for (i = 0; i < sizeof(b); i++)
		good &= b[i] == pat(877 + i);
	for (i = 0; i < sizeof(c); i++)
		good &= c[i] == pat(5877 + i);
	ok(good, "... right bytes in every iovec");
	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));
	memset(c, 3, sizeof(c));
	is_int(blockdev_pwritev(bd, v, 3, DISK_SIZE - 5103), 0,
	       "vectored write ending at the last byte");
	memset(b, 0, sizeof(b));
	is_int(blockdev_pread(bd, b, sizeof(b), DISK_SIZE - 5003), 0,
	       "read it back");
	ok(b[0] == 2 && b[4999] == 2, "... the write landed");
	is_int(blockdev_pread(bd, b, 2, DISK_SIZE - 1), -EINVAL,
	       "read crossing the end: -EINVAL");
	is_int(blockdev_pwrite(bd, b, 1, DISK_SIZE), -EINVAL,
	       "write past the end: -EINVAL");
	is_int(blockdev_pread(bd, b, 0, DISK_SIZE), 0,
	       "empty read at the end is fine");
	is_int(blockdev_flush(bd), 0, "flush");
	if (bd->discard) {
		is_int(blockdev_discard(bd, 8192, 8192), 0, "discard");
		is_int(blockdev_pread(bd, big, 8192, 8192), 0, "read it");
		for (i = 0, good = true; i < 8192; i++)
			good &= !big[i];
		ok(good, "discarded range reads zeros (hole)");
		ok(blockdev_pread(bd, b, 1, 16384) == 0 && b[0] == pat(16384),
		   "data after it untouched");
	} else {
		is_int(blockdev_discard(bd, 8192, 8192), -EOPNOTSUPP,
		       "no discard on this file system");
		tap_skip(3, "file system cannot punch holes");
	}
	is_int(blockdev_discard(bd, DISK_SIZE, 1),
	       bd->discard ? -EINVAL : -EOPNOTSUPP, "discard past the end");
	blockdev_close(bd);
	{
		struct stat st;

		ok(!stat(path, &st) && st.st_size == DISK_SIZE,
		   "file size unchanged");
	}
}

static void test_ro(void)
{
	char spec[300];
	struct blockdev *bd;
	uint8_t b[16];
	int fd;

	snprintf(spec, sizeof(spec), "%s,ro", path);
	ok(!blockdev_open(spec, &bd) && bd->read_only && !bd->discard,
	   "',ro' opens read-only");
	if (!bd)
		return;
	is_int(blockdev_pwrite(bd, b, 16, 0), -EROFS, "write: -EROFS");
	is_int(blockdev_flush(bd), -EROFS, "flush: -EROFS");
	is_int(blockdev_discard(bd, 0, 512), -EROFS, "discard: -EROFS");
	is_int(blockdev_pread(bd, b, 16, 4096), 0, "reads work");
	/* The file shrinks under the VM: an error, not zeros. */
	fd = open(path, O_WRONLY);
	ok(!ftruncate(fd, 8192), "truncate the file behind mvm's back");
	close(fd);
	is_int(blockdev_pread(bd, b, 16, 65536), -EIO,
	       "read past the new end: -EIO");
	blockdev_close(bd);
	chmod(path, 0444);
	if (geteuid()) {
		expect_refused(path, EACCES, "cannot open disk image");
	} else {
		tap_skip(2, "root ignores file modes");
	}
	chmod(path, 0644);
}

static void test_spec_and_detection(void)
{
	char spec[300];
	struct blockdev *bd, *bd2 = NULL;
	int fd, ret;

	make_disk();
	snprintf(spec, sizeof(spec), "%s,bogus", path);
	expect_refused(spec, EINVAL, "unknown disk option 'bogus'");
	expect_refused(",ro", EINVAL, "empty disk file name");
	expect_refused("/nonexistent/disk.img", ENOENT,
		       "/nonexistent/disk.img: cannot open disk image: No such file");
	expect_refused(dir, EISDIR, "cannot open disk image: Is a directory");
	snprintf(spec, sizeof(spec), "%s,ro", dir);
	expect_refused(spec, EINVAL, "must be a regular file or a block device");
	expect_refused("/dev/null", EINVAL,
		       "must be a regular file or a block device");
	snprintf(spec, sizeof(spec), "%s,ro,format=raw", path);
	ok(!blockdev_open(spec, &bd) && !strcmp(bd->format, "raw"),
	   "options combine");
	blockdev_close(bd);

	/* A file starting with the qcow2 magic is taken for qcow2... */
	fd = open(path, O_WRONLY);
	ok(pwrite(fd, "QFI\xfb\0\0\0\3", 8, 0) == 8, "write a qcow2 magic");
	close(fd);
	capture_start();
	ret = blockdev_open(path, &bd2);
	errbuf = capture_end();
	ok(ret < 0 && !bd2 && one_line_with("qcow2"),
	   "a raw disk with the qcow2 magic is refused as a broken qcow2");
	/* ...unless format=raw says otherwise. */
	snprintf(spec, sizeof(spec), "%s,format=raw", path);
	ok(!blockdev_open(spec, &bd) && !strcmp(bd->format, "raw") &&
	   bd->size == DISK_SIZE, "format=raw forces raw");
	/* Locking: same rules as qcow2. */
	capture_start();
	ret = blockdev_open(spec, &bd2);
	errbuf = capture_end();
	is_int(ret, -EBUSY, "second writer refused");
	ok(one_line_with("image is locked by another process (is another VM using it?)"),
	   "... with the lock message");
	blockdev_close(bd);
}

int main(void)
{
	/* RAM-backed if possible: the backends fdatasync a lot. */
	snprintf(dir, sizeof(dir), "%s/mvm-raw-XXXXXX",
		 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
	if (!mkdtemp(dir))
		tap_skip_all("cannot create a temporary directory");
	snprintf(path, sizeof(path), "%s/disk.img", dir);

	test_rw();
	test_ro();
	test_spec_and_detection();

	unlink(path);
	rmdir(dir);
	return tap_done();
}
