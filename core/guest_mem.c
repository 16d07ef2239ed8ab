// SPDX-License-Identifier: GPL-2.0
/*
 * Guest RAM (include/core/guest_mem.h).
 *
 * KVM maps a guest page with a large page only when the guest-physical
 * and host addresses agree modulo the large page size ("gfn and userspace
 * address are not aligned wrt each other" disables large pages for the
 * whole slot: kvm_alloc_memslot_metadata(), arch/x86/kvm/x86.c) and the
 * host range under it is one huge page itself (host_pfn_mapping_level(),
 * arch/x86/kvm/mmu/mmu.c).  A plain mmap() returns a 4 KiB-aligned
 * address (Linux < 6.7 does not align large anonymous mappings), so
 * neither holds and every guest access faults in 4 KiB pages.  Hence the
 * mapping is placed at a 1 GiB boundary when the RAM is that large (2 MiB
 * otherwise), MADV_HUGEPAGE asks for THP, and each slot starts at an
 * offset as aligned as its guest-physical address (GPA 0 at offset 0; GPA
 * 4 GiB at high_host, as aligned).
 *
 * Guard gaps: the low and the high region are separate mappings inside
 * one reservation, each followed by an inaccessible (PROT_NONE) gap as
 * large as the alignment, so a host-side overrun from the end of either
 * faults instead of landing in the other region or in unrelated memory:
 *
 *   host: [low RAM][guard][high RAM][guard]     (high only above 3 GiB)
 */
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

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23	/* Linux 5.14 */
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB		0x0004U	/* Linux 4.14 */
#endif

/*
 * Reserve `len` bytes of address space at an `align`-aligned address,
 * inaccessible (PROT_NONE): the RAM regions are mapped over parts of it
 * (MAP_FIXED), the rest stays as guard gaps.
 */
static uint8_t *reserve_aligned(uint64_t len, uint64_t align)
{
	uint64_t span = len + align;
	uint8_t *r, *a;

	r = mmap(NULL, span, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED)
		return NULL;
	a = (uint8_t *)ALIGN_UP((uintptr_t)r, (uintptr_t)align);
	if (a > r)
		munmap(r, (size_t)(a - r));
	if (r + span > a + len)
		munmap(a + len, (size_t)(r + span - (a + len)));
	return a;
}

static int map_region(uint8_t *at, uint64_t len, int flags, int fd,
		      uint64_t off)
{
	void *p = mmap(at, len, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fd,
		       (off_t)off);

	return p == MAP_FAILED ? -errno : 0;
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

/* Touch every page once: for kernels without MADV_POPULATE_WRITE. */
static void touch_pages(uint8_t *p, uint64_t size, uint64_t step)
{
	uint64_t off;

	for (off = 0; off < size; off += step)
		__atomic_fetch_add(p + off, 0, __ATOMIC_RELAXED);
}

static int populate(uint8_t *p, uint64_t size, uint64_t page)
{
	if (madvise(p, size, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	/*
	 * Before 5.14: touch.  Hugetlb pages were reserved by mmap() (no
	 * MAP_NORESERVE), so this cannot SIGBUS; anonymous memory was
	 * accounted at mmap(), as for any touch of guest RAM.
	 */
	touch_pages(p, size, page);
	return 0;
}

/* Each region: THP advice, or every page now (GUEST_MEM_PREALLOC). */
static int prepare_region(const struct guest_mem *mem, uint8_t *p,
			  uint64_t len)
{
	if (!len)
		return 0;
	/* Guest RAM is large and mostly idle: let THP back it if it can. */
	if (!(mem->flags & GUEST_MEM_HUGETLB))
		madvise(p, len, MADV_HUGEPAGE);
	if (mem->flags & GUEST_MEM_PREALLOC)
		return populate(p, len, mem->page_size);
	return 0;
}

int guest_mem_alloc(struct guest_mem *mem, uint64_t size, unsigned int flags)
{
	bool huge = flags & GUEST_MEM_HUGETLB;
	uint64_t page = huge ? guest_mem_hugepage_size() : 4 * KiB;
	uint64_t low, high, guard;
	int fd = -1, mflags, err;
	uint8_t *base;

	memset(mem, 0, sizeof(*mem));
	mem->fd = -1;
	if (size < 2 * MiB || !IS_ALIGNED(size, 2 * MiB))
		return -EINVAL;
	if (huge && (!page || !IS_ALIGNED(size, page)))
		return -EINVAL;
	if (flags & GUEST_MEM_SHARED) {
		fd = huge ? memfd_create("mvm-guest-ram",
					 MFD_CLOEXEC | MFD_HUGETLB) :
			    shared_ram_fd(size);
		if (fd < 0)
			return huge ? -errno : fd;
		if (ftruncate(fd, (off_t)size) < 0) {
			err = -errno;
			close(fd);
			return err;
		}
		mflags = MAP_SHARED;
	} else {
		mflags = MAP_PRIVATE | MAP_ANONYMOUS | (huge ? MAP_HUGETLB : 0);
	}
	/*
	 * MAP_NORESERVE only for RAM allocated as the guest touches it.
	 * Hugetlb pages are then reserved by mmap() and a shortage is ENOMEM
	 * here, not SIGBUS later; preallocated RAM is accounted at mmap(), so
	 * a size the host can never give fails here, not in the OOM killer.
	 */
	if (!huge && !(flags & GUEST_MEM_PREALLOC))
		mflags |= MAP_NORESERVE;
	low = MIN(size, MMIO_HOLE_START);
	high = size - low;
	mem->align = MAX(size >= GiB ? GiB : 2 * MiB, page);
	/* A guard as large as the alignment keeps the high region aligned. */
	guard = mem->align;
	mem->map_len = low + guard + (high ? high + guard : 0);
	base = reserve_aligned(mem->map_len, mem->align);
	if (!base) {
		err = -errno;
		goto fail;
	}
	mem->host = base;
	mem->high_host = high ? base + low + guard : NULL;
	mem->fd = fd;
	mem->size = size;
	mem->flags = flags;
	mem->page_size = page;
	mem->low_size = low;
	mem->high_size = high;
	/* The memfd holds the regions back to back: byte i of the file is
	 * guest RAM byte i (low region, then high). */
	err = map_region(mem->host, low, mflags, fd, 0);
	if (!err && high)
		err = map_region(mem->high_host, high, mflags, fd, low);
	if (!err)
		err = prepare_region(mem, mem->host, low);
	if (!err)
		err = prepare_region(mem, mem->high_host, high);
	if (!err)
		return 0;
	guest_mem_destroy(mem);
	return err;
fail:
	if (fd >= 0)
		close(fd);
	mem->fd = -1;
	return err;
}

int guest_mem_init(struct guest_mem *mem, uint64_t size)
{
	return guest_mem_alloc(mem, size, 0);
}

int guest_mem_init_shared(struct guest_mem *mem, uint64_t size)
{
	return guest_mem_alloc(mem, size, GUEST_MEM_SHARED);
}

void guest_mem_destroy(struct guest_mem *mem)
{
	/* fd is only meaningful once mapped (a zeroed struct has fd 0). */
	if (mem->host) {
		munmap(mem->host, mem->map_len);
		if (mem->fd >= 0)
			close(mem->fd);
	}
	mem->host = mem->high_host = NULL;
	mem->fd = -1;
}

/* A "Key:   N kB" (or "Key: N") line of /proc/meminfo or smaps: N, or -1. */
static long long kb_field(const char *line, const char *key)
{
	size_t n = strlen(key);
	long long v;

	if (strncmp(line, key, n) || line[n] != ':')
		return -1;
	if (sscanf(line + n + 1, "%lld", &v) != 1)
		return -1;
	return v;
}

long long guest_mem_meminfo(const char *meminfo, const char *key)
{
	char line[256];
	long long v = -1;
	FILE *f = fopen(meminfo, "re");

	if (!f)
		return -1;
	while (v < 0 && fgets(line, sizeof(line), f))
		v = kb_field(line, key);
	fclose(f);
	return v;
}

uint64_t guest_mem_hugepage_size(void)
{
	long long kb = guest_mem_meminfo("/proc/meminfo", "Hugepagesize");

	return kb > 0 ? (uint64_t)kb * KiB : 0;
}

/*
 * The smaps entries of the mappings inside [mem->host, +size): sizes in
 * kB.  Huge-page backed: THP (AnonHugePages, ShmemPmdMapped) and hugetlbfs
 * (Private_Hugetlb, Shared_Hugetlb).
 */
int guest_mem_usage_from(const struct guest_mem *mem, const char *smaps,
			 struct guest_mem_usage *u)
{
	static const char *const huge_keys[] = {
		"AnonHugePages", "ShmemPmdMapped", "FilePmdMapped",
		"Private_Hugetlb", "Shared_Hugetlb",
	};
	uintptr_t lo = (uintptr_t)mem->host, hi = lo + mem->map_len;
	char line[512];
	bool inside = false;
	unsigned int i;
	FILE *f;

	memset(u, 0, sizeof(*u));
	if (!mem->host)
		return -EINVAL;
	f = fopen(smaps, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;
		char perms[8];
		long long v;

		/* A mapping's first line: "start-end perms offset dev ...";
		 * its fields are "Key:   N kB" lines. */
		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) == 3) {
			inside = start >= lo && end <= hi;
			continue;
		}
		if (!inside)
			continue;
		if ((v = kb_field(line, "Rss")) >= 0)
			u->resident_kb += (uint64_t)v;
		for (i = 0; i < ARRAY_SIZE(huge_keys); i++)
			if ((v = kb_field(line, huge_keys[i])) >= 0)
				u->huge_kb += (uint64_t)v;
	}
	fclose(f);
	return 0;
}

int guest_mem_usage(const struct guest_mem *mem, struct guest_mem_usage *u)
{
	return guest_mem_usage_from(mem, "/proc/self/smaps", u);
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
		return mem->high_host + (gpa - HIGH_RAM_START);
	}
	return NULL;
}

uint64_t guest_mem_top(const struct guest_mem *mem)
{
	return mem->high_size ? HIGH_RAM_START + mem->high_size
			      : mem->low_size;
}
