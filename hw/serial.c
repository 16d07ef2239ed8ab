// SPDX-License-Identifier: GPL-2.0
/*
 * 16550A UART (PC16550D datasheet).  What is modelled and what is not:
 *
 * - The transmitter is infinitely fast: a THR write goes straight to the
 *   host fd, so THR/TX FIFO are always empty (LSR.THRE and LSR.TEMT always
 *   set) and the divisor latch only stores what the guest programs.
 * - The receiver holds 16 bytes in FIFO mode, 1 byte in 16450 mode.
 * - The host delivers input in bursts through serial_receive(); after each
 *   burst the line is idle, so the character timeout (datasheet: no RX
 *   activity for 4 character times while the FIFO holds data below the
 *   trigger level) is treated as already expired.
 * - Loopback (MCR.LOOP) wires TX to RX and DTR/RTS/OUT1/OUT2 to
 *   DSR/CTS/RI/DCD, which is what Linux's 8250 autoconfig checks.
 * - No parity/framing/break errors ever happen, so the only line status
 *   interrupt source is an overrun.
 * - Host input obeys RTS/CTS flow control: bytes are offered only while
 *   the guest asserts RTS outside loopback (in loopback the modem outputs
 *   are inactive on the pins: datasheet, MCR bit 4).  Linux raises RTS
 *   when a program opens the tty, after its startup has cleared the
 *   FIFOs, and drops it on the last close (HUPCL), so input typed or
 *   piped before the guest is ready waits on the host instead of being
 *   lost to the driver's FIFO resets or its loopback self-test.
 * - OUT2 does not gate the IRQ.  On a PC it gates the UART's INTR pin onto
 *   the ISA bus for the 8259; we drive an IOAPIC pin directly, and both
 *   QEMU and kvmtool leave it ungated too.  Linux sets OUT2 anyway.
 */
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "hw/serial.h"
#include "core/util.h"

struct serial {
	pthread_mutex_t lock;
	struct irq_line irq;
	uint16_t base;
	int out_fd;
	int rx_notify_fd;
	bool rx_waiter;		/* serial_receive() was refused bytes */
	serial_observer_fn *observe;	/* sees every byte sent out */
	void *observe_opaque;

	uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
	uint8_t dll, dlm;

	uint8_t rx_fifo[UART_FIFO_SIZE];
	unsigned int rx_head, rx_count;

	bool thr_ipending;	/* THRE interrupt latched */
	bool irq_level;		/* last level driven onto the line */
};

static bool fifo_enabled(const struct serial *s)
{
	return s->fcr & UART_FCR_ENABLE;
}

static unsigned int rx_capacity(const struct serial *s)
{
	return fifo_enabled(s) ? UART_FIFO_SIZE : 1;
}

/* RX FIFO trigger level, FCR bits 7:6 (datasheet table "FCR bits"). */
static unsigned int rx_trigger(const struct serial *s)
{
	static const unsigned int level[] = { 1, 4, 8, 14 };

	return level[(s->fcr & UART_FCR_TRIGGER_MASK) >> 6];
}

/*
 * The highest-priority pending and enabled interrupt, as IIR bits 3:0.
 * Priority (datasheet, "Interrupt Control Functions"): receiver line
 * status, then received data available / character timeout, then THR
 * empty, then modem status.
 */
static uint8_t serial_iir_id(const struct serial *s)
{
	if ((s->ier & UART_IER_RLSI) && (s->lsr & UART_LSR_OE))
		return UART_IIR_RLSI;
	if ((s->ier & UART_IER_RDI) && s->rx_count) {
		if (!fifo_enabled(s) || s->rx_count >= rx_trigger(s))
			return UART_IIR_RDI;
		return UART_IIR_TIMEOUT;
	}
	if ((s->ier & UART_IER_THRI) && s->thr_ipending)
		return UART_IIR_THRI;
	if ((s->ier & UART_IER_MSI) && (s->msr & UART_MSR_DELTA))
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

/* Drive the level-triggered line, only when the level changes. */
static void serial_update_irq(struct serial *s)
{
	bool level = serial_iir_id(s) != UART_IIR_NO_INT;

	if (level == s->irq_level)
		return;
	s->irq_level = level;
	irq_line_set(&s->irq, level);
}

/* DSR/CTS/RI/DCD as the UART sees them (MSR bits 7:4). */
static uint8_t modem_inputs(const struct serial *s)
{
	uint8_t m = 0;

	/* Nothing is attached: report a modem that is always ready. */
	if (!(s->mcr & UART_MCR_LOOP))
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	/* Loopback: outputs are wired to inputs (datasheet, MCR bit 4). */
	if (s->mcr & UART_MCR_DTR)
		m |= UART_MSR_DSR;
	if (s->mcr & UART_MCR_RTS)
		m |= UART_MSR_CTS;
	if (s->mcr & UART_MCR_OUT1)
		m |= UART_MSR_RI;
	if (s->mcr & UART_MCR_OUT2)
		m |= UART_MSR_DCD;
	return m;
}

/* Latch new modem inputs and set the delta bits for what changed. */
static void update_msr(struct serial *s)
{
	uint8_t now = modem_inputs(s);
	uint8_t changed = (s->msr ^ now) & 0xf0;
	uint8_t delta = 0;

	if (changed & UART_MSR_CTS)
		delta |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		delta |= UART_MSR_DDSR;
	/* TERI is set on the trailing edge (1 -> 0) of RI only. */
	if ((changed & UART_MSR_RI) && !(now & UART_MSR_RI))
		delta |= UART_MSR_TERI;
	if (changed & UART_MSR_DCD)
		delta |= UART_MSR_DDCD;
	s->msr = (s->msr & UART_MSR_DELTA) | delta | now;
}

static void rx_clear(struct serial *s)
{
	s->rx_head = 0;
	s->rx_count = 0;
}

/* Caller checked there is room. */
static void rx_push(struct serial *s, uint8_t c)
{
	s->rx_fifo[(s->rx_head + s->rx_count) % UART_FIFO_SIZE] = c;
	s->rx_count++;
}

/* The guest's receiver is ready for the host: RTS, not in loopback. */
static bool rx_ready(const struct serial *s)
{
	return (s->mcr & (UART_MCR_RTS | UART_MCR_LOOP)) == UART_MCR_RTS;
}

/* Tell a refused serial_receive() caller that there is room again. */
static void rx_space_freed(struct serial *s)
{
	uint64_t one = 1;

	if (!s->rx_waiter || s->rx_notify_fd < 0)
		return;
	s->rx_waiter = false;
	/* An eventfd write only fails if the counter would overflow. */
	if (write(s->rx_notify_fd, &one, sizeof(one)) < 0)
		return;
}

static uint8_t rx_pop(struct serial *s)
{
	uint8_t c;

	if (!s->rx_count)
		return 0;
	c = s->rx_fifo[s->rx_head];
	s->rx_head = (s->rx_head + 1) % UART_FIFO_SIZE;
	s->rx_count--;
	rx_space_freed(s);
	return c;
}

/*
 * Write one byte to the host.  Retries EINTR and short writes; waits a
 * little for a non-blocking fd.  Host output trouble never stops the
 * guest: the byte is dropped with a warning.
 */
static void serial_output(struct serial *s, uint8_t c)
{
	ssize_t n;

	if (s->out_fd < 0)
		return;
	for (;;) {
		n = write(s->out_fd, &c, 1);
		if (n == 1)
			return;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = { .fd = s->out_fd,
					    .events = POLLOUT };

			if (poll(&p, 1, 1000) > 0)
				continue;
			errno = EAGAIN;
		}
		break;
	}
	pr_warn_ratelimited("serial %#x: output dropped: %s", s->base,
			    n < 0 ? strerror(errno) : "short write");
}

static void serial_transmit(struct serial *s, uint8_t c)
{
	if (s->mcr & UART_MCR_LOOP) {
		/*
		 * Overrun (datasheet, LSR bit 1): the FIFO is full and the
		 * next character overwrites the shift register; the FIFO
		 * keeps its contents.
		 */
		if (s->rx_count < rx_capacity(s))
			rx_push(s, c);
		else
			s->lsr |= UART_LSR_OE;
	} else {
		if (s->observe)
			s->observe(s->observe_opaque, &c, 1);
		serial_output(s, c);
	}
	/*
	 * Writing THR clears a pending THRE interrupt, but the byte leaves
	 * at once, THR is empty again and THRE is raised anew.  Linux's
	 * 8250 driver depends on that interrupt to send the next chunk.
	 */
	s->thr_ipending = true;
}

static void serial_write_fcr(struct serial *s, uint8_t val)
{
	/* Toggling FCR0 resets both FIFOs (datasheet, FCR bit 0). */
	if ((val ^ s->fcr) & UART_FCR_ENABLE) {
		rx_clear(s);
		rx_space_freed(s);
	}
	/* "FCR0 must be 1 when other FCR bits are written or they will
	 * not be programmed." */
	if (!(val & UART_FCR_ENABLE)) {
		s->fcr = 0;
		return;
	}
	if (val & UART_FCR_CLEAR_RCVR) {
		rx_clear(s);
		rx_space_freed(s);
	}
	/* CLEAR_XMIT: the TX FIFO is always empty.  Bits 1-2 self-clear. */
	s->fcr = val & (UART_FCR_ENABLE | UART_FCR_DMA |
			UART_FCR_TRIGGER_MASK);
}

static void serial_write_reg(struct serial *s, unsigned int reg, uint8_t val)
{
	bool dlab = s->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_TX:
		if (dlab)
			s->dll = val;
		else
			serial_transmit(s, val);
		break;
	case UART_IER:
		if (dlab) {
			s->dlm = val;
			break;
		}
		/*
		 * Enabling ETBEI while THR is empty (always, here) raises
		 * THRE at once; Linux's UART_BUG_THRE probe expects that.
		 */
		if ((val & UART_IER_THRI) && !(s->ier & UART_IER_THRI))
			s->thr_ipending = true;
		s->ier = val & 0x0f;	/* bits 7:4 are always 0 */
		break;
	case UART_FCR:
		serial_write_fcr(s, val);
		break;
	case UART_LCR:
		s->lcr = val;
		break;
	case UART_MCR: {
		bool was_ready = rx_ready(s);

		s->mcr = val & 0x1f;	/* bits 7:5 are always 0 */
		update_msr(s);
		if (!was_ready && rx_ready(s))
			rx_space_freed(s);	/* RTS up: send what waits */
		break;
	}
	case UART_LSR:
		/* Factory test only on real parts; ignored. */
		break;
	case UART_MSR:
		break;
	case UART_SCR:
		s->scr = val;
		break;
	}
}

static uint8_t serial_read_reg(struct serial *s, unsigned int reg)
{
	bool dlab = s->lcr & UART_LCR_DLAB;
	uint8_t val = 0, id;

	switch (reg) {
	case UART_RX:
		val = dlab ? s->dll : rx_pop(s);
		break;
	case UART_IER:
		val = dlab ? s->dlm : s->ier;
		break;
	case UART_IIR:
		id = serial_iir_id(s);
		/* Reading IIR clears THRE when it is the source reported. */
		if (id == UART_IIR_THRI)
			s->thr_ipending = false;
		val = id | (fifo_enabled(s) ? UART_IIR_FIFO : 0);
		break;
	case UART_LCR:
		val = s->lcr;
		break;
	case UART_MCR:
		val = s->mcr;
		break;
	case UART_LSR:
		val = s->lsr | UART_LSR_THRE | UART_LSR_TEMT;
		if (s->rx_count)
			val |= UART_LSR_DR;
		/* Reading LSR clears the error bits (and the RLS irq). */
		s->lsr &= ~(UART_LSR_OE | UART_LSR_PE | UART_LSR_FE |
			    UART_LSR_BI);
		break;
	case UART_MSR:
		val = s->msr;
		s->msr &= ~UART_MSR_DELTA;
		break;
	case UART_SCR:
		val = s->scr;
		break;
	}
	return val;
}

static void serial_pio_read(void *opaque, uint64_t off, uint8_t *data,
			    unsigned int len)
{
	struct serial *s = opaque;

	if (len != 1) {
		pr_warn_ratelimited("serial %#x: %u-byte read at +%llu ignored",
				    s->base, len, (unsigned long long)off);
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&s->lock);
	data[0] = serial_read_reg(s, (unsigned int)off);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static void serial_pio_write(void *opaque, uint64_t off, const uint8_t *data,
			     unsigned int len)
{
	struct serial *s = opaque;

	if (len != 1) {
		pr_warn_ratelimited("serial %#x: %u-byte write at +%llu "
				    "ignored", s->base, len,
				    (unsigned long long)off);
		return;
	}
	pthread_mutex_lock(&s->lock);
	serial_write_reg(s, (unsigned int)off, data[0]);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static const struct io_ops serial_ops = {
	.read = serial_pio_read,
	.write = serial_pio_write,
};

/* Power-on values (datasheet, "Reset" table). */
static void serial_reset(struct serial *s)
{
	s->ier = 0;
	s->lcr = 0x03;		/* 8N1, what firmware would leave */
	s->mcr = 0;
	s->lsr = 0;
	s->msr = 0;
	s->scr = 0;
	s->fcr = 0;
	s->dll = 0x01;		/* 115200 baud */
	s->dlm = 0;
	s->thr_ipending = false;
	s->irq_level = false;
	rx_clear(s);
	update_msr(s);
	s->msr &= ~UART_MSR_DELTA;
}

struct serial *serial_create(struct iobus *pio, uint16_t base,
			     struct irq_line irq, int out_fd)
{
	struct serial *s = calloc(1, sizeof(*s));
	int err;

	if (!s) {
		pr_err("serial %#x: out of memory", base);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->irq = irq;
	s->base = base;
	s->out_fd = out_fd;
	s->rx_notify_fd = -1;
	serial_reset(s);
	err = iobus_register(pio, base, UART_NR_PORTS, &serial_ops, s,
			     "serial");
	if (err) {
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	return s;
}

void serial_destroy(struct serial *s, struct iobus *pio)
{
	if (!s)
		return;
	iobus_unregister(pio, s->base, s);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	if (rx_ready(s)) {
		while (n < len && s->rx_count < rx_capacity(s))
			rx_push(s, buf[n++]);
		serial_update_irq(s);
	}
	if (n < len)
		s->rx_waiter = true;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void serial_set_rx_notify(struct serial *s, int fd)
{
	pthread_mutex_lock(&s->lock);
	s->rx_notify_fd = fd;
	s->rx_waiter = false;
	pthread_mutex_unlock(&s->lock);
}

void serial_set_output_observer(struct serial *s, serial_observer_fn *fn,
				void *opaque)
{
	pthread_mutex_lock(&s->lock);
	s->observe = fn;
	s->observe_opaque = opaque;
	pthread_mutex_unlock(&s->lock);
}

static size_t serial_port_receive(void *opaque, const uint8_t *buf,
				  size_t len)
{
	return serial_receive(opaque, buf, len);
}

static void serial_port_rx_notify(void *opaque, int fd)
{
	serial_set_rx_notify(opaque, fd);
}

struct term_port serial_term_port(struct serial *s)
{
	return (struct term_port){
		.receive = serial_port_receive,
		.set_rx_notify = serial_port_rx_notify,
		.opaque = s,
	};
}
