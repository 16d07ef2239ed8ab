// SPDX-License-Identifier: GPL-2.0
/* Polled 16550A output and a small printf. */
#include "guest.h"

#define UART_THR	0	/* transmit holding register (DLAB=0) */
#define UART_IER	1
#define UART_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_LSR_THRE	0x20	/* THR empty: the UART takes a byte */
#define UART_LCR_DLAB	0x80
#define UART_LCR_8N1	0x03

static struct spinlock serial_lock;

void spin_lock(struct spinlock *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (l->locked)
			cpu_relax();
}

void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

void serial_init(void)
{
	uint16_t port = SERIAL0_PORT;

	outb(port + UART_IER, 0);
	outb(port + UART_LCR, UART_LCR_DLAB);
	outb(port + UART_THR, 1);		/* divisor 1: 115200 baud */
	outb(port + UART_IER, 0);
	outb(port + UART_LCR, UART_LCR_8N1);
	outb(port + UART_FCR, 0x07);		/* enable + clear FIFOs */
	outb(port + UART_MCR, 0x03);		/* DTR | RTS */
}

static void __serial_putc(char c)
{
	unsigned int spins = 0;

	/* Bounded: with no UART the port reads 0xff, THRE is set anyway. */
	while (!(inb(SERIAL0_PORT + UART_LSR) & UART_LSR_THRE) &&
	       ++spins < 1000000)
		cpu_relax();
	outb(SERIAL0_PORT + UART_THR, c);
}

void serial_putc(char c)
{
	spin_lock(&serial_lock);
	__serial_putc(c);
	spin_unlock(&serial_lock);
}

static void __serial_puts(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			__serial_putc('\r');
		__serial_putc(*s);
	}
}

void serial_puts(const char *s)
{
	spin_lock(&serial_lock);
	__serial_puts(s);
	spin_unlock(&serial_lock);
}

static void put_num(unsigned long long v, unsigned int base, int neg,
		    unsigned int width, char pad)
{
	char buf[24];
	unsigned int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		buf[n++] = '-';
	while (width > n && width--)
		__serial_putc(pad);
	while (n)
		__serial_putc(buf[--n]);
}

void guest_vprintf(const char *fmt, va_list ap)
{
	spin_lock(&serial_lock);
	for (; *fmt; fmt++) {
		unsigned int width = 0, lng = 0;
		unsigned long long v;
		char pad = ' ';
		const char *s;

		if (*fmt != '%') {
			if (*fmt == '\n')
				__serial_putc('\r');
			__serial_putc(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + *fmt++ - '0';
		while (*fmt == 'l' || *fmt == 'z') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			long long sv = lng ? va_arg(ap, long long) :
					     va_arg(ap, int);

			put_num(sv < 0 ? -(unsigned long long)sv :
				(unsigned long long)sv, 10,
				sv < 0, width, pad);
			break;
		}
		case 'u':
		case 'x':
			v = lng ? va_arg(ap, unsigned long long) :
				  va_arg(ap, unsigned int);
			put_num(v, *fmt == 'u' ? 10 : 16, 0, width, pad);
			break;
		case 'p':
			__serial_puts("0x");
			put_num((uintptr_t)va_arg(ap, void *), 16, 0, 0, ' ');
			break;
		case 'c':
			__serial_putc(va_arg(ap, int));
			break;
		case 's':
			s = va_arg(ap, const char *);
			__serial_puts(s ? s : "(null)");
			break;
		case '%':
			__serial_putc('%');
			break;
		default:		/* unknown: print it, stop parsing */
			__serial_putc('%');
			if (!*fmt)
				goto out;
			__serial_putc(*fmt);
		}
	}
out:
	spin_unlock(&serial_lock);
}

void guest_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	guest_vprintf(fmt, ap);
	va_end(ap);
}
