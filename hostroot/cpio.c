// SPDX-License-Identifier: GPL-2.0
/*
 * The cpio "newc" writer of the generated initramfs.
 *
 * Written here rather than taken from a library: the format is a 110-byte
 * ASCII header, the name and the data, each padded to 4 bytes
 * (Documentation/driver-api/early-userspace/buffer-format.rst), about 80
 * lines.  libarchive is the one library that writes it; it is large,
 * brings its own dependencies into the static build the nested harness
 * needs, and writes through a callback API that costs more lines than the
 * format.  The kernel reads uncompressed archives, so no compression
 * either.  tests/unit/test_hostroot_cpio.c checks the output with GNU
 * cpio's -t and -i.
 *
 * Every entry has uid/gid 0, mtime 0 and nlink 1 (2 for folders); inodes
 * are numbered from 1 so no two entries look like hard links.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core/util.h"
#include "hostroot/cpio.h"

#define CPIO_HDR_LEN	110

void cpio_init(struct cpio *c)
{
	memset(c, 0, sizeof(*c));
}

static int cpio_reserve(struct cpio *c, size_t n)
{
	size_t cap = c->cap ? c->cap : 64 * KiB;
	uint8_t *nb;

	if (c->err)
		return c->err;
	if (n > SIZE_MAX - c->len) {
		c->err = -EOVERFLOW;
		return c->err;
	}
	while (cap < c->len + n)
		cap *= 2;
	if (cap != c->cap) {
		nb = realloc(c->buf, cap);
		if (!nb) {
			c->err = -ENOMEM;
			return c->err;
		}
		c->buf = nb;
		c->cap = cap;
	}
	return 0;
}

static void cpio_put(struct cpio *c, const void *p, size_t n)
{
	memcpy(c->buf + c->len, p, n);
	c->len += n;
}

static void cpio_pad4(struct cpio *c)
{
	while (c->len & 3)
		c->buf[c->len++] = 0;
}

static int cpio_entry(struct cpio *c, const char *name, unsigned int mode,
		      unsigned int nlink, const void *data, size_t len)
{
	size_t nlen = strlen(name) + 1;
	char hdr[CPIO_HDR_LEN + 1];
	int err;

	if (len > 0xffffffffUL || nlen > 0xffffffffUL) {
		c->err = c->err ? c->err : -EFBIG;
		return c->err;
	}
	err = cpio_reserve(c, CPIO_HDR_LEN + nlen + len + 6);
	if (err)
		return err;
	/* magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
	 * devminor, rdevmajor, rdevminor, namesize, check */
	snprintf(hdr, sizeof(hdr),
		 "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 name[0] == 'T' && !strcmp(name, "TRAILER!!!") ? 0 : ++c->ino,
		 mode, 0, 0, nlink, 0, (unsigned int)len, 0, 0, 0, 0,
		 (unsigned int)nlen, 0);
	cpio_put(c, hdr, CPIO_HDR_LEN);
	cpio_put(c, name, nlen);
	cpio_pad4(c);
	if (len)
		cpio_put(c, data, len);
	cpio_pad4(c);
	return 0;
}

/* Archive names have no leading '/' (as `find . | cpio -o` without ./). */
static const char *cpio_name(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

int cpio_add_dir(struct cpio *c, const char *path, unsigned int mode)
{
	return cpio_entry(c, cpio_name(path), S_IFDIR | (mode & 07777), 2,
			  NULL, 0);
}

int cpio_add_file(struct cpio *c, const char *path, unsigned int mode,
		  const void *data, size_t len)
{
	return cpio_entry(c, cpio_name(path), S_IFREG | (mode & 07777), 1,
			  data, len);
}

int cpio_add_symlink(struct cpio *c, const char *path, const char *target)
{
	return cpio_entry(c, cpio_name(path), S_IFLNK | 0777, 1, target,
			  strlen(target));
}

int cpio_finish(struct cpio *c)
{
	return cpio_entry(c, "TRAILER!!!", 0, 1, NULL, 0);
}

void cpio_free(struct cpio *c)
{
	free(c->buf);
	cpio_init(c);
}
