/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The i8042 keyboard controller, only as much as a guest needs to reset
 * the machine through it and for Linux's i8042 driver to probe a
 * controller with nothing plugged in.  Ports I8042_DATA_PORT (0x60) and
 * I8042_CMD_PORT (0x64).
 */
#ifndef MVM_I8042_H
#define MVM_I8042_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/exit.h"
#include "core/iobus.h"

/* Status register (read 0x64). */
#define I8042_STR_OBF		0x01	/* output buffer full */
#define I8042_STR_IBF		0x02	/* input buffer full */
#define I8042_STR_SYSFLAG	0x04	/* self-test passed */
#define I8042_STR_CMDDAT	0x08	/* last write was to 0x64 */
#define I8042_STR_KEYLOCK	0x10	/* 1 = keyboard not inhibited */
#define I8042_STR_AUXDATA	0x20	/* output buffer holds AUX data */

/* Controller command byte ("CTR"). */
#define I8042_CTR_KBDINT	0x01
#define I8042_CTR_AUXINT	0x02
#define I8042_CTR_SYSFLAG	0x04
#define I8042_CTR_KBDDIS	0x10
#define I8042_CTR_AUXDIS	0x20
#define I8042_CTR_XLATE		0x40

/* Commands (write 0x64). */
#define I8042_CMD_READ_CTR	0x20
#define I8042_CMD_WRITE_CTR	0x60
#define I8042_CMD_AUX_DISABLE	0xa7
#define I8042_CMD_AUX_ENABLE	0xa8
#define I8042_CMD_AUX_TEST	0xa9
#define I8042_CMD_SELF_TEST	0xaa
#define I8042_CMD_KBD_TEST	0xab
#define I8042_CMD_KBD_DISABLE	0xad
#define I8042_CMD_KBD_ENABLE	0xae
#define I8042_CMD_READ_OUTPORT	0xd0
#define I8042_CMD_WRITE_OUTPORT	0xd1
#define I8042_CMD_KBD_LOOP	0xd2
#define I8042_CMD_AUX_LOOP	0xd3
#define I8042_CMD_AUX_SEND	0xd4
#define I8042_CMD_PULSE_RESET	0xfe

#define I8042_SELF_TEST_OK	0x55

/* Output port bits (commands 0xd0/0xd1). */
#define I8042_OUTPORT_RESET_N	0x01	/* 0 = hold the CPU in reset */
#define I8042_OUTPORT_A20	0x02

struct i8042 {
	pthread_mutex_t lock;
	struct exit_line exit;	/* a reset request: VM_EXIT_REBOOT */
	uint8_t ctr;		/* controller command byte */
	uint8_t outport;
	uint8_t status;		/* SYSFLAG, CMDDAT, AUXDATA, OBF */
	uint8_t out;		/* output buffer (read 0x60) */
	uint8_t pending;	/* command waiting for its data byte, or 0 */
};

/*
 * Register ports 0x60 and 0x64 on `pio`.  A guest reset request ends the
 * VM with VM_EXIT_REBOOT.  Returns 0 or -errno (after printing why).
 */
int i8042_init(struct i8042 *k, struct iobus *pio, struct exit_line exit);
void i8042_exit(struct i8042 *k, struct iobus *pio);

#endif
