// SPDX-License-Identifier: GPL-2.0
/*
 * Legacy I/O ports a PC has and mvm does not emulate, claimed so that
 * Linux's probes and delays do not show up as "unclaimed port" warnings:
 * reads float high (0xff, what an empty ISA bus returns, which is how
 * drivers tell a device is absent), writes are dropped.
 */
#include "hw/absent_ports.h"
#include "core/util.h"

static const struct {
	uint16_t base, len;
	const char *name;
} absent[] = {
	{ 0x80, 1, "POST/io-delay port" },	/* Linux's io_delay writes */
	{ 0x278, 8, "LPT2" },
	{ 0x2e8, 8, "COM4" },
	{ 0x2f8, 8, "COM2" },
	{ 0x378, 8, "LPT1" },
	{ 0x3e8, 8, "COM3" },
};

static void absent_read(void *opaque, uint64_t off, uint8_t *data,
			unsigned int len)
{
	memset(data, 0xff, len);
}

static void absent_write(void *opaque, uint64_t off, const uint8_t *data,
			 unsigned int len)
{
}

static const struct io_ops absent_ops = {
	.read = absent_read,
	.write = absent_write,
};

int absent_ports_init(struct iobus *pio)
{
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(absent); i++) {
		err = iobus_register(pio, absent[i].base, absent[i].len,
				     &absent_ops, NULL, absent[i].name);
		if (err)
			return err;
	}
	return 0;
}
