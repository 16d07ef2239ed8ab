// SPDX-License-Identifier: GPL-2.0
/* PVM hosts: detection, --pvm-compat's CPUID policy, emul_decide(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "tap.h"
#include "x86/pvm.h"
#include "core/util.h"

static char root[64];

static void mod(const char *name, bool present)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/module/%s", root, name);
	if (present)
		mkdir(p, 0755);
	else
		rmdir(p);
}

static void test_detect(void)
{
	char p[96];

	snprintf(root, sizeof(root), "/tmp/mvm-test-pvm-XXXXXX");
	if (!mkdtemp(root)) {
		printf("Bail out! mkdtemp\n");
		exit(1);
	}
	snprintf(p, sizeof(p), "%s/module", root);
	mkdir(p, 0755);
	ok(!pvm_host_detect(root), "no kvm modules: not PVM");
	mod("kvm_pvm", true);
	ok(pvm_host_detect(root), "kvm_pvm alone: PVM");
	mod("kvm_intel", true);
	ok(!pvm_host_detect(root), "kvm_pvm with kvm_intel: hardware KVM");
	mod("kvm_intel", false);
	mod("kvm_amd", true);
	ok(!pvm_host_detect(root), "kvm_pvm with kvm_amd: hardware KVM");
	mod("kvm_amd", false);
	mod("kvm_pvm", false);
	rmdir(p);
	rmdir(root);
}

static void test_parse(void)
{
	enum pvm_compat_mode m = PVM_COMPAT_AUTO;

	ok(!pvm_compat_parse("on", &m) && m == PVM_COMPAT_ON, "'on'");
	ok(!pvm_compat_parse("off", &m) && m == PVM_COMPAT_OFF, "'off'");
	ok(!pvm_compat_parse("auto", &m) && m == PVM_COMPAT_AUTO, "'auto'");
	log_quiet = true;
	is_int(pvm_compat_parse("yes", &m), -1, "'yes' refused");
	log_quiet = false;
}

static void test_cpuid_hide(void)
{
	struct kvm_cpuid_entry2 e[3] = {
		{ .function = 1, .ecx = 0xffffffff, .edx = 0xffffffff },
		{ .function = 7, .index = 0, .ebx = 0xffffffff },
		{ .function = 7, .index = 1, .ebx = 0xffffffff },
	};

	pvm_cpuid_hide(e, 3);
	is_int(e[0].ecx, 0xffffffffu & ~((1u << 13) | (1u << 23) |
					 (1u << 26) | (1u << 27)),
	       "leaf 1 ECX: CX16, POPCNT, XSAVE, OSXSAVE cleared, rest kept");
	is_int(e[0].edx, 0xffffffffu, "leaf 1 EDX untouched");
	is_int(e[1].ebx, 0xffffffffu & ~((1u << 7) | (1u << 20)),
	       "leaf 7.0 EBX: SMEP, SMAP cleared");
	is_int(e[2].ebx, 0xffffffffu, "leaf 7.1 untouched");
	ok(strstr(PVM_COMPAT_CMDLINE, "noxsave") &&
	   strstr(PVM_COMPAT_CMDLINE, "nosmap") &&
	   strstr(PVM_COMPAT_CMDLINE, "clearcpuid=141,151"),
	   "cmdline keeps Linux off xsave, clac/stac, cmpxchg16b, popcnt");
}

struct dcase {
	const char *what;
	uint8_t b[15];
	size_t n;
	bool compat;
	enum emul_action act;
	const char *name;
	unsigned int len;	/* only for #BP */
};

static const struct dcase cases[] = {
	{ "int3", { 0xcc }, 1, false, EMUL_INJECT_BP, "int3", 1 },
	{ "int3, compat", { 0xcc }, 1, true, EMUL_INJECT_BP, "int3", 1 },
	{ "int3 after bytes KVM gave", { 0xcc, 0x90, 0x90 }, 3, false,
	  EMUL_INJECT_BP, "int3", 1 },
	{ "popcnt rax,(rdx), compat", { 0xf3, 0x48, 0x0f, 0xb8, 0x02 }, 5,
	  true, EMUL_INJECT_UD, "popcnt", 0 },
	{ "popcnt, no compat", { 0xf3, 0x48, 0x0f, 0xb8, 0x02 }, 5, false,
	  EMUL_STOP, "popcnt", 0 },
	{ "0f b8 without F3 is not popcnt", { 0x0f, 0xb8, 0x02 }, 3, true,
	  EMUL_STOP, NULL, 0 },
	{ "lock cmpxchg16b (rdi)", { 0xf0, 0x48, 0x0f, 0xc7, 0x0f }, 5, true,
	  EMUL_INJECT_UD, "cmpxchg16b", 0 },
	{ "cmpxchg8b (no REX.W): CX8 is never hidden",
	  { 0xf0, 0x0f, 0xc7, 0x0f }, 4, true, EMUL_STOP, NULL, 0 },
	{ "xrstor (rdi)", { 0x0f, 0xae, 0x2f }, 3, true, EMUL_INJECT_UD,
	  "xrstor", 0 },
	{ "xrstor64 (REX.W)", { 0x48, 0x0f, 0xae, 0x2f }, 4, true,
	  EMUL_INJECT_UD, "xrstor", 0 },
	{ "0f ae e8 is lfence, not xrstor", { 0x0f, 0xae, 0xe8 }, 3, true,
	  EMUL_STOP, NULL, 0 },
	{ "xsaves", { 0x48, 0x0f, 0xc7, 0x2f }, 4, true, EMUL_INJECT_UD,
	  "xsaves", 0 },
	{ "clac", { 0x0f, 0x01, 0xca }, 3, true, EMUL_INJECT_UD, "clac", 0 },
	{ "stac", { 0x0f, 0x01, 0xcb }, 3, true, EMUL_INJECT_UD, "stac", 0 },
	{ "xgetbv", { 0x0f, 0x01, 0xd0 }, 3, true, EMUL_INJECT_UD, "xgetbv",
	  0 },
	{ "66 0f ae /6 is clwb, not xsaveopt", { 0x66, 0x0f, 0xae, 0x37 }, 4,
	  true, EMUL_STOP, NULL, 0 },
	{ "66 0f ae /7 is clflushopt", { 0x66, 0x0f, 0xae, 0x3f }, 4, true,
	  EMUL_STOP, NULL, 0 },
	{ "f3 0f ae /4 is ptwrite, not xsave", { 0xf3, 0x0f, 0xae, 0x27 }, 4,
	  true, EMUL_STOP, NULL, 0 },
	{ "f3 0f 01 ca is eretu, not clac", { 0xf3, 0x0f, 0x01, 0xca }, 4,
	  true, EMUL_STOP, NULL, 0 },
	{ "xsaveopt (no prefix)", { 0x0f, 0xae, 0x37 }, 3, true,
	  EMUL_INJECT_UD, "xsaveopt", 0 },
	{ "popcnt 16-bit (66 f3)", { 0x66, 0xf3, 0x0f, 0xb8, 0xc1 }, 5, true,
	  EMUL_INJECT_UD, "popcnt", 0 },
	{ "popcnt 16-bit (f3 66)", { 0xf3, 0x66, 0x0f, 0xb8, 0xc1 }, 5, true,
	  EMUL_INJECT_UD, "popcnt", 0 },
	{ "rdrand: not ours", { 0x48, 0x0f, 0xc7, 0xf0 }, 4, true, EMUL_STOP,
	  NULL, 0 },
	{ "no bytes", { 0 }, 0, true, EMUL_STOP, NULL, 0 },
	{ "only prefixes", { 0xf3, 0x66, 0x48 }, 3, true, EMUL_STOP, NULL, 0 },
	{ "truncated 0f", { 0x0f }, 1, true, EMUL_STOP, NULL, 0 },
	{ "truncated 0f c7", { 0x48, 0x0f, 0xc7 }, 3, true, EMUL_STOP, NULL,
	  0 },
	{ "15 prefixes", { 0xf3, 0xf3, 0xf3, 0xf3, 0xf3, 0xf3, 0xf3, 0xf3,
	  0xf3, 0xf3, 0xf3, 0xf3, 0xf3, 0xf3, 0xf3 }, 15, true, EMUL_STOP,
	  NULL, 0 },
};

static void test_decide(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct dcase *c = &cases[i];
		struct emul_insn insn;
		enum emul_action a = emul_decide(c->b, c->n, c->compat, &insn);
		bool name_ok = c->name ? insn.name && !strcmp(insn.name, c->name)
				       : !insn.name;

		ok(a == c->act && name_ok &&
		   (c->act != EMUL_INJECT_BP || insn.len == c->len),
		   "%s: action %d name %s len %u", c->what, a,
		   insn.name ? insn.name : "-", insn.len);
	}
}

int main(void)
{
	test_detect();
	test_parse();
	test_cpuid_hide();
	test_decide();
	return tap_done();
}
