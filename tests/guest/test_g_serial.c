// SPDX-License-Identifier: GPL-2.0
/*
 * g_serial prints a fixed line through the UART (polling LSR.THRE): the
 * exact bytes must reach the console fd, and the guest's checkpoints and
 * DONE must arrive in order.
 */
#include "guest/harness.h"

/* Raw outb of each byte: no "\r" is added. */
#define LINE "g_serial: the quick brown fox 0123456789\n"

int main(void)
{
	struct machine_config cfg;
	struct guest_run r;
	struct ucall s[4] = { 0 };
	uint8_t *img;

	guest_require_kvm();
	img = guest_setup(&cfg, "g_serial");
	guest_run(&cfg, &r);

	is_int(r.build_err, 0, "machine_build");
	is_int(r.status, 0, "exit status 0 after GUEST_DONE");
	is_int(r.exit_reason, VM_EXIT_POWEROFF, "ended by ACPI poweroff");
	ok(r.console_len == strlen(LINE) && !memcmp(r.console, LINE,
						     strlen(LINE)),
	   "console holds exactly the guest's line");
	if (r.console_len != strlen(LINE))
		tap_diag("console (%zu bytes): '%s'", r.console_len,
			 r.console);
	is_int(ucall_count_cmd(UCALL_ASSERT), 0, "no guest asserts");
	is_int(guest_ucalls(UCALL_SYNC, s, 4), 2, "two checkpoints");
	is_int(s[0].args[0], 1, "stage 1 first");
	ok(s[0].args[1] & 0x20, "LSR.THRE set at start (LSR %#llx)",
	   s[0].args[1]);
	is_int(s[1].args[0], 2, "stage 2 second");
	is_int(s[1].args[1], strlen(LINE), "guest wrote the whole line");
	is_int(ucall_count_cmd(UCALL_DONE), 1, "GUEST_DONE once");
	is_int(s[0].cpu, 0, "ucall reports the BSP's APIC ID");
	ok(!strcmp(s[0].file, "g_serial.c"), "ucall carries the file name");
	free(r.console);
	free(img);
	return tap_done();
}
