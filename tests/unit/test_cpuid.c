// SPDX-License-Identifier: GPL-2.0
/* The CPUID policy: topology leaves agree with the vCPU count. */
#include "tap.h"
#include "core/util.h"
#include "x86/x86.h"

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid_entry2 *e,
				     unsigned int n, uint32_t fn,
				     uint32_t idx)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (e[i].function == fn && e[i].index == idx)
			return &e[i];
	return NULL;
}

int main(void)
{
	struct kvm_cpuid_entry2 t[] = {
		{ .function = 1, .eax = 0x806f8, .ebx = 0xff0a0800,
		  .ecx = 0x7ffa3203, .edx = 0x178bfbff },
		{ .function = 4, .index = 0, .eax = 0xfc004121 },
		{ .function = 4, .index = 4, .eax = 0 },
		{ .function = 0xb, .index = 0 },
		{ .function = 0xb, .index = 1 },
		{ .function = 0xb, .index = 2, .eax = 7, .ebx = 7 },
		{ .function = 0x80000008, .ecx = 0x0000f00f },
	};
	const unsigned int n = ARRAY_SIZE(t);

	cpuid_apply_policy(t, n, 2, 4);
	is_int(find(t, n, 1, 0)->ebx >> 24, 2, "leaf 1: initial APIC ID");
	is_int((find(t, n, 1, 0)->ebx >> 16) & 0xff, 4,
	       "leaf 1: logical processors per package");
	is_int(find(t, n, 1, 0)->ebx & 0xffff, 0x0800,
	       "leaf 1: brand/CLFLUSH bits kept");
	ok(find(t, n, 1, 0)->edx & (1U << 28), "leaf 1: HTT set for 4 CPUs");
	ok(find(t, n, 1, 0)->ecx & (1U << 31), "leaf 1: hypervisor bit set");
	is_int(find(t, n, 4, 0)->eax >> 26, 3, "leaf 4: cores per package - 1");
	is_int(find(t, n, 4, 0)->eax & 0x3ff, 0x121, "leaf 4: cache type kept");
	is_int(find(t, n, 4, 4)->eax, 0, "leaf 4: null cache left alone");
	is_int(find(t, n, 0xb, 0)->ebx, 1, "leaf 0xb SMT: 1 thread");
	is_int((find(t, n, 0xb, 0)->ecx >> 8) & 0xff, 1, "leaf 0xb: SMT type");
	is_int(find(t, n, 0xb, 1)->ebx, 4, "leaf 0xb core level: 4 CPUs");
	is_int(find(t, n, 0xb, 1)->eax, 2, "leaf 0xb core level: shift 2");
	is_int((find(t, n, 0xb, 1)->ecx >> 8) & 0xff, 2, "leaf 0xb: core type");
	is_int(find(t, n, 0xb, 1)->edx, 2, "leaf 0xb: x2APIC ID");
	is_int((find(t, n, 0xb, 2)->ecx >> 8) & 0xff, 0,
	       "leaf 0xb level 2: invalid type ends enumeration");
	is_int(find(t, n, 0xb, 2)->ebx, 0, "leaf 0xb level 2: no CPUs");
	is_int(find(t, n, 0x80000008, 0)->ecx & 0xff, 3,
	       "leaf 8000_0008: NC = 3");
	is_int((find(t, n, 0x80000008, 0)->ecx >> 12) & 0xf, 2,
	       "leaf 8000_0008: ApicIdSize = 2");

	cpuid_apply_policy(t, n, 0, 1);
	ok(!(find(t, n, 1, 0)->edx & (1U << 28)), "leaf 1: no HTT for 1 CPU");
	is_int(find(t, n, 0xb, 1)->eax, 0, "leaf 0xb: shift 0 for 1 CPU");
	is_int(find(t, n, 4, 0)->eax >> 26, 0, "leaf 4: 1 core");

	cpuid_apply_policy(t, n, 5, 6);
	is_int(find(t, n, 0xb, 1)->eax, 3, "leaf 0xb: shift 3 for 6 CPUs");
	return tap_done();
}
