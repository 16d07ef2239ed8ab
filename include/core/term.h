/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host side of the console: a thread that reads the user's input and
 * feeds it to the guest's console device (the UART, or virtio-console),
 * through a struct term_port.  On a terminal, the terminal is put in
 * raw mode and Ctrl-A x quits the VM (Ctrl-A Ctrl-A sends one Ctrl-A);
 * from a pipe or file, bytes pass through verbatim.
 */
#ifndef MVM_TERM_H
#define MVM_TERM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/exit.h"

#define TERM_ESCAPE		0x01	/* Ctrl-A */
#define TERM_QUIT		'x'

/* State of the escape-sequence parser; zero-initialise. */
struct term_filter {
	bool escape;		/* the previous byte was Ctrl-A */
};

/*
 * Where input bytes go: the UART or another device such as
 * virtio-console (the board picks).  receive() takes what fits and
 * returns how many; after a short take the device signals the eventfd
 * given to set_rx_notify() once it has room again.
 */
struct term_port {
	size_t (*receive)(void *opaque, const uint8_t *buf, size_t len);
	void (*set_rx_notify)(void *opaque, int fd);
	void *opaque;
};

struct term {
	struct term_port port;
	struct exit_line exit;	/* Ctrl-A x: VM_EXIT_SIGNAL, status 0 */
	int in_fd;
	int stop_fd;		/* eventfd: term_stop() wakes us */
	int space_fd;		/* eventfd: the UART has RX room again */
	bool tty;		/* raw terminal, escape processing on */
	bool running;
	pthread_t thread;
	struct term_filter filter;
};

/*
 * Start the input thread reading in_fd (not closed by us).  If in_fd is a
 * terminal, switch it to raw mode until term_stop() or exit.  Returns 0
 * or -errno after printing why.
 */
int term_start(struct term *c, const struct term_port *port,
	       struct exit_line exit, int in_fd);
/* Stop and join the input thread and restore the terminal.  Idempotent. */
void term_stop(struct term *c);

/*
 * Restore the terminal's original mode.  Only calls tcsetattr(), so it can
 * be called from a signal handler or a crash path; harmless if nothing
 * was changed.
 */
void term_restore(void);

/*
 * The escape parser, pure: copy in[0..len) to out (room for len + 1
 * bytes: a ^A held over from the previous call may be emitted too),
 * handling Ctrl-A sequences: "^A x" (or X) quits, "^A ^A" is a literal
 * ^A, "^A" + anything else passes both bytes through.  A ^A at the end of
 * `in` is remembered for the next call.  Stops at a quit: *quit is set and
 * the bytes after it are not consumed.  Returns the number of bytes
 * written to out.
 */
size_t term_filter(struct term_filter *f, const uint8_t *in,
		      size_t len, uint8_t *out, bool *quit);

#endif
