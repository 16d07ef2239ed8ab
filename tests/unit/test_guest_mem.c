// SPDX-License-Identifier: GPL-2.0
/*
 * Guest RAM placement and backing (core/guest_mem.c): the host mapping is
 * aligned so KVM can map the guest with large pages (2 MiB, 1 GiB from
 * 1 GiB of RAM) and the high slot's host address is as aligned as its
 * guest-physical address; a write one byte past either region faults
 * (guard gaps); --mem-prealloc makes every page resident at
 * once; shared RAM is a file holding guest RAM byte for byte (on mvm's
 * huge-page tmpfs where it can mount one: a diag line says which);
 * hugetlb RAM fails with ENOMEM, not later, when the host has too
 * few huge pages; /proc/meminfo and smaps are read right (files in their
 * format).
 */
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "core/guest_mem.h"
#include "x86/layout.h"
#include "core/util.h"

static void bail(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Does a write to p kill a child with SIGSEGV? */
static bool faults(uint8_t *p)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		/* The default action: not ASan's report (make SAN=1). */
		signal(SIGSEGV, SIG_DFL);
		*(volatile uint8_t *)p = 1;
		_exit(0);
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) &&
	       WTERMSIG(st) == SIGSEGV;
}

static void check_alignment(uint64_t size, unsigned int flags,
			    const char *what)
{
	uint64_t want = size >= GiB ? GiB : 2 * MiB;
	struct guest_mem mem;
	uint8_t *last;
	int err = guest_mem_alloc(&mem, size, flags);

	is_int(err, 0, "%s: %llu MiB allocated", what,
	       (unsigned long long)(size >> 20));
	if (err)
		return;
	ok(IS_ALIGNED((uintptr_t)mem.host, want),
	   "%s: host address %p is %llu MiB-aligned", what, (void *)mem.host,
	   (unsigned long long)(want >> 20));
	if (mem.high_size)
		ok(IS_ALIGNED((uintptr_t)mem.high_host, GiB) &&
		   IS_ALIGNED(HIGH_RAM_START, GiB),
		   "%s: the 4 GiB slot starts 1 GiB-aligned on the host too",
		   what);
	ok(gpa_to_hva(&mem, 0, 4096) == mem.host &&
	   gpa_to_hva(&mem, mem.low_size - 4096, 4096) ==
	   mem.host + mem.low_size - 4096 &&
	   (!mem.high_size ||
	    gpa_to_hva(&mem, HIGH_RAM_START, 1) == mem.high_host),
	   "%s: RAM is where gpa_to_hva() says", what);
	/* Every region is ours: write its first and last byte. */
	last = gpa_to_hva(&mem, guest_mem_top(&mem) - 1, 1);
	mem.host[0] = 1;
	*last = 2;
	ok(mem.host[0] == 1 && *last == 2,
	   "%s: first and last byte writable", what);
	/* One byte past each region faults (the guard gaps). */
	ok(faults(mem.host + mem.low_size),
	   "%s: a write one byte past low RAM faults", what);
	if (mem.high_size)
		ok(faults(mem.high_host + mem.high_size),
		   "%s: a write one byte past high RAM faults", what);
	guest_mem_destroy(&mem);
}

static void check_prealloc(void)
{
	struct guest_mem mem;
	struct guest_mem_usage u;

	if (guest_mem_alloc(&mem, 8 * MiB, 0))
		bail("guest_mem_alloc");
	is_int(guest_mem_usage(&mem, &u), 0, "usage of lazy RAM read");
	ok(u.resident_kb < 8 * 1024,
	   "without prealloc untouched RAM is not all resident (%llu kB)",
	   (unsigned long long)u.resident_kb);
	guest_mem_destroy(&mem);

	is_int(guest_mem_alloc(&mem, 8 * MiB, GUEST_MEM_PREALLOC), 0,
	       "prealloc: 8 MiB allocated");
	is_int(guest_mem_usage(&mem, &u), 0, "usage of preallocated RAM read");
	is_int(u.resident_kb, 8 * 1024,
	       "prealloc: every page resident at once");
	guest_mem_destroy(&mem);

	is_int(guest_mem_alloc(&mem, 8 * MiB,
			       GUEST_MEM_PREALLOC | GUEST_MEM_SHARED), 0,
	       "prealloc shared: 8 MiB allocated");
	is_int(guest_mem_usage(&mem, &u), 0, "usage of shared RAM read");
	is_int(u.resident_kb, 8 * 1024,
	       "prealloc shared: every page resident at once");
	guest_mem_destroy(&mem);
}

static void check_hugetlb(void)
{
	uint64_t page = guest_mem_hugepage_size();
	long long avail = guest_mem_meminfo("/proc/meminfo", "HugePages_Free");
	struct guest_mem mem;
	struct guest_mem_usage u;
	int err;

	if (!page || avail < 0) {
		tap_skip(3, "the host has no huge pages");
		return;
	}
	err = guest_mem_alloc(&mem, 2 * page, GUEST_MEM_HUGETLB);
	if (avail < 2) {
		is_int(err, -ENOMEM,
		       "hugetlb with %lld free huge pages: ENOMEM at once", avail);
		tap_skip(2, "too few free huge pages to allocate");
		return;
	}
	is_int(err, 0, "hugetlb: 2 huge pages allocated");
	if (err) {
		tap_skip(2, "no hugetlb RAM");
		return;
	}
	mem.host[0] = 1;
	mem.host[page] = 1;
	is_int(guest_mem_usage(&mem, &u), 0, "usage of hugetlb RAM read");
	is_int(u.huge_kb, 2 * page / KiB, "hugetlb: all of it huge-page backed");
	guest_mem_destroy(&mem);
}

static char *write_file(const char *text)
{
	char *path = strdup("/tmp/mvm-test-guest-mem-XXXXXX");
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		bail("temporary file");
	close(fd);
	return path;
}

static void check_parsers(void)
{
	struct guest_mem mem = { .host = (uint8_t *)0x7f0040000000ULL,
				 .size = 1 * GiB, .map_len = 1 * GiB };
	struct guest_mem_usage u;
	char smaps[2048];
	char *mi, *sm;

	mi = write_file("MemTotal:       24000000 kB\n"
			"HugePages_Total:      16\n"
			"HugePages_Free:       12\n"
			"Hugepagesize:       2048 kB\n");
	is_int(guest_mem_meminfo(mi, "HugePages_Free"), 12, "meminfo: free");
	is_int(guest_mem_meminfo(mi, "HugePages_Total"), 16, "meminfo: total");
	is_int(guest_mem_meminfo(mi, "Hugepagesize"), 2048, "meminfo: size");
	is_int(guest_mem_meminfo(mi, "HugePages"), -1,
	       "meminfo: a key's prefix is not the key");
	unlink(mi);
	free(mi);

	/* Guest RAM split in two VMAs (THP collapse splits them so), with
	 * one mapping before and one after that must not count. */
	snprintf(smaps, sizeof(smaps),
		 "7f0000000000-7f0040000000 rw-p 00000000 00:00 0\n"
		 "Rss:             999 kB\n"
		 "AnonHugePages:   999 kB\n"
		 "7f0040000000-7f0060000000 rw-p 00000000 00:00 0\n"
		 "Size:          524288 kB\n"
		 "Rss:            8192 kB\n"
		 "AnonHugePages:   6144 kB\n"
		 "Private_Hugetlb:    0 kB\n"
		 "7f0060000000-7f0080000000 rw-s 00000000 00:01 42 /memfd:x\n"
		 "Rss:            4096 kB\n"
		 "ShmemPmdMapped:  2048 kB\n"
		 "Shared_Hugetlb:  2048 kB\n"
		 "7f0080000000-7f0080001000 r--p 00000000 00:00 0\n"
		 "Rss:               4 kB\n");
	sm = write_file(smaps);
	is_int(guest_mem_usage_from(&mem, sm, &u), 0, "smaps read");
	is_int(u.resident_kb, 8192 + 4096, "smaps: resident inside RAM only");
	is_int(u.huge_kb, 6144 + 2048 + 2048,
	       "smaps: THP and hugetlbfs inside RAM only");
	unlink(sm);
	free(sm);
	is_int(guest_mem_usage_from(&mem, "/nonexistent/smaps", &u), -ENOENT,
	       "smaps missing: -ENOENT");
}

/* ShmemPmdMapped of the mapping that starts at `start`, in KiB. */
static long pmd_mapped_kib(const void *start)
{
	unsigned long from, to;
	char line[256];
	bool in = false;
	long kib = -1;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &from, &to) == 2)
			in = from == (unsigned long)start;
		else if (in && sscanf(line, "ShmemPmdMapped: %ld kB", &kib) == 1)
			break;
	}
	fclose(f);
	return kib;
}

static void check_shared(uint64_t size)
{
	struct guest_mem mem;
	struct stat st;
	char path[64], target[256] = "", buf[16];
	uint8_t *p;
	ssize_t n;

	if (guest_mem_init_shared(&mem, size)) {
		ok(0, "guest_mem_init_shared(%llu MiB)",
		   (unsigned long long)(size / MiB));
		return;
	}
	ok(mem.fd >= 0 && !fstat(mem.fd, &st) && S_ISREG(st.st_mode) &&
	   (uint64_t)st.st_size == size,
	   "%llu MiB shared: a regular file of that size",
	   (unsigned long long)(size / MiB));
	memcpy(mem.host + 5 * MiB, "guest wrote", 12);
	ok(pread(mem.fd, buf, 12, 5 * MiB) == 12 && !memcmp(buf, "guest wrote", 12),
	   "what the guest writes is in the file at the same offset");
	ok(pwrite(mem.fd, "backend", 8, MiB) == 8 &&
	   !memcmp(mem.host + MiB, "backend", 8),
	   "what the back-end writes in the file is in guest RAM");
	if (mem.high_size) {
		p = gpa_to_hva(&mem, HIGH_RAM_START, 8);
		ok(p && (memcpy(p, "highram", 8), 1) &&
		   pread(mem.fd, buf, 8, (off_t)mem.low_size) == 8 &&
		   !memcmp(buf, "highram", 8),
		   "RAM above 4 GiB follows the low RAM in the file");
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mem.fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n > 0)
		target[n] = '\0';
	memset(mem.host, 1, 4 * MiB);
	tap_diag("shared RAM file: %s; mapping %s2 MiB-aligned; %ld KiB of it in 2 MiB pages after touching its first 4 MiB and a few bytes",
		 strstr(target, "memfd:") ? "a memfd (no huge-page tmpfs here)" :
		 "mvm's huge-page tmpfs",
		 IS_ALIGNED((uintptr_t)mem.host, 2 * MiB) ? "" : "not ",
		 pmd_mapped_kib(mem.host));
	guest_mem_destroy(&mem);
}

int main(void)
{
	struct guest_mem mem;

	check_alignment(64 * MiB, 0, "private");
	check_alignment(2 * GiB, 0, "private");
	check_alignment(5 * GiB, 0, "private");
	check_alignment(64 * MiB, GUEST_MEM_SHARED, "shared");
	check_alignment(5 * GiB, GUEST_MEM_SHARED, "shared");
	is_int(guest_mem_alloc(&mem, 3 * MiB, 0), -EINVAL,
	       "a size that is not a multiple of 2 MiB is refused");
	check_shared(8 * MiB);
	check_shared(4 * GiB + 2 * MiB);
	check_prealloc();
	check_hugetlb();
	check_parsers();
	return tap_done();
}
