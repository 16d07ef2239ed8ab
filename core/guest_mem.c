// SPDX-License-Identifier: GPL-2.0
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <linux/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/guest_mem.h"
#include "x86/layout.h"
#include "core/util.h"

/*
 * Private RAM at a 2 MiB-aligned address: KVM maps a 2 MiB page into
 * the guest only where the host and guest addresses agree modulo 2 MiB,
 * and a plain mmap() of anonymous memory is only page-aligned (Linux
 * aligns large anonymous mappings itself only since 6.7).  Without it
 * THP still backs the memory but KVM maps it 4 KiB at a time: one page
 * fault per 4 KiB the guest touches.
 */
static void *map_private_aligned(uint64_t size)
{
	size_t len = size + 2 * MiB;
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint8_t *a;

	if (p == MAP_FAILED)
		return p;
	a = (uint8_t *)ALIGN_UP((uintptr_t)p, 2 * MiB);
	if (a > p)
		munmap(p, (size_t)(a - p));
	munmap(a + size, (size_t)(p + len - (a + size)));
	return a;
}

static int mem_map(struct guest_mem *mem, uint64_t size, int fd)
{
	void *p;

	mem->fd = -1;
	if (size < 2 * MiB || !IS_ALIGNED(size, 2 * MiB))
		return -EINVAL;
	if (fd < 0)
		p = map_private_aligned(size);
	else if (ftruncate(fd, (off_t)size) < 0)
		return -errno;
	else
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	/* Guest RAM is large and mostly idle: let THP back it if it can. */
	madvise(p, size, MADV_HUGEPAGE);
	mem->fd = fd;
	mem->host = p;
	mem->size = size;
	mem->low_size = MIN(size, MMIO_HOLE_START);
	mem->high_size = size - mem->low_size;
	return 0;
}

int guest_mem_init(struct guest_mem *mem, uint64_t size)
{
	return mem_map(mem, size, -1);
}

/*
 * Shared guest RAM on transparent huge pages.  A memfd lives on the
 * kernel's internal tmpfs, whose huge page policy is the system's
 * /sys/kernel/mm/transparent_hugepage/shmem_enabled, "never" by default:
 * every 4 KiB the guest touches is then its own shmem page and its own
 * KVM page fault (about 25000 while a Linux guest boots), where private
 * RAM gets THP.  A tmpfs of our own, mounted with huge=always, backs the
 * file with 2 MiB pages whatever that setting (Documentation/filesystems/
 * tmpfs.rst) and maps it 2 MiB-aligned, so KVM maps 2 MiB at a time.
 * The tmpfs is never attached anywhere: fsopen()/fsmount() give a
 * detached mount (Linux 5.2+), and the file is an O_TMPFILE on it.
 * Mounting needs CAP_SYS_ADMIN over the mount namespace: root has it;
 * other users get it in a new user namespace, in a child process (mvm
 * keeps its own namespaces), which hands the file over a socket.
 */
static int huge_tmpfs_file(const char *size)
{
	int fs, mnt, fd = -1;

	fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -1;
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "huge", "always",
		    0) ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", size, 0) ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0)) {
		close(fs);
		return -1;
	}
	mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
			   MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSUID |
			   MOUNT_ATTR_NODEV);
	close(fs);
	if (mnt >= 0) {
		fd = openat(mnt, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		close(mnt);
	}
	return fd;
}

static bool put_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok;
}

/* huge_tmpfs_file() in a child in new user and mount namespaces. */
static int huge_tmpfs_file_userns(const char *size)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	char byte = 0, uid_map[32], gid_map[32];
	struct iovec iov = { &byte, 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	int sv[2], fd = -1, st;
	pid_t pid;

	/* The same ids inside: the file is created as this user. */
	snprintf(uid_map, sizeof(uid_map), "%u %u 1", getuid(), getuid());
	snprintf(gid_map, sizeof(gid_map), "%u %u 1", getgid(), getgid());
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	memset(&ctl, 0, sizeof(ctl));
	pid = fork();
	if (pid == 0) {
		/* Only async-signal-safe calls here: mvm may have threads. */
		close(sv[0]);
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) ||
		    !put_str("/proc/self/setgroups", "deny") ||
		    !put_str("/proc/self/uid_map", uid_map) ||
		    !put_str("/proc/self/gid_map", gid_map))
			_exit(1);
		fd = huge_tmpfs_file(size);
		if (fd < 0)
			_exit(1);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
		_exit(sendmsg(sv[1], &mh, MSG_NOSIGNAL) == 1 ? 0 : 1);
	}
	close(sv[1]);
	if (pid > 0) {
		/* EOF, no fd, when the child fails. */
		if (recvmsg(sv[0], &mh, MSG_CMSG_CLOEXEC) == 1 &&
		    (c = CMSG_FIRSTHDR(&mh)) && c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	close(sv[0]);
	return fd;
}

/* A file for shared RAM: on a huge-page tmpfs if we can, else a memfd. */
static int shared_ram_fd(uint64_t size)
{
	char sz[24];
	int fd;

	snprintf(sz, sizeof(sz), "%llu", (unsigned long long)size);
	fd = huge_tmpfs_file(sz);
	if (fd < 0)
		fd = huge_tmpfs_file_userns(sz);
	if (fd < 0)
		fd = memfd_create("mvm-guest-ram", MFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int guest_mem_init_shared(struct guest_mem *mem, uint64_t size)
{
	int fd = shared_ram_fd(size);
	int err;

	if (fd < 0)
		return fd;
	err = mem_map(mem, size, fd);
	if (err)
		close(fd);
	return err;
}

void guest_mem_destroy(struct guest_mem *mem)
{
	/* fd is only meaningful once mapped (a zeroed struct has fd 0). */
	if (mem->host) {
		munmap(mem->host, mem->size);
		if (mem->fd >= 0)
			close(mem->fd);
	}
	mem->host = NULL;
	mem->fd = -1;
}

void *gpa_to_hva(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	if (gpa < mem->low_size) {
		if (len > mem->low_size - gpa)
			return NULL;
		return mem->host + gpa;
	}
	if (gpa >= HIGH_RAM_START && gpa - HIGH_RAM_START < mem->high_size) {
		if (len > mem->high_size - (gpa - HIGH_RAM_START))
			return NULL;
		return mem->host + mem->low_size + (gpa - HIGH_RAM_START);
	}
	return NULL;
}

uint64_t guest_mem_top(const struct guest_mem *mem)
{
	return mem->high_size ? HIGH_RAM_START + mem->high_size
			      : mem->low_size;
}
