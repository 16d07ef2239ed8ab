/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An isa-debug-exit style port at DEBUG_EXIT_PORT (0xf4, 4 ports wide):
 * any write of 1 to 4 bytes ends the VM with exit status (value & 0xff).
 * Only present when the user asks for it (--debug-exit), since a
 * guest must not be able to choose the VMM's exit status by default.
 */
#ifndef MVM_DEBUG_EXIT_H
#define MVM_DEBUG_EXIT_H

#include "core/exit.h"
#include "core/iobus.h"

#define DEBUG_EXIT_SIZE		4

struct debug_exit {
	struct exit_line exit;		/* VM_EXIT_DEBUG_EXIT, the status */
};

/* Returns 0 or -errno (after printing why). */
int debug_exit_init(struct debug_exit *d, struct iobus *pio,
		    struct exit_line exit);
void debug_exit_remove(struct debug_exit *d, struct iobus *pio);

#endif
