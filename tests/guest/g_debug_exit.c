// SPDX-License-Identifier: GPL-2.0
/* The debug-exit port: a byte written to 0xf4 is mvm's exit status. */
#include "guest.h"

void guest_main(void *bp)
{
	GUEST_SYNC(1, 42);
	guest_debug_exit(42);
	/* Not reached when --debug-exit is on. */
	GUEST_ASSERT(0);
}
