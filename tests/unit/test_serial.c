// SPDX-License-Identifier: GPL-2.0
/* The 16550A model, driven only through the PIO bus like a guest would. */
#include <fcntl.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "tap.h"
#include "core/iobus.h"
#include "x86/layout.h"
#include "hw/serial.h"
#include "core/util.h"

#define BASE SERIAL0_PORT

/* A recording interrupt line: every irq_line_set() call is logged. */
struct irq_rec {
	int level;
	int calls;
	int rises;
};

static void rec_set(void *opaque, unsigned int pin, int level)
{
	struct irq_rec *r = opaque;

	if (level && !r->level)
		r->rises++;
	r->level = level;
	r->calls++;
}

static struct iobus pio;
static struct irq_rec rec;

static uint8_t rd(unsigned int reg)
{
	uint8_t v = 0;

	iobus_access(&pio, BASE + reg, &v, 1, false);
	return v;
}

static void wr(unsigned int reg, uint8_t v)
{
	iobus_access(&pio, BASE + reg, &v, 1, true);
}

static struct serial *make(int out_fd)
{
	struct irq_line line = { .set = rec_set, .opaque = &rec,
				 .pin = SERIAL0_IRQ };

	rec = (struct irq_rec){ 0 };
	return serial_create(&pio, BASE, line, out_fd);
}

static void test_registers(void)
{
	struct serial *s = make(-1);

	ok(s != NULL, "serial_create");
	ok(iobus_find(&pio, BASE + 7) && !iobus_find(&pio, BASE + 8),
	   "claims exactly 8 ports");
	is_int(rd(UART_IIR), UART_IIR_NO_INT, "IIR after reset: no interrupt");
	is_int(rd(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT,
	       "LSR after reset: THRE|TEMT");
	is_int(rd(UART_MSR), UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS,
	       "MSR: DCD/DSR/CTS set when not in loopback");

	wr(UART_SCR, 0x5a);
	is_int(rd(UART_SCR), 0x5a, "scratch register round-trip");
	wr(UART_SCR, 0xa5);
	is_int(rd(UART_SCR), 0xa5, "scratch register second value");

	wr(UART_LCR, 0x1b);
	is_int(rd(UART_LCR), 0x1b, "LCR round-trip");

	/* DLAB: offsets 0/1 become the divisor latch. */
	wr(UART_IER, 0x05);
	wr(UART_LCR, 0x1b | UART_LCR_DLAB);
	wr(UART_DLL, 0x34);
	wr(UART_DLM, 0x12);
	is_int(rd(UART_DLL), 0x34, "DLL with DLAB=1");
	is_int(rd(UART_DLM), 0x12, "DLM with DLAB=1");
	wr(UART_LCR, 0x1b);
	is_int(rd(UART_IER), 0x05, "IER untouched by divisor writes");
	is_int(rd(UART_LSR) & UART_LSR_DR, 0,
	       "DLL write did not transmit or receive");
	wr(UART_LCR, 0x1b | UART_LCR_DLAB);
	is_int(rd(UART_DLL) | rd(UART_DLM) << 8, 0x1234,
	       "divisor kept after DLAB toggled");
	wr(UART_LCR, 0x03);

	wr(UART_IER, 0xff);
	is_int(rd(UART_IER), 0x0f, "IER upper bits read as 0");
	wr(UART_IER, 0);
	wr(UART_MCR, 0xff);
	is_int(rd(UART_MCR), 0x1f, "MCR upper bits read as 0");
	wr(UART_MCR, 0);
	is_int(rec.rises, 1, "IER=0xff with THR empty raised THRE once");
	is_int(rec.level, 0, "line low after IER cleared");

	serial_destroy(s, &pio);
	ok(!iobus_find(&pio, BASE), "serial_destroy unregisters");
}

static void test_loopback(void)
{
	struct serial *s = make(-1);
	int i;

	/* What Linux's 8250 autoconfig checks: MCR=LOOP|OUT2|RTS -> 0x90. */
	wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
	is_int(rd(UART_MSR) & 0xf0, UART_MSR_DCD | UART_MSR_CTS,
	       "loopback: MSR reflects OUT2->DCD, RTS->CTS");
	wr(UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_OUT1);
	is_int(rd(UART_MSR),
	       UART_MSR_DSR | UART_MSR_RI | UART_MSR_DCTS | UART_MSR_DDSR |
	       UART_MSR_DDCD,
	       "loopback: DTR->DSR, OUT1->RI, deltas for what changed");
	is_int(rd(UART_MSR), UART_MSR_DSR | UART_MSR_RI,
	       "MSR read clears the delta bits");
	wr(UART_MCR, UART_MCR_LOOP | UART_MCR_DTR);
	is_int(rd(UART_MSR), UART_MSR_DSR | UART_MSR_TERI,
	       "RI falling edge sets TERI");

	wr(UART_TX, 'A');
	is_int(rd(UART_LSR) & UART_LSR_DR, UART_LSR_DR,
	       "loopback: TX byte arrives in RX");
	is_int(rd(UART_RX), 'A', "loopback: echoed byte");
	is_int(rd(UART_LSR) & UART_LSR_DR, 0, "RX empty after read");

	/* 16450 mode: one byte of buffering, second byte overruns. */
	wr(UART_TX, 'x');
	wr(UART_TX, 'y');
	is_int(rd(UART_LSR) & (UART_LSR_DR | UART_LSR_OE),
	       UART_LSR_DR | UART_LSR_OE, "no FIFO: second byte overruns");
	is_int(rd(UART_LSR) & UART_LSR_OE, 0, "LSR read clears OE");
	is_int(rd(UART_RX), 'x', "no FIFO: first byte kept");

	/* FIFO mode: 16 bytes fit, the 17th sets OE and is lost. */
	wr(UART_FCR, UART_FCR_ENABLE);
	for (i = 0; i < UART_FIFO_SIZE; i++)
		wr(UART_TX, (uint8_t)('a' + i));
	is_int(rd(UART_LSR), UART_LSR_DR | UART_LSR_THRE | UART_LSR_TEMT,
	       "16 bytes fit in the FIFO without overrun");
	wr(UART_TX, '!');
	is_int(rd(UART_LSR) & UART_LSR_OE, UART_LSR_OE, "17th byte: OE");
	for (i = 0; i < UART_FIFO_SIZE; i++)
		if (rd(UART_RX) != 'a' + i)
			break;
	is_int(i, UART_FIFO_SIZE, "FIFO keeps the first 16 bytes in order");
	is_int(rd(UART_LSR) & UART_LSR_DR, 0, "FIFO drained, overrun lost");

	/* Host input while in loopback waits: the modem outputs (RTS) are
	 * inactive on the pins, so flow control holds the sender back. */
	is_int(serial_receive(s, (const uint8_t *)"zz", 2), 0,
	       "loopback: host bytes held back, none taken");
	is_int(rd(UART_LSR) & UART_LSR_DR, 0, "loopback: nothing reaches RX");

	/* FCR clear bits and FIFO disable. */
	wr(UART_TX, '1');
	wr(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RCVR);
	is_int(rd(UART_LSR) & UART_LSR_DR, 0, "FCR clear RCVR empties RX");
	wr(UART_TX, '2');
	wr(UART_FCR, 0);
	is_int(rd(UART_LSR) & UART_LSR_DR, 0, "FIFO disable empties RX");
	is_int(rd(UART_IIR) & UART_IIR_FIFO, 0, "IIR FIFO bits clear");
	serial_destroy(s, &pio);
}

static void test_rx_trigger(void)
{
	struct serial *s = make(-1);
	const uint8_t data[20] = "0123456789abcdefghi";

	wr(UART_FCR, UART_FCR_ENABLE | UART_FCR_TRIGGER_8);
	is_int(rd(UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT,
	       "IIR bits 7:6 set with FIFOs on");
	wr(UART_IER, UART_IER_RDI);
	is_int(serial_receive(s, data, 4), 0, "RTS low: nothing taken");
	is_int(rec.level, 0, "RTS low: line stays low");
	wr(UART_MCR, UART_MCR_DTR | UART_MCR_RTS);	/* the tty is open */
	is_int(serial_receive(s, data, 4), 4, "4 bytes taken");
	is_int(rec.level, 1, "below trigger: line raised (timeout)");
	is_int(rd(UART_IIR), UART_IIR_FIFO | UART_IIR_TIMEOUT,
	       "below trigger level: character timeout");
	is_int(serial_receive(s, data + 4, 4), 4, "4 more taken");
	is_int(rd(UART_IIR), UART_IIR_FIFO | UART_IIR_RDI,
	       "at trigger level 8: data available");
	rd(UART_RX);
	is_int(rd(UART_IIR), UART_IIR_FIFO | UART_IIR_TIMEOUT,
	       "back under trigger level: timeout again");
	is_int(serial_receive(s, data, 20), 9, "FIFO takes up to 16 bytes");
	is_int(serial_receive(s, data, 1), 0, "full FIFO refuses more");
	is_int(rd(UART_LSR) & UART_LSR_OE, 0, "refused bytes are no overrun");

	wr(UART_FCR, UART_FCR_ENABLE | UART_FCR_TRIGGER_14 |
		     UART_FCR_CLEAR_RCVR);
	is_int(rec.level, 0, "cleared FIFO: line low");
	serial_receive(s, data, 13);
	is_int(rd(UART_IIR) & UART_IIR_ID, UART_IIR_TIMEOUT,
	       "13 < trigger 14: timeout");
	serial_receive(s, data, 1);
	is_int(rd(UART_IIR) & UART_IIR_ID, UART_IIR_RDI,
	       "14 = trigger 14: data available");

	wr(UART_FCR, UART_FCR_ENABLE | UART_FCR_TRIGGER_1 |
		     UART_FCR_CLEAR_RCVR);
	serial_receive(s, data, 1);
	is_int(rd(UART_IIR) & UART_IIR_ID, UART_IIR_RDI,
	       "trigger 1: one byte is data available");
	while (rd(UART_LSR) & UART_LSR_DR)
		rd(UART_RX);
	is_int(rec.level, 0, "drained: line low");

	wr(UART_IER, 0);
	serial_receive(s, data, 4);
	is_int(rec.level, 0, "RDI masked: line stays low");
	is_int(rd(UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT,
	       "RDI masked: IIR no interrupt");
	serial_destroy(s, &pio);
}

static void test_priorities(void)
{
	struct serial *s = make(-1);
	int rises;

	/* THRE raised on the 0->1 edge of ETBEI. */
	wr(UART_IER, UART_IER_THRI);
	is_int(rec.level, 1, "enabling ETBEI raises the line");
	is_int(rec.calls, 1, "one irq_line_set call");
	is_int(rd(UART_IIR), UART_IIR_THRI, "IIR reports THRE");
	is_int(rec.level, 0, "IIR read cleared THRE: line low");
	is_int(rd(UART_IIR), UART_IIR_NO_INT, "THRE gone after IIR read");
	wr(UART_IER, UART_IER_THRI);
	is_int(rec.level, 0, "rewriting ETBEI=1 is no new edge");
	wr(UART_IER, 0);
	wr(UART_IER, UART_IER_THRI);
	is_int(rd(UART_IIR), UART_IIR_THRI, "ETBEI 0->1 raises THRE again");
	rises = rec.rises;
	wr(UART_TX, 'q');
	is_int(rec.rises, rises + 1, "THR write: byte sent, THRE raised anew");

	/* Everything pending: priorities per the datasheet. */
	wr(UART_IER, UART_IER_RDI | UART_IER_THRI | UART_IER_RLSI |
		     UART_IER_MSI);
	wr(UART_MCR, UART_MCR_LOOP);	/* DCD/DSR/CTS drop: MSR deltas */
	wr(UART_TX, 'a');
	wr(UART_TX, 'b');		/* no FIFO: overrun */
	is_int(rd(UART_IIR), UART_IIR_RLSI, "line status first");
	rd(UART_LSR);
	is_int(rd(UART_IIR), UART_IIR_RDI, "then data available");
	rd(UART_RX);
	is_int(rd(UART_IIR), UART_IIR_THRI, "then THRE");
	is_int(rd(UART_IIR), UART_IIR_MSI, "then modem status");
	is_int(rec.level, 1, "line still high for modem status");
	rd(UART_MSR);
	is_int(rd(UART_IIR), UART_IIR_NO_INT, "MSR read clears the last one");
	is_int(rec.level, 0, "line low when nothing is pending");

	/* Reading IIR only clears THRE when THRE is what it reports. */
	wr(UART_TX, 'c');		/* RX data + THRE pending */
	is_int(rd(UART_IIR), UART_IIR_RDI, "RX data hides THRE");
	rd(UART_RX);
	is_int(rd(UART_IIR), UART_IIR_THRI, "THRE survived the hidden read");
	serial_destroy(s, &pio);
}

static void test_output(void)
{
	struct serial *s;
	int fds[2];
	char buf[16] = { 0 };
	ssize_t n;

	if (pipe(fds)) {
		tap_skip(3, "pipe failed");
		return;
	}
	s = make(fds[1]);
	wr(UART_TX, 'h');
	wr(UART_TX, 'i');
	wr(UART_LCR, UART_LCR_DLAB);
	wr(UART_DLL, 'X');		/* divisor, not data */
	wr(UART_LCR, 0x03);
	wr(UART_MCR, UART_MCR_LOOP);
	wr(UART_TX, 'L');		/* looped back, not sent */
	wr(UART_MCR, 0);
	wr(UART_TX, '\n');
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf));
	is_int(n, 3, "three bytes reached the out fd");
	ok(!memcmp(buf, "hi\n", 3), "output bytes in order");
	close(fds[0]);

	/* A broken out fd is not fatal: the byte is dropped, THRE stays. */
	log_quiet = true;
	wr(UART_TX, 'z');
	log_quiet = false;
	is_int(rd(UART_LSR) & UART_LSR_THRE, UART_LSR_THRE,
	       "write error: THR still empty");
	serial_destroy(s, &pio);
}

static void test_bad_sizes(void)
{
	struct serial *s = make(-1);
	uint8_t buf[4] = { 0x11, 0x22, 0x33, 0x44 };

	log_quiet = true;
	iobus_access(&pio, BASE + UART_SCR - 1, buf, 2, true);
	iobus_access(&pio, BASE, buf, 4, false);
	log_quiet = false;
	is_int(get_le32(buf), 0xffffffff, "4-byte read returns all ones");
	is_int(rd(UART_SCR), 0, "2-byte write ignored");
	is_int(rd(UART_MSR) & UART_MSR_DELTA, 0, "no side effects");
	serial_destroy(s, &pio);
}

static void test_rx_notify(void)
{
	struct serial *s = make(-1);
	uint8_t data[17] = { 0 };
	uint64_t cnt = 0;
	int efd = eventfd(0, EFD_NONBLOCK);

	if (efd < 0) {
		tap_skip(6, "no eventfd");
		serial_destroy(s, &pio);
		return;
	}
	serial_set_rx_notify(s, efd);
	wr(UART_FCR, UART_FCR_ENABLE);
	is_int(serial_receive(s, data, sizeof(data)), 0,
	       "before the guest raises RTS: none taken");
	wr(UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	ok(read(efd, &cnt, sizeof(cnt)) < 0, "RTS in loopback: no notification");
	wr(UART_MCR, UART_MCR_DTR | UART_MCR_RTS);
	is_int(read(efd, &cnt, sizeof(cnt)), 8, "RTS raised: waiter notified");
	is_int(serial_receive(s, data, sizeof(data)), 16, "16 of 17 taken");
	ok(read(efd, &cnt, sizeof(cnt)) < 0, "no notification while full");
	rd(UART_RX);
	is_int(read(efd, &cnt, sizeof(cnt)), 8, "RBR read notifies waiter");
	rd(UART_RX);
	ok(read(efd, &cnt, sizeof(cnt)) < 0, "only one notification");
	serial_set_rx_notify(s, -1);
	close(efd);
	serial_destroy(s, &pio);
}

int main(void)
{
	iobus_init(&pio, "pio");
	test_registers();
	test_loopback();
	test_rx_trigger();
	test_priorities();
	test_output();
	test_bad_sizes();
	test_rx_notify();
	iobus_destroy(&pio);
	return tap_done();
}
