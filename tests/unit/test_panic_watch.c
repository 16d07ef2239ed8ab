// SPDX-License-Identifier: GPL-2.0
/*
 * The panic-line watcher (hw/panic_watch.c), fed as the board feeds it:
 * through the UART's output observer, one THR write at a time, and
 * directly in pieces of any size.
 */
#include <string.h>

#include "tap.h"
#include "core/iobus.h"
#include "core/util.h"
#include "hw/panic_watch.h"
#include "hw/serial.h"
#include "x86/layout.h"

static struct iobus pio;

static void feed(struct panic_watch *w, const char *s)
{
	panic_watch_feed(w, (const uint8_t *)s, strlen(s));
}

/* Feed s in pieces of `step` bytes. */
static void feed_split(struct panic_watch *w, const char *s, size_t step)
{
	size_t len = strlen(s), i;

	for (i = 0; i < len; i += step)
		panic_watch_feed(w, (const uint8_t *)s + i, MIN(step, len - i));
}

static void observe(void *opaque, const uint8_t *buf, size_t len)
{
	panic_watch_feed(opaque, buf, len);
}

static void thr(const char *s)
{
	for (; *s; s++)
		iobus_access(&pio, SERIAL0_PORT + UART_TX, (uint8_t *)s, 1, true);
}

static void test_through_the_uart(void)
{
	struct irq_line none = { 0 };
	struct panic_watch w;
	struct serial *s;
	uint8_t mcr = UART_MCR_LOOP;

	panic_watch_init(&w);
	s = serial_create(&pio, SERIAL0_PORT, none, -1);
	if (!s) {
		tap_skip(3, "serial_create failed");
		return;
	}
	serial_set_output_observer(s, observe, &w);
	thr("[    0.000000] Linux version 6.1.0\r\n");
	ok(!panic_watch_line(&w), "an ordinary console line is no panic");
	thr("[    3.141592] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\r\n");
	is_str(panic_watch_line(&w),
	       "Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
	       "the panic line, seen with the console not shown (out_fd -1), timestamp and CR gone");
	/* Loopback bytes never leave the UART: not console output. */
	iobus_access(&pio, SERIAL0_PORT + UART_MCR, &mcr, 1, true);
	thr("Kernel panic - not syncing: loopback\n");
	is_str(panic_watch_line(&w),
	       "Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
	       "bytes in loopback are not observed");
	serial_destroy(s, &pio);
}

static void test_lines(void)
{
	static const char panic[] =
		"[   12.345678] Kernel panic - not syncing: sysrq triggered crash\r\n";
	struct panic_watch w;
	char big[1000], want[PANIC_LINE_MAX];
	size_t step;
	bool all = true;

	for (step = 1; step <= sizeof(panic); step++) {
		panic_watch_init(&w);
		feed(&w, "[   12.3] sysrq: Trigger a crash\r\n");
		feed_split(&w, panic, step);
		feed(&w, "[   12.4] CPU: 0 PID: 1 Comm: sh\r\n");
		if (!panic_watch_line(&w) ||
		    strcmp(panic_watch_line(&w),
			   "Kernel panic - not syncing: sysrq triggered crash"))
			all = false;
	}
	ok(all, "captured across writes split every 1..%zu bytes", sizeof(panic));

	panic_watch_init(&w);
	feed(&w, "[   12.5] ---[ end Kernel panic - not syncing: sysrq triggered crash ]---\n");
	is_str(panic_watch_line(&w), "Kernel panic - not syncing: sysrq triggered crash",
	       "without a panic line, the '---[ end Kernel panic' line stands in, ' ]---' dropped");
	feed(&w, "[   12.6] Kernel panic - not syncing: proper\n");
	feed(&w, "[   12.7] ---[ end Kernel panic - not syncing: proper ]---\n");
	is_str(panic_watch_line(&w), "Kernel panic - not syncing: proper",
	       "a line that begins with the marker wins over one that has it further in");

	panic_watch_init(&w);
	feed(&w, "MVM-PANI[   18C pvp.549703] Kernel panic - not syncing: mixed\n");
	is_str(panic_watch_line(&w), "Kernel panic - not syncing: mixed",
	       "a panic line with another CPU's output mixed into its start still counts");

	panic_watch_init(&w);
	feed(&w, "[    1.0][    T1] Kernel panic - not syncing: with caller id\n");
	is_str(panic_watch_line(&w), "Kernel panic - not syncing: with caller id",
	       "CONFIG_PRINTK_CALLER's second [...] is skipped too");

	panic_watch_init(&w);
	feed(&w, "Kernel panic - not syncing: first\n");
	feed(&w, "Kernel panic - not syncing: second\n");
	feed(&w, "[ 2.0] ---[ end Kernel panic - not syncing: second ]---\n");
	is_str(panic_watch_line(&w), "Kernel panic - not syncing: second",
	       "the last panic line is kept");

	panic_watch_init(&w);
	feed(&w, "Kernel panic - not syncing: no newline yet");
	is_str(panic_watch_line(&w), "Kernel panic - not syncing: no newline yet",
	       "a panic line still without its newline counts");

	panic_watch_init(&w);
	panic_watch_feed(&w, (const uint8_t *)"Kernel panic - not syncing: a\033[2Jb\0c\xff\n", 38);
	is_str(panic_watch_line(&w), "Kernel panic - not syncing: a?[2Jb?c?",
	       "control bytes, NUL and non-ASCII shown as '?' (nothing reaches the host's terminal)");

	/* A long line: what of its first PANIC_LINE_MAX - 1 bytes follows the
	 * 7-byte timestamp, and "...". */
	memset(big, 'x', sizeof(big));
	memcpy(big, "[ 9.9] Kernel panic - not syncing: ", 35);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	panic_watch_init(&w);
	feed_split(&w, big, 7);
	feed(&w, "next line\n");
	memcpy(want, big + 7, PANIC_LINE_MAX - 1 - 7);
	strcpy(want + PANIC_LINE_MAX - 1 - 7, "...");
	is_str(panic_watch_line(&w), want,
	       "a 998-byte panic line: cut where the line buffer ends, marked '...'");

	/* The marker beyond what a line keeps: not seen, nothing overflows. */
	memset(big, 'y', sizeof(big) - 2);
	memcpy(big + 300, "Kernel panic - not syncing: late", 32);
	panic_watch_init(&w);
	feed(&w, big);
	ok(!panic_watch_line(&w), "a marker past %d bytes of line is not seen",
	   PANIC_LINE_MAX - 1);
	feed(&w, "Kernel panic - not syncing: after a long line\n");
	is_str(panic_watch_line(&w), "Kernel panic - not syncing: after a long line",
	       "the next line after a long one is read from its start");
}

int main(void)
{
	log_quiet = true;
	iobus_init(&pio, "pio");
	test_through_the_uart();
	test_lines();
	iobus_destroy(&pio);
	return tap_done();
}
