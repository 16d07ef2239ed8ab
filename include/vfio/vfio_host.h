/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel boundary of VFIO passthrough, as one small table of functions.
 * Everything mvm does to a host device goes through it: open of the
 * container, group and sysfs paths, ioctl on their fds, pread/pwrite at
 * region offsets, mmap of regions, and eventfd creation.
 *
 * vfio_host_real() makes the syscalls.  The simulated host
 * (vfio/host/sim_host.c) implements the same uAPI semantics (linux/vfio.h)
 * around simulated PCI functions, so the production passthrough code runs
 * unchanged against it in tests and with `--passthrough sim:MODEL`.
 */
#ifndef MVM_VFIO_HOST_H
#define MVM_VFIO_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vfio_host;

struct vfio_host_ops {
	/* open(2) of /dev/vfio/vfio, /dev/vfio/N; returns fd or -errno. */
	int (*open)(struct vfio_host *h, const char *path, int flags);
	int (*close)(struct vfio_host *h, int fd);
	/* ioctl(2); returns the ioctl's value (>= 0) or -errno. */
	int (*ioctl)(struct vfio_host *h, int fd, unsigned long req,
		     void *arg);
	/* pread/pwrite(2); returns bytes or -errno. */
	ssize_t (*pread)(struct vfio_host *h, int fd, void *buf, size_t len,
			 off_t off);
	ssize_t (*pwrite)(struct vfio_host *h, int fd, const void *buf,
			  size_t len, off_t off);
	/* mmap(2) of a region; returns the address or NULL (errno set). */
	void *(*mmap)(struct vfio_host *h, size_t len, int prot, int fd,
		      off_t off);
	int (*munmap)(struct vfio_host *h, void *addr, size_t len);
	/*
	 * eventfd(2) with EFD_CLOEXEC|EFD_NONBLOCK; fd or -errno.  Always a
	 * real fd (KVM takes it as an irqfd): the caller close(2)s it.
	 */
	int (*eventfd)(struct vfio_host *h);
	/*
	 * readlink(2) of a sysfs path (e.g. .../iommu_group), and a check
	 * that a sysfs path exists; return length / 0, or -errno.
	 */
	ssize_t (*readlink)(struct vfio_host *h, const char *path, char *buf,
			    size_t len);
	int (*exists)(struct vfio_host *h, const char *path);
	/* Read a small sysfs attribute file (e.g. .../driver link name). */
	ssize_t (*read_attr)(struct vfio_host *h, const char *path, char *buf,
			     size_t len);
	void (*destroy)(struct vfio_host *h);
};

struct vfio_host {
	const struct vfio_host_ops *ops;
	void *priv;
};

/* The real kernel.  Static: never destroyed. */
struct vfio_host *vfio_host_real(void);

#endif
