// SPDX-License-Identifier: GPL-2.0
/* The real VFIO kernel boundary: thin wrappers around the syscalls. */
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/util.h"
#include "vfio/vfio_host.h"

static int real_open(struct vfio_host *h, const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int real_close(struct vfio_host *h, int fd)
{
	return close(fd) < 0 ? -errno : 0;
}

static int real_ioctl(struct vfio_host *h, int fd, unsigned long req,
		      void *arg)
{
	int r = ioctl(fd, req, arg);

	return r < 0 ? -errno : r;
}

static ssize_t real_pread(struct vfio_host *h, int fd, void *buf, size_t len,
			  off_t off)
{
	ssize_t r = pread(fd, buf, len, off);

	return r < 0 ? -errno : r;
}

static ssize_t real_pwrite(struct vfio_host *h, int fd, const void *buf,
			   size_t len, off_t off)
{
	ssize_t r = pwrite(fd, buf, len, off);

	return r < 0 ? -errno : r;
}

static void *real_mmap(struct vfio_host *h, size_t len, int prot, int fd,
		       off_t off)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, off);

	return p == MAP_FAILED ? NULL : p;
}

static int real_munmap(struct vfio_host *h, void *addr, size_t len)
{
	return munmap(addr, len) < 0 ? -errno : 0;
}

static int real_eventfd(struct vfio_host *h)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	return fd < 0 ? -errno : fd;
}

static ssize_t real_readlink(struct vfio_host *h, const char *path, char *buf,
			     size_t len)
{
	ssize_t r = readlink(path, buf, len);

	return r < 0 ? -errno : r;
}

static int real_exists(struct vfio_host *h, const char *path)
{
	return access(path, F_OK) < 0 ? -errno : 0;
}

static ssize_t real_read_attr(struct vfio_host *h, const char *path,
			      char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t off = 0;
	ssize_t r = 0;

	if (fd < 0)
		return -errno;
	/* procfs files (/proc/interrupts) come in several reads. */
	while (off < len) {
		r = read(fd, buf + off, len - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	if (r < 0)
		r = -errno;
	close(fd);
	return r < 0 ? r : (ssize_t)off;
}

static const struct vfio_host_ops real_ops = {
	.open = real_open,
	.close = real_close,
	.ioctl = real_ioctl,
	.pread = real_pread,
	.pwrite = real_pwrite,
	.mmap = real_mmap,
	.munmap = real_munmap,
	.eventfd = real_eventfd,
	.readlink = real_readlink,
	.exists = real_exists,
	.read_attr = real_read_attr,
};

static struct vfio_host real_host = { .ops = &real_ops };

struct vfio_host *vfio_host_real(void)
{
	return &real_host;
}
