// SPDX-License-Identifier: GPL-2.0
/*
 * Serial output: print a known line through the 16550A, polling LSR.THRE
 * before every byte, and check the UART looks like one (LSR readable,
 * scratch register holds a value).  The host compares the console bytes.
 */
#include "guest.h"

#define UART_SCR	7
#define UART_LSR	5
#define UART_LSR_THRE	0x20
#define UART_LSR_TEMT	0x40

static const char msg[] = "g_serial: the quick brown fox 0123456789\n";

void guest_main(void *bp)
{
	uint16_t base = SERIAL0_PORT;
	uint8_t lsr;
	const char *p;

	lsr = inb(base + UART_LSR);
	GUEST_SYNC(1, lsr);
	GUEST_ASSERT(lsr != 0xff);		/* a device answers */
	outb(base + UART_SCR, 0x5a);		/* 16550A scratch register */
	GUEST_ASSERT_EQ(inb(base + UART_SCR), 0x5a);

	for (p = msg; *p; p++) {
		while (!(inb(base + UART_LSR) & UART_LSR_THRE))
			cpu_relax();
		outb(base, *p);
	}
	/* Transmitter empty once the host has taken the bytes. */
	GUEST_ASSERT(inb(base + UART_LSR) & UART_LSR_THRE);
	GUEST_SYNC(2, sizeof(msg) - 1);
	GUEST_DONE();
}
