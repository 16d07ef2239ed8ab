// SPDX-License-Identifier: GPL-2.0
/* The i8042 stub: Linux's probe sequence and the reset paths. */
#include "tap.h"
#include "hw/i8042.h"
#include "core/iobus.h"
#include "x86/layout.h"
#include "core/util.h"
#include "core/vm.h"

static struct iobus pio;

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0;

	iobus_access(&pio, port, &v, 1, false);
	return v;
}

static void outb(uint16_t port, uint8_t v)
{
	iobus_access(&pio, port, &v, 1, true);
}

/* Like Linux's i8042_command(): command, optional data, optional reply. */
static int command(uint8_t cmd, int param, uint8_t *reply)
{
	outb(I8042_CMD_PORT, cmd);
	if (param >= 0)
		outb(I8042_DATA_PORT, (uint8_t)param);
	if (!reply)
		return 0;
	if (!(inb(I8042_CMD_PORT) & I8042_STR_OBF))
		return -1;	/* Linux would time out here */
	*reply = inb(I8042_DATA_PORT);
	return 0;
}

static void test_probe(void)
{
	struct vm vm = { 0 };
	struct i8042 k;
	uint8_t st, r = 0, ctr = 0;

	is_int(i8042_init(&k, &pio, vm_exit_line(&vm)), 0, "i8042_init");
	st = inb(I8042_CMD_PORT);
	ok(st != 0xff, "status is not 0xff (controller present)");
	is_int(st & (I8042_STR_OBF | I8042_STR_IBF), 0,
	       "status: nothing pending, input buffer empty");

	ok(!command(I8042_CMD_SELF_TEST, -1, &r), "self-test replies");
	is_int(r, I8042_SELF_TEST_OK, "self-test reply 0x55");
	is_int(inb(I8042_CMD_PORT) & I8042_STR_OBF, 0, "reply consumed");
	ok(inb(I8042_CMD_PORT) & I8042_STR_SYSFLAG, "system flag set");

	ok(!command(I8042_CMD_READ_CTR, -1, &ctr), "read command byte");
	command(I8042_CMD_WRITE_CTR, 0x47, NULL);
	ok(!command(I8042_CMD_READ_CTR, -1, &r), "read it back");
	is_int(r, 0x47, "command byte round-trip");
	command(I8042_CMD_WRITE_CTR, ctr, NULL);

	command(I8042_CMD_AUX_DISABLE, -1, NULL);
	command(I8042_CMD_READ_CTR, -1, &r);
	ok(r & I8042_CTR_AUXDIS, "0xa7 sets AUXDIS");
	command(I8042_CMD_AUX_ENABLE, -1, NULL);
	command(I8042_CMD_READ_CTR, -1, &r);
	ok(!(r & I8042_CTR_AUXDIS), "0xa8 clears AUXDIS");
	command(I8042_CMD_KBD_DISABLE, -1, NULL);
	command(I8042_CMD_READ_CTR, -1, &r);
	ok(r & I8042_CTR_KBDDIS, "0xad sets KBDDIS");
	command(I8042_CMD_KBD_ENABLE, -1, NULL);
	command(I8042_CMD_READ_CTR, -1, &r);
	ok(!(r & I8042_CTR_KBDDIS), "0xae clears KBDDIS");

	/* Linux's i8042_check_aux(): the AUX loop must fail fast... */
	outb(I8042_CMD_PORT, I8042_CMD_AUX_LOOP);
	outb(I8042_DATA_PORT, 0x5a);
	st = inb(I8042_CMD_PORT);
	ok((st & I8042_STR_OBF) && !(st & I8042_STR_AUXDATA),
	   "AUX loop answers without AUXDATA (auxerr, no timeout)");
	/* ...and the AUX test reports an error, so no AUX port. */
	ok(!command(I8042_CMD_AUX_TEST, -1, &r), "AUX test replies");
	ok(r && r != 0xfa && r != 0xff, "AUX test reports a stuck line");

	command(I8042_CMD_KBD_LOOP, 0x33, &r);
	is_int(r, 0x33, "keyboard loop echoes");
	outb(I8042_DATA_PORT, 0xf2);	/* GETID to the absent keyboard */
	is_int(inb(I8042_CMD_PORT) & I8042_STR_OBF, 0,
	       "absent keyboard never answers");

	ok(!(inb(I8042_CMD_PORT) & I8042_STR_CMDDAT), "CMDDAT: last was data");
	outb(I8042_CMD_PORT, I8042_CMD_KBD_ENABLE);
	ok(inb(I8042_CMD_PORT) & I8042_STR_CMDDAT, "CMDDAT: last was command");

	command(I8042_CMD_WRITE_OUTPORT, 0x03, NULL);
	command(I8042_CMD_READ_OUTPORT, -1, &r);
	is_int(r, 0x03, "output port round-trip");
	command(I8042_CMD_PULSE_RESET | 0x01, -1, NULL);  /* 0xff: no-op */
	is_int(vm.exit_reason, VM_RUNNING, "0xff pulses no line: no reset");
	i8042_exit(&k, &pio);
	ok(!iobus_find(&pio, I8042_DATA_PORT) &&
	   !iobus_find(&pio, I8042_CMD_PORT), "i8042_exit unregisters");
}

static void test_reset_pulse(void)
{
	struct vm vm = { 0 };
	struct i8042 k;

	i8042_init(&k, &pio, vm_exit_line(&vm));
	outb(I8042_CMD_PORT, I8042_CMD_PULSE_RESET);
	is_int(vm.exit_reason, VM_EXIT_REBOOT, "0xfe requests a reboot");
	is_int(vm.exit_status, 0, "reboot status 0");
	i8042_exit(&k, &pio);
}

static void test_reset_outport(void)
{
	struct vm vm = { 0 };
	struct i8042 k;

	i8042_init(&k, &pio, vm_exit_line(&vm));
	outb(I8042_CMD_PORT, I8042_CMD_WRITE_OUTPORT);
	outb(I8042_DATA_PORT, 0x02);
	is_int(vm.exit_reason, VM_EXIT_REBOOT,
	       "output port bit 0 clear requests a reboot");
	i8042_exit(&k, &pio);
}

static void test_bad_size(void)
{
	struct vm vm = { 0 };
	struct i8042 k;
	uint8_t buf[2] = { I8042_CMD_PULSE_RESET, I8042_CMD_PULSE_RESET };

	i8042_init(&k, &pio, vm_exit_line(&vm));
	log_quiet = true;
	iobus_access(&pio, I8042_CMD_PORT, buf, 1, false);
	ok(buf[0] != 0xff, "1-byte status read works");
	/* Only 1 port is registered: a 2-byte access does not reach us. */
	ok(!iobus_access(&pio, I8042_CMD_PORT, buf, 2, true),
	   "2-byte access straddles the port");
	log_quiet = false;
	is_int(vm.exit_reason, VM_RUNNING, "ignored write did not reset");
	i8042_exit(&k, &pio);
}

int main(void)
{
	iobus_init(&pio, "pio");
	test_probe();
	test_reset_pulse();
	test_reset_outport();
	test_bad_size();
	iobus_destroy(&pio);
	return tap_done();
}
