// SPDX-License-Identifier: GPL-2.0
/* A guest that never ends on its own (interrupts off, halted). */
#include "guest.h"

void guest_main(void *bp)
{
	GUEST_SYNC(1, 0);
	for (;;)
		asm volatile("cli; hlt");
}
