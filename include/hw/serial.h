/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A 16550A UART on the PIO bus (8 ports) with one level-triggered IRQ line.
 * Output goes to a host fd as soon as the guest writes THR; input comes
 * from serial_receive() (the console thread).  Register layout and bits
 * follow the TI/National PC16550D datasheet; the names match Linux's
 * include/uapi/linux/serial_reg.h so they are easy to cross-check.
 */
#ifndef MVM_SERIAL_H
#define MVM_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/iobus.h"
#include "core/irq.h"
#include "core/term.h"

#define UART_NR_PORTS	8
#define UART_FIFO_SIZE	16

/* Register offsets from the base port. */
#define UART_RX		0	/* receive buffer (read, DLAB=0) */
#define UART_TX		0	/* transmit holding (write, DLAB=0) */
#define UART_DLL	0	/* divisor latch low (DLAB=1) */
#define UART_IER	1	/* interrupt enable (DLAB=0) */
#define UART_DLM	1	/* divisor latch high (DLAB=1) */
#define UART_IIR	2	/* interrupt identification (read) */
#define UART_FCR	2	/* FIFO control (write) */
#define UART_LCR	3	/* line control */
#define UART_MCR	4	/* modem control */
#define UART_LSR	5	/* line status */
#define UART_MSR	6	/* modem status */
#define UART_SCR	7	/* scratch */

#define UART_IER_RDI	0x01	/* received data available */
#define UART_IER_THRI	0x02	/* transmit holding register empty */
#define UART_IER_RLSI	0x04	/* receiver line status */
#define UART_IER_MSI	0x08	/* modem status */

#define UART_IIR_NO_INT	0x01
#define UART_IIR_ID	0x0e
#define UART_IIR_MSI	0x00
#define UART_IIR_THRI	0x02
#define UART_IIR_RDI	0x04
#define UART_IIR_RLSI	0x06
#define UART_IIR_TIMEOUT 0x0c	/* character timeout (FIFO mode only) */
#define UART_IIR_FIFO	0xc0	/* both bits set when FCR0 is set */

#define UART_FCR_ENABLE	0x01
#define UART_FCR_CLEAR_RCVR 0x02
#define UART_FCR_CLEAR_XMIT 0x04
#define UART_FCR_DMA	0x08
#define UART_FCR_TRIGGER_MASK 0xc0
#define UART_FCR_TRIGGER_1 0x00
#define UART_FCR_TRIGGER_4 0x40
#define UART_FCR_TRIGGER_8 0x80
#define UART_FCR_TRIGGER_14 0xc0

#define UART_LCR_DLAB	0x80

#define UART_MCR_DTR	0x01
#define UART_MCR_RTS	0x02
#define UART_MCR_OUT1	0x04
#define UART_MCR_OUT2	0x08
#define UART_MCR_LOOP	0x10

#define UART_LSR_DR	0x01	/* data ready */
#define UART_LSR_OE	0x02	/* overrun error */
#define UART_LSR_PE	0x04
#define UART_LSR_FE	0x08
#define UART_LSR_BI	0x10
#define UART_LSR_THRE	0x20	/* THR (TX FIFO) empty */
#define UART_LSR_TEMT	0x40	/* transmitter empty */
#define UART_LSR_FIFOE	0x80	/* error somewhere in the RX FIFO */

#define UART_MSR_DCTS	0x01
#define UART_MSR_DDSR	0x02
#define UART_MSR_TERI	0x04
#define UART_MSR_DDCD	0x08
#define UART_MSR_DELTA	0x0f
#define UART_MSR_CTS	0x10
#define UART_MSR_DSR	0x20
#define UART_MSR_RI	0x40
#define UART_MSR_DCD	0x80

struct serial;

/*
 * Create a UART at PIO `base` (8 ports) raising `irq`, and register it on
 * `pio`.  Transmitted bytes are written to out_fd (-1: discarded).  Returns
 * NULL after printing why on failure.
 */
struct serial *serial_create(struct iobus *pio, uint16_t base,
			     struct irq_line irq, int out_fd);
/* Unregister from `pio` and free.  NULL is accepted. */
void serial_destroy(struct serial *s, struct iobus *pio);

/*
 * Feed bytes from the host into the RX FIFO.  Returns how many were taken
 * (0..len): the FIFO holds 16 bytes (1 with FIFOs disabled), and nothing
 * is taken while the guest does not assert RTS or is in loopback (flow
 * control), so the caller keeps the rest and retries once notified.
 * Thread-safe.
 */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);

/*
 * After serial_receive() took fewer bytes than offered, the next time the
 * guest frees RX FIFO space or raises RTS an 8-byte 1 is written to `fd`
 * (an eventfd),
 * so the caller can sleep in poll() instead of retrying on a timer.
 * -1 disables the notification.  Thread-safe.
 */
void serial_set_rx_notify(struct serial *s, int fd);

/*
 * Output observer: fn sees every byte the guest transmits to the host (not
 * loopback bytes), also when out_fd is -1, before it is written.  Called
 * on the vCPU thread with the UART's lock held, so calls never overlap:
 * it must be quick, must not allocate per byte, and must not call back
 * into the UART.  NULL removes it.  The board's panic-line watcher
 * (hw/panic_watch.h) is one.
 */
typedef void serial_observer_fn(void *opaque, const uint8_t *buf, size_t len);
void serial_set_output_observer(struct serial *s, serial_observer_fn *fn,
				void *opaque);

/* The UART as the console's input port (core/term.c). */
struct term_port serial_term_port(struct serial *s);

#endif
