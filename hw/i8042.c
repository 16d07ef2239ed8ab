// SPDX-License-Identifier: GPL-2.0
/*
 * An i8042 keyboard controller with no keyboard and no mouse attached.
 *
 * The guest needs it for two things: rebooting (Linux with reboot=k pulses
 * the reset line with command 0xfe) and probing.  Linux's i8042 driver
 * gives up on a port when a command it sends gets no answer, so the
 * probe must see a controller that passes its self-test, keeps its
 * command byte, and clearly has no AUX port:
 *
 *  - AUX_LOOP (0xd3) echoes its byte as *keyboard* data.  Linux's
 *    __i8042_command() checks STR_AUXDATA on the reply and fails at once
 *    ("auxerr") instead of waiting half a second for a timeout.
 *  - AUX_TEST (0xa9) then answers 0x01 ("clock line stuck low"), which
 *    i8042_check_aux() takes as "no AUX port".
 *
 * Bytes written to the keyboard itself are dropped: nothing answers, and
 * atkbd decides after its command timeouts that no keyboard is present.
 * There is no IRQ line: replies are only read by polling the status
 * register, which is all the probe and the reset path do.
 */
#include "hw/i8042.h"
#include "x86/layout.h"
#include "core/util.h"

/* Load a reply into the output buffer, as keyboard data. */
static void i8042_reply(struct i8042 *k, uint8_t val)
{
	k->out = val;
	k->status |= I8042_STR_OBF;
	k->status &= ~I8042_STR_AUXDATA;
}

static void i8042_set_ctr(struct i8042 *k, uint8_t val)
{
	k->ctr = val;
	/* The status register's system flag mirrors command byte bit 2. */
	k->status = (k->status & ~I8042_STR_SYSFLAG) |
		    (val & I8042_CTR_SYSFLAG);
}

static void i8042_reset_cpu(struct i8042 *k)
{
	exit_line_request(&k->exit, VM_EXIT_REBOOT, 0);
}

static void i8042_command(struct i8042 *k, uint8_t cmd)
{
	k->pending = 0;
	switch (cmd) {
	case I8042_CMD_READ_CTR:
		i8042_reply(k, k->ctr);
		break;
	case I8042_CMD_WRITE_CTR:
	case I8042_CMD_WRITE_OUTPORT:
	case I8042_CMD_KBD_LOOP:
	case I8042_CMD_AUX_LOOP:
	case I8042_CMD_AUX_SEND:
		k->pending = cmd;	/* the data byte follows on 0x60 */
		break;
	case I8042_CMD_AUX_DISABLE:
		i8042_set_ctr(k, k->ctr | I8042_CTR_AUXDIS);
		break;
	case I8042_CMD_AUX_ENABLE:
		i8042_set_ctr(k, k->ctr & ~I8042_CTR_AUXDIS);
		break;
	case I8042_CMD_AUX_TEST:
		i8042_reply(k, 0x01);	/* no AUX port, see above */
		break;
	case I8042_CMD_SELF_TEST:
		i8042_set_ctr(k, k->ctr | I8042_CTR_SYSFLAG);
		i8042_reply(k, I8042_SELF_TEST_OK);
		break;
	case I8042_CMD_KBD_TEST:
		i8042_reply(k, 0x00);	/* interface lines OK */
		break;
	case I8042_CMD_KBD_DISABLE:
		i8042_set_ctr(k, k->ctr | I8042_CTR_KBDDIS);
		break;
	case I8042_CMD_KBD_ENABLE:
		i8042_set_ctr(k, k->ctr & ~I8042_CTR_KBDDIS);
		break;
	case I8042_CMD_READ_OUTPORT:
		i8042_reply(k, k->outport);
		break;
	default:
		/*
		 * 0xf0-0xff pulse output port bits 3:0 low for ~6 us; a 0 in
		 * bit 0 of the command pulses bit 0, the CPU reset line
		 * (8042 firmware command list, "Pulse Output Port").
		 */
		if ((cmd & 0xf0) == 0xf0) {
			if (!(cmd & I8042_OUTPORT_RESET_N))
				i8042_reset_cpu(k);
			break;
		}
		pr_warn_ratelimited("i8042: unsupported command %#x ignored",
				    cmd);
		break;
	}
}

static void i8042_data(struct i8042 *k, uint8_t val)
{
	uint8_t cmd = k->pending;

	k->pending = 0;
	switch (cmd) {
	case I8042_CMD_WRITE_CTR:
		i8042_set_ctr(k, val);
		break;
	case I8042_CMD_WRITE_OUTPORT:
		k->outport = val;
		if (!(val & I8042_OUTPORT_RESET_N))
			i8042_reset_cpu(k);
		break;
	case I8042_CMD_KBD_LOOP:
	case I8042_CMD_AUX_LOOP:	/* answered as keyboard data */
		i8042_reply(k, val);
		break;
	case I8042_CMD_AUX_SEND:
	default:
		/* To a device that is not there: nobody answers. */
		break;
	}
}

static void i8042_pio_read(void *opaque, uint64_t off, uint8_t *data,
			   unsigned int len)
{
	struct i8042 *k = opaque;

	if (len != 1) {
		pr_warn_ratelimited("i8042: %u-byte read ignored", len);
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&k->lock);
	if (off == 0) {			/* 0x60: data */
		/* The buffer keeps its last byte; reading just empties it. */
		data[0] = k->out;
		k->status &= ~(I8042_STR_OBF | I8042_STR_AUXDATA);
	} else {			/* 0x64: status; never busy (IBF=0) */
		data[0] = k->status | I8042_STR_KEYLOCK;
	}
	pthread_mutex_unlock(&k->lock);
}

static void i8042_pio_write(void *opaque, uint64_t off, const uint8_t *data,
			    unsigned int len)
{
	struct i8042 *k = opaque;

	if (len != 1) {
		pr_warn_ratelimited("i8042: %u-byte write ignored", len);
		return;
	}
	pthread_mutex_lock(&k->lock);
	if (off == 0) {
		k->status &= ~I8042_STR_CMDDAT;
		i8042_data(k, data[0]);
	} else {
		k->status |= I8042_STR_CMDDAT;
		i8042_command(k, data[0]);
	}
	pthread_mutex_unlock(&k->lock);
}

static const struct io_ops i8042_data_ops = {
	.read = i8042_pio_read,
	.write = i8042_pio_write,
};

/* Same handlers; the offset tells data (0) from command/status (1). */
static void i8042_cmd_read(void *opaque, uint64_t off, uint8_t *data,
			   unsigned int len)
{
	i8042_pio_read(opaque, 1, data, len);
}

static void i8042_cmd_write(void *opaque, uint64_t off, const uint8_t *data,
			    unsigned int len)
{
	i8042_pio_write(opaque, 1, data, len);
}

static const struct io_ops i8042_cmd_ops = {
	.read = i8042_cmd_read,
	.write = i8042_cmd_write,
};

int i8042_init(struct i8042 *k, struct iobus *pio, struct exit_line exit)
{
	int err;

	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	k->exit = exit;
	/* What firmware leaves behind: POST passed, keyboard enabled with
	 * scancode translation and interrupts, no AUX port. */
	i8042_set_ctr(k, I8042_CTR_KBDINT | I8042_CTR_SYSFLAG |
			 I8042_CTR_AUXDIS | I8042_CTR_XLATE);
	k->outport = I8042_OUTPORT_RESET_N | I8042_OUTPORT_A20;

	err = iobus_register(pio, I8042_DATA_PORT, 1, &i8042_data_ops, k,
			     "i8042 data");
	if (err)
		goto fail;
	err = iobus_register(pio, I8042_CMD_PORT, 1, &i8042_cmd_ops, k,
			     "i8042 command");
	if (err) {
		iobus_unregister(pio, I8042_DATA_PORT, k);
		goto fail;
	}
	return 0;
fail:
	pthread_mutex_destroy(&k->lock);
	return err;
}

void i8042_exit(struct i8042 *k, struct iobus *pio)
{
	iobus_unregister(pio, I8042_DATA_PORT, k);
	iobus_unregister(pio, I8042_CMD_PORT, k);
	pthread_mutex_destroy(&k->lock);
}
