// SPDX-License-Identifier: GPL-2.0
/*
 * KVM binary statistics (core/kvm_stats.c) read from a file laid out as
 * the kernel lays out a vCPU's stats fd (uapi kvm.h): header, id string,
 * descriptors with their names, data block.  Only the cumulative
 * one-value counters count; values are read when asked, so a change in
 * the data shows; a file that is not a stats file is refused.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "tap.h"
#include "core/kvm_stats.h"
#include "core/util.h"

#define NAME_SIZE	48
#define ID_OFF		(sizeof(struct kvm_stats_header))
#define DESC_OFF	(ID_OFF + NAME_SIZE)
#define DESC_SIZE	(sizeof(struct kvm_stats_desc) + NAME_SIZE)

struct fake_desc {
	const char *name;
	uint32_t flags;
	uint16_t size;
	uint64_t value;
};

static const struct fake_desc descs[] = {
	{ "exits", KVM_STATS_TYPE_CUMULATIVE, 1, 30000 },
	{ "pf_taken", KVM_STATS_TYPE_CUMULATIVE, 1, 25000 },
	{ "io_exits", KVM_STATS_TYPE_CUMULATIVE, 1, 0 },
	{ "guest_mode", KVM_STATS_TYPE_INSTANT, 1, 1 },
	{ "halt_poll_fail_hist", KVM_STATS_TYPE_LOG_HIST, 32, 7 },
	{ "halt_wait_ns", KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_SECONDS,
	  1, 99 },
	{ "mmio_exits", KVM_STATS_TYPE_CUMULATIVE, 1, 12 },
};

static uint64_t data_off(void)
{
	return DESC_OFF + ARRAY_SIZE(descs) * DESC_SIZE;
}

/* A stats "fd": a memfd in the kernel's layout; *value_at[i] where
 * descriptor i's first value lives. */
static int make_stats(uint32_t num_desc, off_t *value_at)
{
	struct kvm_stats_header h = {
		.name_size = NAME_SIZE, .num_desc = num_desc,
		.id_offset = ID_OFF, .desc_offset = DESC_OFF,
		.data_offset = (uint32_t)data_off(),
	};
	int fd = memfd_create("fake-kvm-stats", MFD_CLOEXEC);
	uint8_t d[DESC_SIZE];
	uint32_t off = 0;
	unsigned int i;

	if (fd < 0 || pwrite(fd, &h, sizeof(h), 0) != sizeof(h) ||
	    pwrite(fd, "kvm-1234/vcpu-0", 16, ID_OFF) != 16)
		return -1;
	for (i = 0; i < ARRAY_SIZE(descs); i++) {
		struct kvm_stats_desc *k = (struct kvm_stats_desc *)d;
		unsigned int j;

		memset(d, 0, sizeof(d));
		k->flags = descs[i].flags;
		k->size = descs[i].size;
		k->offset = off;
		strcpy((char *)d + sizeof(*k), descs[i].name);
		if (pwrite(fd, d, DESC_SIZE, DESC_OFF + i * DESC_SIZE) !=
		    (ssize_t)DESC_SIZE)
			return -1;
		value_at[i] = (off_t)(data_off() + off);
		for (j = 0; j < descs[i].size; j++)
			if (pwrite(fd, &descs[i].value, 8,
				   value_at[i] + j * 8) != 8)
				return -1;
		off += descs[i].size * 8;
	}
	return fd;
}

int main(void)
{
	off_t at[ARRAY_SIZE(descs)];
	struct kvm_stats s;
	uint64_t v = 31000;
	char *out = NULL;
	size_t len = 0;
	FILE *f;
	int fd = make_stats(ARRAY_SIZE(descs), at);

	if (fd < 0) {
		printf("Bail out! fake stats file\n");
		return 1;
	}
	is_int(kvm_stats_open(&s, fd), 0, "a stats file opens");
	is_int(s.nr, 4, "4 cumulative one-value counters kept (no instant, histogram or time)");
	is_int(kvm_stats_get(&s, "exits"), 30000, "exits read");
	is_int(kvm_stats_get(&s, "pf_taken"), 25000, "pf_taken read");
	is_int(kvm_stats_get(&s, "guest_mode"), -1, "an instant value is not kept");
	is_int(kvm_stats_get(&s, "nosuch"), -1, "an unknown name is -1");
	if (pwrite(s.fd, &v, 8, at[0]) != 8)
		printf("Bail out! pwrite\n");
	is_int(kvm_stats_get(&s, "exits"), 31000, "values are read when asked");

	f = open_memstream(&out, &len);
	kvm_stats_print(&s, "vcpu0 kvm", f);
	fclose(f);
	is_str(out, "vcpu0 kvm exits 31000 pf_taken 25000 mmio_exits 12\n",
	       "print: the counters that are not 0, in the kernel's order");
	free(out);
	kvm_stats_close(&s);
	is_int(s.fd, -1, "closed");

	/* A header claiming no descriptors, or absurdly many: refused. */
	fd = make_stats(0, at);
	is_int(kvm_stats_open(&s, fd), -EINVAL, "no descriptors: -EINVAL");
	is_int(s.fd, -1, "...and the fd is closed");
	fd = make_stats(100000, at);
	is_int(kvm_stats_open(&s, fd), -EINVAL, "100000 descriptors: -EINVAL");
	/* Descriptors past the end of the file: a short read. */
	fd = make_stats(1000, at);
	is_int(kvm_stats_open(&s, fd), -EIO, "descriptors beyond the file: -EIO");
	is_int(kvm_stats_open(&s, -1), -EBADF, "no fd: -EBADF");
	return tap_done();
}
