/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One x86_boot_load() of an in-memory kernel image, for the loader tests
 * (tests/unit/test_bzimage.c, test_elf_loader.c): fresh guest RAM with a
 * canary byte in the spots a loader must only touch on success (the zero
 * page, the start of the command-line buffer, RAM from 1 MiB up), the
 * image and initrd labelled for messages, the ACPI RSDP at
 * ACPI_TABLES_ADDR, and what the loader printed on stderr.  Static inline,
 * as tap.h's counters are per program.
 */
#ifndef MVM_TEST_BOOT_LOAD_H
#define MVM_TEST_BOOT_LOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "lib/capture.h"
#include "core/guest_mem.h"
#include "core/util.h"
#include "x86/boot.h"
#include "x86/layout.h"

#define LOAD_CANARY		0xa5
#define LOAD_INITRD_LABEL	"initrd.img"

struct load_run {
	struct guest_mem mem;
	struct boot_config cfg;
	struct boot_entry entry;
	uint8_t *img;		/* the kernel image, owned */
	size_t len;
	int err;		/* x86_boot_load()'s result */
	const char *msg;	/* its stderr, until the next capture */
};

static inline struct boot_params *load_zero_page(struct load_run *r)
{
	return gpa_to_hva(&r->mem, BOOT_ZERO_PAGE_ADDR,
			  sizeof(struct boot_params));
}

/*
 * Load img (len bytes, malloc()ed: r owns it from here, NULL allowed)
 * labelled klabel into mem_size bytes of RAM.  Returns -1 if the image or
 * the RAM is missing, else 0 with the load's result in r->err.
 */
static inline int load_run(struct load_run *r, uint8_t *img, size_t len,
			   const char *klabel, uint64_t mem_size,
			   const char *cmdline, const uint8_t *initrd,
			   size_t initrd_len)
{
	memset(r, 0, sizeof(*r));
	if (!img)
		return -1;
	if (guest_mem_init(&r->mem, mem_size)) {
		free(img);
		return -1;
	}
	r->img = img;
	r->len = len;
	memset(load_zero_page(r), LOAD_CANARY, sizeof(struct boot_params));
	memset(gpa_to_hva(&r->mem, BOOT_CMDLINE_ADDR, 64), LOAD_CANARY, 64);
	memset(r->mem.host + HIGH_MEMORY_START, LOAD_CANARY,
	       r->mem.low_size - HIGH_MEMORY_START);
	r->cfg.kernel.data = img;
	r->cfg.kernel.len = len;
	r->cfg.kernel.label = klabel;
	r->cfg.initrd.data = initrd;
	r->cfg.initrd.len = initrd_len;
	r->cfg.initrd.label = LOAD_INITRD_LABEL;
	r->cfg.cmdline = cmdline;
	r->cfg.rsdp_gpa = ACPI_TABLES_ADDR;
	r->msg = CAPTURED(r->err = x86_boot_load(&r->mem, &r->cfg, &r->entry));
	return 0;
}

static inline void load_run_free(struct load_run *r)
{
	free(r->img);
	guest_mem_destroy(&r->mem);
}

/* The zero page and RAM from 1 MiB still hold the canary. */
static inline bool load_ram_untouched(const struct load_run *r)
{
	const uint8_t *p = gpa_to_hva(&r->mem, BOOT_ZERO_PAGE_ADDR,
				      sizeof(struct boot_params));
	uint64_t a;
	size_t i;

	for (i = 0; i < sizeof(struct boot_params); i++)
		if (p[i] != LOAD_CANARY)
			return false;
	for (a = HIGH_MEMORY_START; a < r->mem.low_size; a += 64 * KiB)
		if (r->mem.host[a] != LOAD_CANARY ||
		    r->mem.host[a + 0x200] != LOAD_CANARY)
			return false;
	return true;
}

/*
 * Three points on a good load's zero page: its e820 map is e820_build()'s
 * for this RAM, acpi_rsdp_addr is ACPI_TABLES_ADDR.
 */
static inline void load_check_e820_rsdp(struct load_run *r)
{
	struct boot_e820_entry want[E820_MAX_ENTRIES_ZEROPAGE];
	struct boot_params *bp = load_zero_page(r);
	int n;

	n = e820_build(&r->mem, want, E820_MAX_ENTRIES_ZEROPAGE);
	is_int(bp->e820_entries, n, "e820_entries");
	ok(n > 0 && !memcmp(bp->e820_table, want, (size_t)n * sizeof(want[0])),
	   "e820_table is e820_build()'s map");
	is_int(bp->acpi_rsdp_addr, ACPI_TABLES_ADDR, "acpi_rsdp_addr");
}

/*
 * Four points for one refused load (setup: load_run()'s result): err is
 * want_err, the message says want_msg, it is one line starting
 * "mvm: LABEL: ", guest RAM is untouched.  Frees r.
 */
static inline void load_expect_refusal(struct load_run *r, int setup,
				       const char *name, int want_err,
				       const char *label, const char *want_msg)
{
	char prefix[64];

	if (setup) {
		ok(0, "%s: setup", name);
		return;
	}
	snprintf(prefix, sizeof(prefix), "mvm: %s: ", label);
	is_int(r->err, want_err, "%s", name);
	if (!ok(strstr(r->msg, want_msg) != NULL, "%s: message says '%s'",
		name, want_msg))
		tap_diag("got: %s", r->msg);
	ok(!strncmp(r->msg, prefix, strlen(prefix)) &&
	   count_lines(r->msg) == 1,
	   "%s: one line starting '%s'", name, prefix);
	ok(load_ram_untouched(r), "%s: guest RAM untouched", name);
	load_run_free(r);
}

#endif
