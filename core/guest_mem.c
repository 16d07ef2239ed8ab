// SPDX-License-Identifier: GPL-2.0
#include <sys/mman.h>
#include <unistd.h>

#include "core/guest_mem.h"
#include "x86/layout.h"
#include "core/util.h"

static int mem_map(struct guest_mem *mem, uint64_t size, int fd)
{
	void *p;

	mem->fd = -1;
	if (size < 2 * MiB || !IS_ALIGNED(size, 2 * MiB))
		return -EINVAL;
	if (fd < 0)
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
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

int guest_mem_init_shared(struct guest_mem *mem, uint64_t size)
{
	int fd = memfd_create("mvm-guest-ram", MFD_CLOEXEC);
	int err;

	if (fd < 0)
		return -errno;
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
