// SPDX-License-Identifier: GPL-2.0
/* g_debug_exit writes 42 to port 0xf4: mvm must end with status 42. */
#include "guest/harness.h"

int main(void)
{
	struct machine_config cfg;
	struct guest_run r;
	struct ucall s = { 0 };
	uint8_t *img;

	guest_require_kvm();
	img = guest_setup(&cfg, "g_debug_exit");
	guest_run(&cfg, &r);

	is_int(r.build_err, 0, "machine_build");
	is_int(r.status, 42, "machine_run returns the guest's status");
	is_int(r.exit_reason, VM_EXIT_DEBUG_EXIT, "exit reason is debug-exit");
	is_int(guest_ucalls(UCALL_SYNC, &s, 1), 1, "guest reached the port");
	is_int(s.args[1], 42, "guest meant 42");
	is_int(ucall_count_cmd(UCALL_ASSERT), 0,
	       "nothing ran after the debug-exit write");
	free(r.console);
	free(img);
	return tap_done();
}
