// SPDX-License-Identifier: GPL-2.0
/*
 * KVM binary statistics (include/core/kvm_stats.h).  The fd's layout
 * (uapi kvm.h, struct kvm_stats_header): a header, an id string, then
 * num_desc descriptors of sizeof(struct kvm_stats_desc) + name_size bytes
 * each, and a data block of u64s, each descriptor's `size` of them at
 * data_offset + its offset.  Everything is read with pread(): the values
 * change under us, the layout does not.
 */
#include <stdlib.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "core/kvm_stats.h"
#include "core/util.h"

/* A kernel may add fields to the header; more than this many counters is
 * not a vCPU's stats file (6.1 has about 50). */
#define MAX_DESCS	4096

static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(fd, buf, len, (off_t)off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static int parse(struct kvm_stats *s)
{
	struct kvm_stats_header h;
	struct kvm_stats_desc *d;
	size_t dsize;
	unsigned int i;
	int err;

	err = read_at(s->fd, &h, sizeof(h), 0);
	if (err)
		return err;
	if (!h.num_desc || h.num_desc > MAX_DESCS || h.name_size > 4096)
		return -EINVAL;
	dsize = sizeof(*d) + h.name_size;
	d = malloc(dsize);
	s->items = calloc(h.num_desc, sizeof(*s->items));
	if (!d || !s->items) {
		free(d);
		return -ENOMEM;
	}
	s->data_offset = h.data_offset;
	for (i = 0; i < h.num_desc && !err; i++) {
		struct kvm_stat_item *it = &s->items[s->nr];

		err = read_at(s->fd, d, dsize, h.desc_offset + (uint64_t)i * dsize);
		if (err)
			break;
		if ((d->flags & KVM_STATS_TYPE_MASK) != KVM_STATS_TYPE_CUMULATIVE ||
		    (d->flags & KVM_STATS_UNIT_MASK) != KVM_STATS_UNIT_NONE ||
		    d->size != 1)
			continue;
		snprintf(it->name, sizeof(it->name), "%.*s",
			 (int)strnlen(d->name, h.name_size), d->name);
		it->offset = d->offset;
		s->nr++;
	}
	free(d);
	return err;
}

int kvm_stats_open(struct kvm_stats *s, int fd)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->fd = fd;
	if (fd < 0)
		return -EBADF;
	err = parse(s);
	if (err)
		kvm_stats_close(s);
	return err;
}

void kvm_stats_close(struct kvm_stats *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->items);
	s->items = NULL;
	s->nr = 0;
	s->fd = -1;
}

static long long value_of(const struct kvm_stats *s,
			  const struct kvm_stat_item *it)
{
	uint64_t v;

	if (read_at(s->fd, &v, sizeof(v), s->data_offset + (uint64_t)it->offset))
		return -1;
	return (long long)v;
}

long long kvm_stats_get(const struct kvm_stats *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->nr; i++)
		if (!strcmp(s->items[i].name, name))
			return value_of(s, &s->items[i]);
	return -1;
}

void kvm_stats_print(const struct kvm_stats *s, const char *prefix,
		     FILE *out)
{
	unsigned int i;

	if (s->fd < 0)
		return;
	fputs(prefix, out);
	for (i = 0; i < s->nr; i++) {
		long long v = value_of(s, &s->items[i]);

		if (v > 0)
			fprintf(out, " %s %lld", s->items[i].name, v);
	}
	fputc('\n', out);
}
