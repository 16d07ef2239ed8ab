// SPDX-License-Identifier: GPL-2.0
/*
 * e820_build() against real guest_mem layouts (MAP_NORESERVE makes even
 * 5 GiB cheap): entries sorted and disjoint, RAM adding up to the guest's
 * size, nothing usable in the BIOS area or the MMIO hole, the ECAM window
 * reserved, and -E2BIG for a short table.
 */
#include "tap.h"
#include "x86/boot.h"
#include "core/guest_mem.h"
#include "x86/layout.h"
#include "core/util.h"

static bool overlaps(const struct boot_e820_entry *e, uint64_t start,
		     uint64_t end)
{
	return e->addr < end && start < e->addr + e->size;
}

static const struct boot_e820_entry *find(const struct boot_e820_entry *map,
					  int n, uint64_t addr)
{
	int i;

	for (i = 0; i < n; i++)
		if (map[i].addr <= addr && addr - map[i].addr < map[i].size)
			return &map[i];
	return NULL;
}

static void check_layout(uint64_t size, int want_n)
{
	struct boot_e820_entry map[E820_MAX_ENTRIES_ZEROPAGE];
	const struct boot_e820_entry *e;
	uint64_t ram = 0, backed = 0, low_end = MIN(size, MMIO_HOLE_START);
	bool sorted = true, bad_ram = false;
	struct guest_mem mem;
	unsigned long long gib100 = size * 100 / GiB;
	int i, n;

	if (guest_mem_init(&mem, size)) {
		ok(0, "guest_mem_init(%llu.%02llu GiB)", gib100 / 100,
		   gib100 % 100);
		return;
	}
	n = e820_build(&mem, map, E820_MAX_ENTRIES_ZEROPAGE);
	tap_diag("%llu MiB: %d entries", (unsigned long long)(size / MiB), n);
	is_int(n, want_n, "entry count");
	for (i = 0; i < n; i++) {
		tap_diag("  [%#llx, %#llx) type %u",
			 (unsigned long long)map[i].addr,
			 (unsigned long long)(map[i].addr + map[i].size),
			 map[i].type);
		if (!map[i].size ||
		    (i && map[i - 1].addr + map[i - 1].size > map[i].addr))
			sorted = false;
		if (gpa_to_hva(&mem, map[i].addr, map[i].size))
			backed += map[i].size;
		if (map[i].type == E820_RAM) {
			ram += map[i].size;
			if (overlaps(&map[i], EBDA_START, HIGH_MEMORY_START) ||
			    overlaps(&map[i], MMIO_HOLE_START, MMIO_HOLE_END))
				bad_ram = true;
		} else if (map[i].type != E820_RESERVED) {
			bad_ram = true;
		}
	}
	ok(sorted, "entries sorted, non-empty, non-overlapping");
	/* The BIOS area is guest RAM too, but reserved for the guest. */
	is_int(ram + (HIGH_MEMORY_START - EBDA_START), size,
	       "RAM entries + the reserved BIOS area add up to guest RAM");
	is_int(backed, size, "entries backed by guest RAM cover all of it");
	ok(!bad_ram, "no RAM in the BIOS area or the MMIO hole");

	e = find(map, n, 0);
	ok(e && e->addr == 0 && e->size == EBDA_START && e->type == E820_RAM,
	   "RAM [0, EBDA)");
	e = find(map, n, EBDA_START);
	ok(e && e->addr == EBDA_START &&
	   e->addr + e->size == HIGH_MEMORY_START && e->type == E820_RESERVED,
	   "reserved [EBDA, 1 MiB): EBDA, ACPI, MP table");
	ok(find(map, n, ACPI_TABLES_ADDR) == e &&
	   find(map, n, MPTABLE_ADDR) == e,
	   "ACPI and MP tables inside the reserved BIOS area");
	e = find(map, n, HIGH_MEMORY_START);
	ok(e && e->addr == HIGH_MEMORY_START && e->addr + e->size == low_end &&
	   e->type == E820_RAM, "RAM [1 MiB, min(size, 3 GiB))");
	e = find(map, n, PCI_ECAM_BASE);
	ok(e && e->addr == PCI_ECAM_BASE && e->size == PCI_ECAM_SIZE &&
	   e->type == E820_RESERVED, "ECAM window reserved");
	ok(!find(map, n, PCI_MMIO32_BASE) && !find(map, n, IOAPIC_ADDR) &&
	   !find(map, n, LAPIC_ADDR), "MMIO windows and APICs not in the map");
	e = find(map, n, HIGH_RAM_START);
	if (size > MMIO_HOLE_START)
		ok(e && e->addr == HIGH_RAM_START &&
		   e->size == size - MMIO_HOLE_START && e->type == E820_RAM,
		   "RAM above 4 GiB holds the rest");
	else
		ok(!e, "nothing at 4 GiB");
	ok(!find(map, n, guest_mem_top(&mem)), "nothing past the top of RAM");

	is_int(e820_build(&mem, map, (unsigned int)n - 1), -E2BIG,
	       "one entry short: -E2BIG");
	is_int(e820_build(&mem, map, 0), -E2BIG, "no room: -E2BIG");
	guest_mem_destroy(&mem);
}

int main(void)
{
	check_layout(64 * MiB, 4);
	check_layout(256 * MiB, 4);
	check_layout(3 * GiB, 4);
	check_layout(3 * GiB + 2 * MiB, 5);
	check_layout(5 * GiB, 5);
	return tap_done();
}
