// SPDX-License-Identifier: GPL-2.0
/*
 * The console's input side.  One thread per console sleeps in poll() on
 * the input fd and a stop eventfd; when the device's receive buffer (the
 * UART's RX FIFO) is full it sleeps on a second eventfd that the device
 * signals once the guest has read a byte, so a guest that never reads its serial port costs no
 * CPU.  Output needs no thread: the UART writes it directly.
 */
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>

#include "core/term.h"
#include "core/util.h"

/*
 * The terminal mode to restore.  Global because term_restore() must
 * work from a signal handler or atexit() without a struct term.
 */
static struct termios saved_termios;
static volatile sig_atomic_t saved_fd = -1;

void term_restore(void)
{
	int fd = saved_fd;

	if (fd >= 0)
		tcsetattr(fd, TCSANOW, &saved_termios);
}

/*
 * Raw input like cfmakeraw(), so every key (Ctrl-C, Ctrl-Z, Ctrl-S ...)
 * reaches the guest, but output post-processing stays on as QEMU and
 * kvmtool leave it: the guest's "\r\n" is unaffected and a bare "\n"
 * still starts a new line.
 */
static int term_raw_mode(int fd)
{
	static bool atexit_done;
	struct termios t;

	if (tcgetattr(fd, &t))
		return -errno;
	if (saved_fd < 0) {
		saved_termios = t;
		saved_fd = fd;
		if (!atexit_done && !atexit(term_restore))
			atexit_done = true;
	}
	t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR |
				 IGNCR | ICRNL | IXON);
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &t))
		return -errno;
	return 0;
}

size_t term_filter(struct term_filter *f, const uint8_t *in,
		      size_t len, uint8_t *out, bool *quit)
{
	size_t i, o = 0;

	*quit = false;
	for (i = 0; i < len; i++) {
		uint8_t ch = in[i];

		if (!f->escape) {
			if (ch == TERM_ESCAPE)
				f->escape = true;
			else
				out[o++] = ch;
			continue;
		}
		f->escape = false;
		if (ch == TERM_QUIT || ch == (TERM_QUIT & ~0x20)) {
			*quit = true;
			break;
		}
		/* ^A ^A is one literal ^A; ^A + other passes both on. */
		if (ch != TERM_ESCAPE)
			out[o++] = TERM_ESCAPE;
		out[o++] = ch;
	}
	return o;
}

/*
 * Sleep until `fd` is readable (true) or term_stop() was called
 * (false).  Errors and hang-ups on `fd` count as readable so that the
 * following read() reports them.
 */
static bool term_wait(struct term *c, int fd)
{
	struct pollfd p[2] = {
		{ .fd = c->stop_fd, .events = POLLIN },
		{ .fd = fd, .events = POLLIN },
	};

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			pr_errno(errno, "console: poll failed");
			return false;
		}
		if (p[0].revents)
			return false;
		if (p[1].revents)
			return true;
	}
}

/* Hand buf[0..len) to the UART, waiting for room; false if stopped. */
static bool term_deliver(struct term *c, const uint8_t *buf,
			    size_t len)
{
	size_t done = 0;
	uint64_t cnt;

	for (;;) {
		done += c->port.receive(c->port.opaque, buf + done, len - done);
		if (done == len)
			return true;
		if (!term_wait(c, c->space_fd))
			return false;
		/* Non-blocking eventfd: just reset the counter. */
		if (read(c->space_fd, &cnt, sizeof(cnt)) < 0 &&
		    errno != EAGAIN)
			return false;
	}
}

static void *term_thread(void *arg)
{
	struct term *c = arg;
	uint8_t in[256], buf[sizeof(in) + 1];
	bool quit = false;
	ssize_t r;
	size_t n;

	while (term_wait(c, c->in_fd)) {
		r = read(c->in_fd, in, sizeof(in));
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			pr_errno(errno, "console: reading input failed");
			break;
		}
		if (r == 0)
			break;	/* EOF: no more input for the guest */
		if (c->tty) {
			n = term_filter(&c->filter, in, (size_t)r, buf,
					   &quit);
		} else {
			memcpy(buf, in, (size_t)r);
			n = (size_t)r;
		}
		if (quit) {
			exit_line_request(&c->exit, VM_EXIT_SIGNAL, 0);
			break;
		}
		if (!term_deliver(c, buf, n))
			break;
	}
	return NULL;
}

static void term_close_fds(struct term *c)
{
	if (c->stop_fd >= 0)
		close(c->stop_fd);
	if (c->space_fd >= 0)
		close(c->space_fd);
	c->stop_fd = c->space_fd = -1;
}

int term_start(struct term *c, const struct term_port *port,
	       struct exit_line exit, int in_fd)
{
	sigset_t all, old;
	int err;

	memset(c, 0, sizeof(*c));
	c->port = *port;
	c->exit = exit;
	c->in_fd = in_fd;
	c->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->space_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->stop_fd < 0 || c->space_fd < 0) {
		err = -errno;
		pr_errno(-err, "console: eventfd failed");
		goto fail;
	}
	c->tty = isatty(in_fd);
	if (c->tty) {
		err = term_raw_mode(in_fd);
		if (err) {
			pr_errno(-err, "console: cannot set raw terminal mode");
			goto fail;
		}
	}
	c->port.set_rx_notify(c->port.opaque, c->space_fd);

	/* Signals belong to the main thread's signalfd and the vCPUs. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&c->thread, NULL, term_thread, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pr_errno(-err, "console: cannot start the input thread");
		c->port.set_rx_notify(c->port.opaque, -1);
		if (c->tty)
			term_restore();
		goto fail;
	}
	c->running = true;
	return 0;
fail:
	term_close_fds(c);
	return err;
}

void term_stop(struct term *c)
{
	uint64_t one = 1;

	if (!c->running)
		return;
	if (write(c->stop_fd, &one, sizeof(one)) < 0)
		pr_errno(errno, "console: cannot wake the input thread");
	pthread_join(c->thread, NULL);
	c->port.set_rx_notify(c->port.opaque, -1);
	term_close_fds(c);
	if (c->tty && saved_fd == c->in_fd) {
		term_restore();
		saved_fd = -1;
	}
	c->running = false;
}
