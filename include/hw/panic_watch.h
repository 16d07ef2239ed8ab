/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Watches the guest's console output for Linux's panic line,
 * "Kernel panic - not syncing: <reason>" (kernel/panic.c), and remembers
 * the last one, so mvm can print it when the VM ends, whether or not the
 * console itself is shown, and can tell a reset that follows a panic
 * (panic=-1 reboot=k) from an orderly one.
 *
 * Fed byte by byte from the UART's output observer (hw/serial.h), on the
 * vCPU thread, with no allocation: the line being received lives in a
 * fixed buffer; a longer line keeps its first PANIC_LINE_MAX - 1 bytes.
 * Not locked: feed from one thread at a time (the UART's lock does that)
 * and read the result once the vCPUs are joined.
 */
#ifndef MVM_PANIC_WATCH_H
#define MVM_PANIC_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PANIC_LINE_MAX		256
#define PANIC_MARKER		"Kernel panic - not syncing"

struct panic_watch {
	char cur[PANIC_LINE_MAX];	/* the line being received */
	size_t cur_len;			/* bytes kept (< PANIC_LINE_MAX) */
	bool cur_long;			/* more bytes than kept */
	char line[PANIC_LINE_MAX];	/* the last panic line */
	bool seen;			/* line holds one */
	bool proper;			/* it began with the marker */
};

void panic_watch_init(struct panic_watch *w);
/* Console output, in any pieces. */
void panic_watch_feed(struct panic_watch *w, const uint8_t *buf, size_t len);
/*
 * The last panic line, from "Kernel panic" on (no printk timestamp), with
 * control characters shown as '?' and "..." when it was cut; NULL when
 * none was seen.  A line that holds the marker further in (the panic's
 * "---[ end Kernel panic - not syncing: ... ]---", a panic line with other
 * output mixed into it, a program echoing it) counts while no line that
 * begins with it has been seen.  A panic line still being received (no
 * newline yet) counts too.
 */
const char *panic_watch_line(struct panic_watch *w);

#endif
