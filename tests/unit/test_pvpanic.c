// SPDX-License-Identifier: GPL-2.0
/*
 * pvpanic-pci (pci/pvpanic.c) on the KVM-less test machine, driven as
 * Linux's pvpanic-pci driver does: find 1b36:0011, read the supported
 * events from BAR0, write PANICKED; plus what an odd guest may do.
 */
#include "tap.h"
#include "lib/capture.h"
#include "lib/test_machine.h"
#include "pci/pvpanic.h"
#include "core/util.h"

static struct fake_kvm kvm;

/* A recording exit line: what the device asked for, and how often. */
struct exit_rec {
	int calls;
	enum vm_exit_reason why;
	int status;
};

static void rec_exit(void *opaque, enum vm_exit_reason why, int status)
{
	struct exit_rec *r = opaque;

	r->calls++;
	r->why = why;
	r->status = status;
}

static uint32_t cfg_read(struct test_machine *m, unsigned int devfn,
			 unsigned int off, unsigned int len)
{
	uint8_t b[4] = { 0 };

	pci_config_read(m->pci, devfn, off, b, len);
	return (uint32_t)get_leN(b, len);
}

static int find_pvpanic(struct test_machine *m)
{
	unsigned int devfn;

	for (devfn = 0; devfn < PCI_MAX_DEVFN; devfn += 8)
		if (cfg_read(m, devfn, PCI_VENDOR_ID, 4) ==
		    (PVPANIC_DEVICE << 16 | PVPANIC_VENDOR))
			return (int)devfn;
	return -1;
}

static uint64_t bar_rw(struct test_machine *m, uint64_t addr,
		       unsigned int len, bool write, uint64_t val)
{
	uint8_t b[8] = { 0 };

	put_le64(b, val);
	iobus_access(m->mmio, addr, b, len, write);
	return get_leN(b, len);
}

/* The BAR as Linux sizes it: write all ones, read back, restore. */
static uint32_t bar_size(struct test_machine *m, unsigned int devfn)
{
	uint32_t old = cfg_read(m, devfn, PCI_BASE_ADDRESS_0, 4), sz;
	uint8_t b[4];

	put_le32(b, 0xffffffff);
	pci_config_write(m->pci, devfn, PCI_BASE_ADDRESS_0, b, 4);
	sz = cfg_read(m, devfn, PCI_BASE_ADDRESS_0, 4);
	put_le32(b, old);
	pci_config_write(m->pci, devfn, PCI_BASE_ADDRESS_0, b, 4);
	return ~(sz & PCI_BASE_ADDRESS_MEM_MASK) + 1;
}

static void test_config_and_panic(void)
{
	struct exit_rec rec = { 0 };
	struct exit_line line = { .request = rec_exit, .opaque = &rec };
	struct test_machine m;
	struct pvpanic *p;
	uint64_t bar;
	uint32_t b0;
	int devfn;
	const char *msg;

	if (test_machine_init(&m, &kvm, &(struct test_machine_opts){ 0 }) ||
	    pvpanic_create(m.ctx, line, &p)) {
		tap_skip(13, "cannot build the test machine");
		return;
	}
	devfn = find_pvpanic(&m);
	ok(devfn > 0, "1b36:0011 on bus 0 (slot %d), not at the host bridge",
	   devfn / 8);
	is_int(cfg_read(&m, devfn, PCI_CLASS_REVISION, 4), 0x08800001,
	   "class 0x0880 (system peripheral, other), revision 1 (QEMU's)");
	is_int(cfg_read(&m, devfn, PCI_INTERRUPT_PIN, 1), 0, "no INTx pin");
	b0 = cfg_read(&m, devfn, PCI_BASE_ADDRESS_0, 4);
	is_int(b0 & ~PCI_BASE_ADDRESS_MEM_MASK, PCI_BASE_ADDRESS_MEM_TYPE_32,
	       "BAR0: 32-bit memory, not prefetchable");
	is_int(bar_size(&m, devfn), PVPANIC_BAR_SIZE, "BAR0 sizes to 16 bytes");
	ok(cfg_read(&m, devfn, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY,
	   "memory decoding on, as firmware leaves it");
	bar = b0 & PCI_BASE_ADDRESS_MEM_MASK;

	is_int(bar_rw(&m, bar, 1, false, 0), PVPANIC_PANICKED | PVPANIC_CRASH_LOADED,
	       "byte 0 reads the supported events: PANICKED | CRASH_LOADED");
	log_quiet = false;
	msg = CAPTURED(bar_rw(&m, bar, 1, true, PVPANIC_CRASH_LOADED));
	log_quiet = true;
	if (!ok(rec.calls == 0 && strstr(msg, "crash kernel loaded"),
		"CRASH_LOADED: noted, the VM runs on"))
		tap_diag("%s", msg);
	is_int(pvpanic_events_seen(p), PVPANIC_CRASH_LOADED, "CRASH_LOADED remembered");
	bar_rw(&m, bar, 1, true, PVPANIC_PANICKED);
	ok(rec.calls == 1 && rec.why == VM_EXIT_PANIC && rec.status == MVM_EXIT_PANIC,
	   "PANICKED ends the VM: VM_EXIT_PANIC, status 255 (calls %d why %d status %d)",
	   rec.calls, rec.why, rec.status);
	is_int(MVM_EXIT_PANIC, 255, "MVM_EXIT_PANIC is 255, as virtme-ng");
	bar_rw(&m, bar, 1, true, PVPANIC_PANICKED | PVPANIC_CRASH_LOADED);
	ok(rec.calls == 2 && rec.why == VM_EXIT_PANIC,
	   "PANICKED | CRASH_LOADED: PANICKED wins, as in QEMU");
	pvpanic_destroy(p);
	ok(find_pvpanic(&m) < 0 && !iobus_find(m.mmio, bar),
	   "pvpanic_destroy: off the bus, BAR unmapped");
	test_machine_destroy(&m);
}

/* Odd guests: warned (rate-limited), never a crash, never a false exit. */
static void test_odd_accesses(void)
{
	struct exit_rec rec = { 0 };
	struct exit_line line = { .request = rec_exit, .opaque = &rec };
	struct test_machine m;
	struct pvpanic *p;
	const char *msg;
	uint64_t bar;
	int devfn, i;

	if (test_machine_init(&m, &kvm, &(struct test_machine_opts){ 0 }) ||
	    pvpanic_create(m.ctx, line, &p)) {
		tap_skip(8, "cannot build the test machine");
		return;
	}
	devfn = find_pvpanic(&m);
	bar = cfg_read(&m, devfn, PCI_BASE_ADDRESS_0, 4) & PCI_BASE_ADDRESS_MEM_MASK;
	log_quiet = false;

	msg = CAPTURED(bar_rw(&m, bar + 1, 1, true, PVPANIC_PANICKED));
	if (!ok(rec.calls == 0 && strstr(msg, "BAR0+1") && count_lines(msg) == 1,
		"PANICKED at offset 1: one warning, the VM runs on"))
		tap_diag("%s", msg);
	msg = CAPTURED(i = (int)bar_rw(&m, bar + 15, 1, false, 0));
	ok(i == 0 && strstr(msg, "BAR0+15"), "read at offset 15: 0, warned");
	msg = CAPTURED(i = (int)bar_rw(&m, bar, 4, false, 0));
	ok(i == (PVPANIC_PANICKED | PVPANIC_CRASH_LOADED) && strstr(msg, "4-byte read"),
	   "4-byte read at 0: the events in the low byte, warned (%#x)", i);
	msg = CAPTURED(bar_rw(&m, bar, 1, true, 0));
	ok(rec.calls == 0 && strstr(msg, "no event"), "write of 0: warned, runs on");
	msg = CAPTURED(bar_rw(&m, bar, 1, true, 0xfc));
	if (!ok(rec.calls == 0 && strstr(msg, "unknown event bits 0xfc") &&
		!pvpanic_events_seen(p),
		"unknown bits only: warned, nothing recorded"))
		tap_diag("%s", msg);
	msg = CAPTURED(for (i = 0; i < 100; i++) bar_rw(&m, bar + 8, 2, true, 0));
	ok(count_lines(msg) <= RATELIMIT_BURST,
	   "100 odd writes: at most %d warnings (%u)", RATELIMIT_BURST,
	   count_lines(msg));
	msg = CAPTURED(bar_rw(&m, bar, 8, true, 0x0101 | PVPANIC_PANICKED));
	ok(rec.calls == 1 && rec.why == VM_EXIT_PANIC,
	   "8-byte write at 0 holding PANICKED in its low byte: a panic (QEMU splits it)");
	ok(!iobus_access(m.mmio, bar + 14, (uint8_t[4]){ 0 }, 4, true) &&
	   rec.calls == 1, "a write straddling the BAR's end is not the device's");
	log_quiet = true;
	pvpanic_destroy(p);
	test_machine_destroy(&m);
}

int main(void)
{
	fake_kvm_init(&kvm);
	log_quiet = true;
	test_config_and_panic();
	test_odd_accesses();
	return tap_done();
}
