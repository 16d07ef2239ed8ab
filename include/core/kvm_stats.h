/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KVM's binary statistics of a vCPU (KVM_GET_STATS_FD, Linux 5.14+;
 * Documentation/virt/kvm/api.rst 4.133): exits by reason, page faults
 * taken, interrupts injected... as the kernel counts them, where mvm sees
 * only the exits that reach user space.  Only the cumulative one-value
 * counters are kept (histograms and instant values are not exits).
 */
#ifndef MVM_KVM_STATS_H
#define MVM_KVM_STATS_H

#include <stdint.h>
#include <stdio.h>

struct kvm_stat_item {
	char name[48];
	uint32_t offset;	/* of its u64 in the data block */
};

struct kvm_stats {
	int fd;			/* -1: none */
	uint32_t data_offset;
	unsigned int nr;
	struct kvm_stat_item *items;
};

/*
 * Read the header and descriptors of `fd` (a stats fd, owned from here
 * on; closed on error).  0, or -errno with s->fd = -1.
 */
int kvm_stats_open(struct kvm_stats *s, int fd);
void kvm_stats_close(struct kvm_stats *s);
/* The current value of counter `name`; -1 if there is none. */
long long kvm_stats_get(const struct kvm_stats *s, const char *name);
/* "PREFIX name value name value ...": the counters that are not 0. */
void kvm_stats_print(const struct kvm_stats *s, const char *prefix,
		     FILE *out);

#endif
