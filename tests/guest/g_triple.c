// SPDX-License-Identifier: GPL-2.0
/* A guest that triple-faults: an exception with no usable IDT. */
#include "guest.h"

void guest_main(void *bp)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idt = { 0, 0 };

	GUEST_SYNC(1, 0);
	asm volatile("lidt %0; ud2" : : "m"(idt));
	GUEST_ASSERT(0);
}
