// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel format detection: an ELF vmlinux starts with the ELF magic,
 * anything else must be a bzImage (bzimage_load() explains in one line why
 * a file is neither).
 */
#include "x86/boot.h"
#include "core/util.h"

int x86_boot_load(struct guest_mem *mem, const struct boot_config *cfg,
		  struct boot_entry *entry)
{
	struct boot_config c = *cfg;

	if (!c.kernel.label)
		c.kernel.label = "kernel";
	if (!c.initrd.label)
		c.initrd.label = "initrd";
	if (!c.kernel.data || !c.kernel.len) {
		pr_err("%s: kernel image is empty", c.kernel.label);
		return -ENOEXEC;
	}
	if (elf_is_elf(&c.kernel))
		return elf_kernel_load(mem, &c, entry);
	return bzimage_load(mem, &c, entry);
}
