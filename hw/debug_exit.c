// SPDX-License-Identifier: GPL-2.0
/*
 * The debug-exit port.  Unlike QEMU's isa-debug-exit, which exits with
 * (value << 1) | 1, the status is the low byte of the value as written,
 * so a test guest can report 0 for success.
 */
#include "hw/debug_exit.h"
#include "x86/layout.h"
#include "core/util.h"

static void debug_exit_write(void *opaque, uint64_t off, const uint8_t *data,
			     unsigned int len)
{
	struct debug_exit *d = opaque;

	/* The bus only hands us 1, 2 or 4 bytes that fit the 4 ports. */
	exit_line_request(&d->exit, VM_EXIT_DEBUG_EXIT,
			  (int)(get_leN(data, len) & 0xff));
}

static void debug_exit_read(void *opaque, uint64_t off, uint8_t *data,
			    unsigned int len)
{
	memset(data, 0xff, len);	/* nothing to read: open bus */
}

static const struct io_ops debug_exit_ops = {
	.read = debug_exit_read,
	.write = debug_exit_write,
};

int debug_exit_init(struct debug_exit *d, struct iobus *pio,
		    struct exit_line exit)
{
	d->exit = exit;
	return iobus_register(pio, DEBUG_EXIT_PORT, DEBUG_EXIT_SIZE,
			      &debug_exit_ops, d, "debug-exit");
}

void debug_exit_remove(struct debug_exit *d, struct iobus *pio)
{
	iobus_unregister(pio, DEBUG_EXIT_PORT, d);
}
