// SPDX-License-Identifier: GPL-2.0
/*
 * The console input path: the escape parser on its own, then the thread
 * feeding a real UART from a pipe and from a pseudo-terminal.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "core/term.h"
#include "core/iobus.h"
#include "x86/layout.h"
#include "hw/serial.h"
#include "core/util.h"
#include "core/vm.h"

static struct iobus pio;

static size_t filter(struct term_filter *f, const char *in, size_t len,
		     uint8_t *out, bool *quit)
{
	return term_filter(f, (const uint8_t *)in, len, out, quit);
}

static void test_filter(void)
{
	struct term_filter f = { 0 };
	uint8_t out[16];
	bool quit;
	size_t n;

	n = filter(&f, "abc", 3, out, &quit);
	ok(n == 3 && !memcmp(out, "abc", 3) && !quit, "plain bytes pass");
	n = filter(&f, "a\x01\x01z", 4, out, &quit);
	ok(n == 3 && !memcmp(out, "a\x01z", 3) && !quit,
	   "^A ^A sends one ^A");
	n = filter(&f, "a\x01" "b", 3, out, &quit);
	ok(n == 3 && !memcmp(out, "a\x01" "b", 3) && !quit,
	   "^A + other passes both");
	n = filter(&f, "hi\x01xyz", 6, out, &quit);
	ok(quit, "^A x quits");
	ok(n == 2 && !memcmp(out, "hi", 2), "bytes before the quit kept");
	ok(!f.escape, "parser back to normal after quit");
	n = filter(&f, "\x01X", 2, out, &quit);
	ok(quit && n == 0, "^A X quits too");

	n = filter(&f, "q\x01", 2, out, &quit);
	ok(n == 1 && out[0] == 'q' && !quit && f.escape,
	   "trailing ^A held back");
	n = filter(&f, "x", 1, out, &quit);
	ok(quit && n == 0, "^A split across reads still quits");
	filter(&f, "\x01", 1, out, &quit);
	n = filter(&f, "k", 1, out, &quit);
	ok(n == 2 && !memcmp(out, "\x01k", 2), "held ^A + k emits 2 bytes");
	filter(&f, "\x01", 1, out, &quit);
	n = filter(&f, "\x01", 1, out, &quit);
	ok(n == 1 && out[0] == 1 && !f.escape, "split ^A ^A is one ^A");
	n = filter(&f, "x", 1, out, &quit);
	ok(n == 1 && out[0] == 'x' && !quit, "plain x does not quit");
}

static uint8_t uart_rd(unsigned int reg)
{
	uint8_t v = 0;

	iobus_access(&pio, SERIAL0_PORT + reg, &v, 1, false);
	return v;
}

static void uart_wr(unsigned int reg, uint8_t v)
{
	iobus_access(&pio, SERIAL0_PORT + reg, &v, 1, true);
}

static double now_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read up to `want` bytes from the UART, giving up after 5 s. */
static size_t uart_collect(uint8_t *buf, size_t want)
{
	double deadline = now_s(CLOCK_MONOTONIC) + 5;
	size_t got = 0;

	while (got < want && now_s(CLOCK_MONOTONIC) < deadline) {
		if (uart_rd(UART_LSR) & UART_LSR_DR)
			buf[got++] = uart_rd(UART_RX);
		else
			usleep(1000);
	}
	return got;
}

static bool wait_exit(struct vm *vm)
{
	double deadline = now_s(CLOCK_MONOTONIC) + 5;

	while (vm->exit_reason == VM_RUNNING &&
	       now_s(CLOCK_MONOTONIC) < deadline)
		usleep(1000);
	return vm->exit_reason != VM_RUNNING;
}

static void test_pipe(struct serial *s)
{
	struct term_port port = serial_term_port(s);
	struct vm vm = { 0 };
	struct term c;
	uint8_t big[200], got[200];
	double cpu;
	size_t i, n;
	int fds[2];

	if (pipe(fds)) {
		tap_skip(7, "pipe failed");
		return;
	}
	is_int(term_start(&c, &port, vm_exit_line(&vm), fds[0]), 0,
	       "term_start on a pipe");
	ok(!c.tty, "a pipe is not a terminal");
	if (write(fds[1], "hi\x01x\x01\x01", 6) != 6)
		tap_diag("short pipe write");
	n = uart_collect(got, 6);
	ok(n == 6 && !memcmp(got, "hi\x01x\x01\x01", 6),
	   "pipe bytes reach the UART verbatim, no escape processing");
	is_int(vm.exit_reason, VM_RUNNING, "^A x from a pipe does not quit");

	/* More than the FIFO holds: the thread must wait, not spin. */
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	if (write(fds[1], big, sizeof(big)) != (ssize_t)sizeof(big))
		tap_diag("short pipe write");
	usleep(50 * 1000);
	cpu = now_s(CLOCK_PROCESS_CPUTIME_ID);
	usleep(200 * 1000);
	cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - cpu;
	ok(cpu < 0.05, "full FIFO: input thread sleeps (%.3f s CPU in 0.2 s)",
	   cpu);
	n = uart_collect(got, sizeof(big));
	ok(n == sizeof(big) && !memcmp(got, big, sizeof(big)),
	   "200 bytes through a 16-byte FIFO, in order");

	/* EOF ends the thread by itself; stop must still return. */
	close(fds[1]);
	usleep(20 * 1000);
	term_stop(&c);
	term_stop(&c);
	ok(!c.running && c.stop_fd < 0,
	   "term_stop after EOF returns, twice");
	close(fds[0]);
}

/*
 * Input that arrives before the guest opens its tty (RTS low, or the
 * driver's loopback self-test, or FIFO resets at init) waits on the host
 * and reaches the guest in full once it raises RTS.
 */
static void test_early_input(struct serial *s)
{
	struct term_port port = serial_term_port(s);
	static const char script[] = "echo one\necho two\nexit 7\n";
	size_t len = sizeof(script) - 1, n;
	struct vm vm = { 0 };
	uint8_t got[64];
	struct term c;
	int fds[2];

	if (pipe(fds)) {
		tap_skip(4, "pipe failed");
		return;
	}
	uart_wr(UART_MCR, 0);			/* not open yet */
	is_int(term_start(&c, &port, vm_exit_line(&vm), fds[0]), 0,
	       "term_start before the guest is ready");
	if (write(fds[1], script, len) != (ssize_t)len)
		tap_diag("short pipe write");
	close(fds[1]);				/* and EOF right behind it */
	usleep(50 * 1000);
	is_int(uart_rd(UART_LSR) & UART_LSR_DR, 0,
	       "RTS low: nothing delivered, nothing dropped");
	uart_wr(UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);	/* self-test */
	uart_wr(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RCVR);
	usleep(20 * 1000);
	is_int(uart_rd(UART_LSR) & UART_LSR_DR, 0,
	       "loopback self-test and FIFO reset: still nothing taken");
	uart_wr(UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	n = uart_collect(got, len);
	ok(n == len && !memcmp(got, script, len),
	   "after RTS: the whole script arrives in order (%zu/%zu bytes)", n,
	   len);
	term_stop(&c);
	close(fds[0]);
}

static void test_stop_while_idle(struct serial *s)
{
	struct term_port port = serial_term_port(s);
	struct vm vm = { 0 };
	struct term c;
	int fds[2];

	if (pipe(fds)) {
		tap_skip(1, "pipe failed");
		return;
	}
	term_start(&c, &port, vm_exit_line(&vm), fds[0]);
	usleep(20 * 1000);	/* let it block in poll() */
	term_stop(&c);
	ok(!c.running, "term_stop wakes a thread blocked on input");
	close(fds[0]);
	close(fds[1]);
}

static void test_pty(struct serial *s)
{
	struct term_port port = serial_term_port(s);
	struct vm vm = { 0 };
	struct termios t;
	struct term c;
	uint8_t got[8];
	int master, slave;
	size_t n;

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master)) {
		tap_skip(8, "no pseudo-terminals");
		if (master >= 0)
			close(master);
		return;
	}
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	if (slave < 0) {
		tap_skip(8, "cannot open the pty slave");
		close(master);
		return;
	}
	is_int(term_start(&c, &port, vm_exit_line(&vm), slave), 0,
	       "term_start on a pty");
	ok(c.tty, "pty detected as a terminal");
	tcgetattr(slave, &t);
	ok(!(t.c_lflag & (ICANON | ECHO | ISIG)) && !(t.c_iflag & ICRNL),
	   "terminal in raw mode");

	if (write(master, "ab\x01\x01" "c\r", 6) != 6)
		tap_diag("short pty write");
	n = uart_collect(got, 5);
	ok(n == 5 && !memcmp(got, "ab\x01" "c\r", 5),
	   "tty: ^A ^A becomes ^A, CR unchanged");
	is_int(vm.exit_reason, VM_RUNNING, "still running");

	if (write(master, "\x01x", 2) != 2)
		tap_diag("short pty write");
	ok(wait_exit(&vm), "^A x ends the VM");
	is_int(vm.exit_reason, VM_EXIT_SIGNAL, "exit reason is VM_EXIT_SIGNAL");

	term_stop(&c);
	tcgetattr(slave, &t);
	ok((t.c_lflag & (ICANON | ECHO | ISIG)) == (ICANON | ECHO | ISIG),
	   "terminal mode restored by term_stop");
	close(slave);
	close(master);
}

int main(void)
{
	struct irq_line none = { 0 };
	struct serial *s;

	alarm(60);	/* a hung console thread fails the test, not CI */
	test_filter();

	iobus_init(&pio, "pio");
	s = serial_create(&pio, SERIAL0_PORT, none, -1);
	if (!s)
		tap_skip_all("serial_create failed");
	uart_wr(UART_FCR, UART_FCR_ENABLE);
	uart_wr(UART_MCR, UART_MCR_DTR | UART_MCR_RTS);	/* the tty is open */
	test_pipe(s);
	test_early_input(s);
	uart_wr(UART_MCR, UART_MCR_DTR | UART_MCR_RTS);
	test_stop_while_idle(s);
	test_pty(s);
	serial_destroy(s, &pio);
	iobus_destroy(&pio);
	return tap_done();
}
