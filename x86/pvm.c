// SPDX-License-Identifier: GPL-2.0
/*
 * PVM hosts: detection, the --pvm-compat policy, and what to do with an
 * instruction KVM's emulator could not run (include/x86/pvm.h).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "x86/pvm.h"
#include "core/util.h"

/*
 * The features --pvm-compat hides, each with the instruction(s) PVM's
 * emulator failed on in a Debian 6.1 boot (shared notes, kvm-host.md)
 * and the Linux option that keeps the kernel off them.  clearcpuid takes
 * Linux's X86_FEATURE_* numbers (word * 32 + bit,
 * arch/x86/include/asm/cpufeatures.h); names only since Linux 6.2.
 */
struct hidden_feature {
	uint32_t leaf;
	char reg;
	unsigned int bit;
};

#define F_CX16		{ 1, 'c', 13 }	/* cmpxchg16b: X86_FEATURE_CX16 = 141 */
#define F_POPCNT	{ 1, 'c', 23 }	/* popcnt: X86_FEATURE_POPCNT = 151 */
#define F_XSAVE		{ 1, 'c', 26 }	/* xsave/xrstor/xgetbv...: noxsave */
#define F_OSXSAVE	{ 1, 'c', 27 }
#define F_SMEP		{ 7, 'b', 7 }	/* nosmep */
#define F_SMAP		{ 7, 'b', 20 }	/* clac/stac: nosmap */

static const struct hidden_feature hidden[] = {
	F_CX16, F_POPCNT, F_XSAVE, F_OSXSAVE, F_SMEP, F_SMAP,
};

static bool module_loaded(const char *sysfs, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/module/%s", sysfs, name);
	return access(path, F_OK) == 0;
}

bool pvm_host_detect(const char *sysfs)
{
	return module_loaded(sysfs, "kvm_pvm") &&
	       !module_loaded(sysfs, "kvm_intel") &&
	       !module_loaded(sysfs, "kvm_amd");
}

int pvm_compat_parse(const char *val, enum pvm_compat_mode *mode)
{
	if (!strcmp(val, "on"))
		*mode = PVM_COMPAT_ON;
	else if (!strcmp(val, "off"))
		*mode = PVM_COMPAT_OFF;
	else if (!strcmp(val, "auto"))
		*mode = PVM_COMPAT_AUTO;
	else {
		pr_err("--pvm-compat '%s': must be 'on', 'off' or 'auto'", val);
		return -1;
	}
	return 0;
}

static uint32_t *reg_of(struct kvm_cpuid_entry2 *e, char reg)
{
	switch (reg) {
	case 'b':
		return &e->ebx;
	case 'c':
		return &e->ecx;
	default:
		return &e->edx;
	}
}

void pvm_cpuid_hide(struct kvm_cpuid_entry2 *ent, unsigned int nent)
{
	unsigned int i, j;

	for (i = 0; i < nent; i++)
		for (j = 0; j < ARRAY_SIZE(hidden); j++)
			if (ent[i].function == hidden[j].leaf &&
			    ent[i].index == 0)
				*reg_of(&ent[i], hidden[j].reg) &=
					~(1U << hidden[j].bit);
}

static bool is_hidden(uint32_t leaf, char reg, unsigned int bit)
{
	unsigned int j;

	for (j = 0; j < ARRAY_SIZE(hidden); j++)
		if (hidden[j].leaf == leaf && hidden[j].reg == reg &&
		    hidden[j].bit == bit)
			return true;
	return false;
}

static void need(struct emul_insn *insn, const char *name,
		 struct hidden_feature f)
{
	insn->name = name;
	insn->leaf = f.leaf;
	insn->reg = f.reg;
	insn->bit = f.bit;
}

/* The legacy prefixes (SDM Vol. 2A 2.1.1). */
static bool legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
	case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
		return true;
	default:
		return false;
	}
}

/*
 * Two-byte opcodes 0f xx: which instruction needs which feature.  mand:
 * the last 66/F2/F3 prefix (0: none), which selects the instruction
 * (SDM Vol. 2A 2.1.2): F3 0F B8 is POPCNT, 66 0F AE /6 is CLWB not
 * XSAVEOPT, F3 0F 01 CA is ERETU not CLAC.
 */
static void decode_0f(const uint8_t *b, size_t n, size_t i, bool rex_w,
		      uint8_t mand, struct emul_insn *insn)
{
	uint8_t op = b[i + 1], modrm, reg;
	bool mem;

	if (i + 2 >= n)
		return;
	if (op != 0xb8 && mand)
		return;		/* every other form here has no prefix */
	modrm = b[i + 2];
	reg = (modrm >> 3) & 7;
	mem = (modrm >> 6) != 3;
	switch (op) {
	case 0xb8:	/* F3 0F B8 /r: POPCNT (without F3: JMPE/reserved) */
		if (mand == 0xf3)
			need(insn, "popcnt", (struct hidden_feature)F_POPCNT);
		break;
	case 0xc7:	/* group 9 */
		if (mem && reg == 1 && rex_w)
			need(insn, "cmpxchg16b",
			     (struct hidden_feature)F_CX16);
		else if (mem && reg == 3)
			need(insn, "xrstors", (struct hidden_feature)F_XSAVE);
		else if (mem && reg == 4)
			need(insn, "xsavec", (struct hidden_feature)F_XSAVE);
		else if (mem && reg == 5)
			need(insn, "xsaves", (struct hidden_feature)F_XSAVE);
		break;
	case 0xae:	/* group 15, memory forms */
		if (mem && reg == 4)
			need(insn, "xsave", (struct hidden_feature)F_XSAVE);
		else if (mem && reg == 5)
			need(insn, "xrstor", (struct hidden_feature)F_XSAVE);
		else if (mem && reg == 6)
			need(insn, "xsaveopt", (struct hidden_feature)F_XSAVE);
		break;
	case 0x01:	/* group 7, register forms with fixed ModRM */
		if (modrm == 0xca)
			need(insn, "clac", (struct hidden_feature)F_SMAP);
		else if (modrm == 0xcb)
			need(insn, "stac", (struct hidden_feature)F_SMAP);
		else if (modrm == 0xd0)
			need(insn, "xgetbv", (struct hidden_feature)F_XSAVE);
		else if (modrm == 0xd1)
			need(insn, "xsetbv", (struct hidden_feature)F_XSAVE);
		break;
	default:
		break;
	}
}

enum emul_action emul_decide(const uint8_t *b, size_t n, bool compat,
			     struct emul_insn *insn)
{
	bool rex_w = false, opsize = false;
	uint8_t rep = 0, mand;
	size_t i = 0;

	memset(insn, 0, sizeof(*insn));
	while (i < n && i < 14 && legacy_prefix(b[i])) {
		if (b[i] == 0xf2 || b[i] == 0xf3)
			rep = b[i];
		opsize |= b[i] == 0x66;
		i++;
	}
	/* F2/F3 take precedence over 66 as the mandatory prefix. */
	mand = rep ? rep : opsize ? 0x66 : 0;
	if (i < n && (b[i] & 0xf0) == 0x40) {	/* REX, 64-bit mode */
		rex_w = b[i] & 0x08;
		i++;
	}
	if (i >= n)
		return EMUL_STOP;
	if (b[i] == 0xcc) {
		/* INT3 (SDM Vol. 2A "INT n/INTO/INT3/INT1"): #BP is a trap,
		 * the saved RIP points after the instruction. */
		insn->name = "int3";
		insn->len = (unsigned int)i + 1;
		return EMUL_INJECT_BP;
	}
	if (b[i] == 0x0f && i + 1 < n)
		decode_0f(b, n, i, rex_w, mand, insn);
	/* #UD is what a CPU without the feature raises (a fault: RIP stays
	 * on the instruction); only for features the guest was told are
	 * absent, or it would see a CPU contradict its own CPUID. */
	if (insn->name && compat && is_hidden(insn->leaf, insn->reg, insn->bit))
		return EMUL_INJECT_UD;
	return EMUL_STOP;
}
