/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A cpio "newc" archive built in memory (hostroot/cpio.c): what the
 * kernel unpacks as an initramfs (Documentation/driver-api/
 * early-userspace/buffer-format.rst).
 */
#ifndef MVM_HOSTROOT_CPIO_H
#define MVM_HOSTROOT_CPIO_H

#include <stddef.h>
#include <stdint.h>

struct cpio {
	uint8_t *buf;
	size_t len, cap;
	unsigned int ino;
	int err;		/* first error: later calls do nothing */
};

void cpio_init(struct cpio *c);
/* mode: the permission bits (07777); the type comes from the call. */
int cpio_add_dir(struct cpio *c, const char *path, unsigned int mode);
int cpio_add_file(struct cpio *c, const char *path, unsigned int mode,
		  const void *data, size_t len);
int cpio_add_symlink(struct cpio *c, const char *path, const char *target);
/* The TRAILER!!! entry; then c->buf/c->len is the archive. */
int cpio_finish(struct cpio *c);
void cpio_free(struct cpio *c);

#endif
