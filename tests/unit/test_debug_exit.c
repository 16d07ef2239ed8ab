// SPDX-License-Identifier: GPL-2.0
/* The debug-exit port: any 1..4 byte write ends the VM with a status. */
#include "tap.h"
#include "hw/debug_exit.h"
#include "core/iobus.h"
#include "x86/layout.h"
#include "core/util.h"
#include "core/vm.h"

static struct iobus pio;

static void check_write(unsigned int len, uint32_t val, int want,
			const char *name)
{
	struct vm vm = { 0 };
	struct debug_exit d;
	uint8_t buf[4];

	is_int(debug_exit_init(&d, &pio, vm_exit_line(&vm)), 0,
	       "debug_exit_init");
	put_le32(buf, val);
	ok(iobus_access(&pio, DEBUG_EXIT_PORT, buf, len, true),
	   "%u-byte write claimed", len);
	is_int(vm.exit_reason, VM_EXIT_DEBUG_EXIT, "exit reason debug-exit");
	is_int(vm.exit_status, want, name);
	/* The first request wins. */
	buf[0] = 7;
	iobus_access(&pio, DEBUG_EXIT_PORT, buf, 1, true);
	is_int(vm.exit_status, want, "second write does not change status");
	debug_exit_remove(&d, &pio);
}

int main(void)
{
	struct vm vm = { 0 };
	struct debug_exit d;
	uint8_t b = 0;

	iobus_init(&pio, "pio");
	check_write(1, 0x00, 0, "status 0 from a byte");
	check_write(1, 0x2a, 42, "status 42 from a byte");
	check_write(2, 0x1203, 3, "word: low byte only");
	check_write(4, 0xdeadbeff, 0xff, "dword: low byte only");

	debug_exit_init(&d, &pio, vm_exit_line(&vm));
	iobus_access(&pio, DEBUG_EXIT_PORT, &b, 1, false);
	is_int(b, 0xff, "reads return 0xff");
	is_int(vm.exit_reason, VM_RUNNING, "reads do not end the VM");
	debug_exit_remove(&d, &pio);
	ok(!iobus_find(&pio, DEBUG_EXIT_PORT), "debug_exit_remove");
	iobus_destroy(&pio);
	return tap_done();
}
