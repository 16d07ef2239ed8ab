// SPDX-License-Identifier: GPL-2.0
/*
 * The CPUID policy, in one place.  mvm passes through what KVM supports
 * (KVM_GET_SUPPORTED_CPUID) and only rewrites what describes the machine's
 * shape, so a guest's view of the topology matches `-c N`:
 *   - one package with N cores, one thread per core;
 *   - APIC ID of vCPU i is i (matches the MADT and MP table);
 *   - leaf 1 EBX[31:24] initial APIC ID, EBX[23:16] logical processors per
 *     package, EDX.HTT when N > 1, ECX.HYPERVISOR set (Intel SDM vol. 2A,
 *     CPUID leaf 01H);
 *   - leaf 4 EAX[31:26] cores per package - 1, EAX[25:14] threads sharing
 *     the cache - 1 (0: caches are per core);
 *   - leaves 0BH/1FH: SMT level (1 thread, shift 0) and core level
 *     (N logical processors, shift = bits needed for N), x2APIC ID in EDX;
 *   - AMD leaf 8000_0008H ECX[7:0] = N - 1, [15:12] ApicIdSize.
 */
#include <stdlib.h>
#include <sys/ioctl.h>

#include "core/util.h"
#include "x86/pvm.h"
#include "x86/x86.h"

#define CPUID_1_ECX_HYPERVISOR	(1U << 31)
#define CPUID_1_EDX_HTT		(1U << 28)

static unsigned int order_base_2(unsigned int n)
{
	unsigned int bits = 0;

	while ((1U << bits) < n)
		bits++;
	return bits;
}

static void topology_leaf(struct kvm_cpuid_entry2 *e, unsigned int cpu,
			  unsigned int nr_cpus)
{
	unsigned int level = e->index;

	e->edx = cpu;
	switch (level) {
	case 0:	/* SMT: one thread per core */
		e->eax = 0;
		e->ebx = 1;
		e->ecx = (1U << 8) | level;
		break;
	case 1:	/* core: every vCPU of the package */
		e->eax = order_base_2(nr_cpus);
		e->ebx = nr_cpus;
		e->ecx = (2U << 8) | level;
		break;
	default: /* no further level: type 0 ends the enumeration */
		e->eax = 0;
		e->ebx = 0;
		e->ecx = level;
		break;
	}
}

void cpuid_apply_policy(struct kvm_cpuid_entry2 *ent, unsigned int nent,
			unsigned int cpu, unsigned int nr_cpus)
{
	unsigned int i;

	for (i = 0; i < nent; i++) {
		struct kvm_cpuid_entry2 *e = &ent[i];

		switch (e->function) {
		case 1:
			e->ebx &= 0x0000ffff;
			e->ebx |= cpu << 24;
			e->ebx |= (nr_cpus & 0xff) << 16;
			if (nr_cpus > 1)
				e->edx |= CPUID_1_EDX_HTT;
			else
				e->edx &= ~CPUID_1_EDX_HTT;
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
			break;
		case 4:
			if ((e->eax & 0x1f) == 0)	/* no cache at this index */
				break;
			e->eax &= 0x3ff;
			e->eax |= (nr_cpus - 1) << 26;
			break;
		case 0xb:
		case 0x1f:
			topology_leaf(e, cpu, nr_cpus);
			break;
		case 0x80000008:
			e->ecx &= ~0xf0ffU;
			e->ecx |= (nr_cpus - 1) & 0xff;
			e->ecx |= order_base_2(nr_cpus) << 12;
			break;
		default:
			break;
		}
	}
}

struct kvm_cpuid2 *cpuid_get_supported(int kvm_fd)
{
	unsigned int nent = 64;

	for (;;) {
		struct kvm_cpuid2 *c;

		c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		if (!c)
			return NULL;
		c->nent = nent;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG || nent >= 4096) {
			pr_errno(errno, "KVM_GET_SUPPORTED_CPUID failed");
			return NULL;
		}
		nent *= 2;
	}
}

int cpuid_set(int vcpu_fd, const struct kvm_cpuid2 *supported,
	      unsigned int cpu, unsigned int nr_cpus, bool pvm_compat)
{
	size_t sz = sizeof(*supported) +
		    supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	int err = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, supported, sz);
	cpuid_apply_policy(c->entries, c->nent, cpu, nr_cpus);
	if (pvm_compat)
		pvm_cpuid_hide(c->entries, c->nent);
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0) {
		err = -errno;
		pr_errno(errno, "vCPU %u: KVM_SET_CPUID2 failed", cpu);
	}
	free(c);
	return err;
}
