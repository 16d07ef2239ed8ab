/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host side of the serial console: a thread that reads the user's
 * input and feeds it to the UART.  On a terminal, the terminal is put in
 * raw mode and Ctrl-A x quits the VM (Ctrl-A Ctrl-A sends one Ctrl-A);
 * from a pipe or file, bytes pass through verbatim.
 */
#ifndef MVM_CONSOLE_H
#define MVM_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_ESCAPE		0x01	/* Ctrl-A */
#define CONSOLE_QUIT		'x'

struct serial;
struct vm;

/* State of the escape-sequence parser; zero-initialise. */
struct console_filter {
	bool escape;		/* the previous byte was Ctrl-A */
};

/*
 * Where input bytes go: the UART (console_start) or another device such
 * as virtio-console (console_start_port).  receive() takes what fits and
 * returns how many; after a short take the device signals the eventfd
 * given to set_rx_notify() once it has room again.
 */
struct console_port {
	size_t (*receive)(void *opaque, const uint8_t *buf, size_t len);
	void (*set_rx_notify)(void *opaque, int fd);
	void *opaque;
};

struct console {
	struct console_port port;
	struct vm *vm;
	int in_fd;
	int stop_fd;		/* eventfd: console_stop() wakes us */
	int space_fd;		/* eventfd: the UART has RX room again */
	bool tty;		/* raw terminal, escape processing on */
	bool running;
	pthread_t thread;
	struct console_filter filter;
};

/*
 * Start the input thread reading in_fd (not closed by us).  If in_fd is a
 * terminal, switch it to raw mode until console_stop() or exit.  Returns 0
 * or -errno after printing why.
 */
int console_start(struct console *c, struct serial *s, struct vm *vm,
		  int in_fd);
/* The same, feeding `port` instead of a UART. */
int console_start_port(struct console *c, const struct console_port *port,
		       struct vm *vm, int in_fd);
/* Stop and join the input thread and restore the terminal.  Idempotent. */
void console_stop(struct console *c);

/*
 * Restore the terminal's original mode.  Only calls tcsetattr(), so it can
 * be called from a signal handler or a crash path; harmless if nothing
 * was changed.
 */
void console_restore(void);

/*
 * The escape parser, pure: copy in[0..len) to out (room for len + 1
 * bytes: a ^A held over from the previous call may be emitted too),
 * handling Ctrl-A sequences: "^A x" (or X) quits, "^A ^A" is a literal
 * ^A, "^A" + anything else passes both bytes through.  A ^A at the end of
 * `in` is remembered for the next call.  Stops at a quit: *quit is set and
 * the bytes after it are not consumed.  Returns the number of bytes
 * written to out.
 */
size_t console_filter(struct console_filter *f, const uint8_t *in,
		      size_t len, uint8_t *out, bool *quit);

#endif
