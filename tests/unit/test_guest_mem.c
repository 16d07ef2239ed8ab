// SPDX-License-Identifier: GPL-2.0
/*
 * Guest RAM: private RAM has no file and is 2 MiB-aligned; shared RAM's
 * file holds guest RAM byte for byte (what a vhost-user back-end maps),
 * below and above the 32-bit MMIO hole.  Which file it is (mvm's
 * huge-page tmpfs where it can mount one, else a memfd) depends on the
 * host: said in a diag line, with the mapping's alignment and how much
 * of what was touched sits in 2 MiB pages.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "core/guest_mem.h"
#include "core/util.h"
#include "x86/layout.h"

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

	ok(!guest_mem_init(&mem, 8 * MiB) && mem.fd == -1,
	   "private RAM has no file");
	ok(IS_ALIGNED((uintptr_t)mem.host, 2 * MiB),
	   "private RAM is 2 MiB-aligned (KVM can map huge pages whole)");
	memset(mem.host, 1, mem.size);
	guest_mem_destroy(&mem);
	check_shared(8 * MiB);
	check_shared(4 * GiB + 2 * MiB);
	return tap_done();
}
