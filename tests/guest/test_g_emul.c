// SPDX-License-Identifier: GPL-2.0
/*
 * g_emul: a real KVM emulation failure (POPCNT on MMIO).  With
 * --pvm-compat mvm raises #UD in the guest, as a CPU without POPCNT
 * would, and the guest runs on; without it mvm stops the VM.
 */
#include "guest/harness.h"

int main(void)
{
	struct machine_config cfg;
	struct guest_run r;
	struct ucall s[4] = { 0 };
	uint8_t *img;
	size_t len;

	guest_require_kvm();
	img = guest_load("g_emul", &len);

	guest_config(&cfg, img, len, "g_emul");
	cfg.pvm_compat = true;
	guest_run(&cfg, &r);
	is_int(r.build_err, 0, "compat: machine_build");
	is_int(r.status, 0x55, "compat: the guest ran past the popcnt to its exit");
	is_int(guest_ucalls(UCALL_SYNC, s, 4), 4, "compat: four checkpoints");
	is_int(s[0].args[1], 0, "compat: CPUID.1:ECX.POPCNT hidden from the guest");
	ok(s[1].args[1] && s[2].args[1] == s[1].args[1],
	   "compat: #UD frame RIP %#llx is the popcnt at %#llx (a fault)",
	   (unsigned long long)s[2].args[1],
	   (unsigned long long)s[1].args[1]);
	is_int(s[3].args[1], 1, "compat: exactly one #UD");
	is_int(ucall_count_cmd(UCALL_ASSERT), 0, "compat: no guest assertion");
	free(r.console);

	guest_config(&cfg, img, len, "g_emul");
	cfg.pvm_compat = false;
	guest_run(&cfg, &r);
	is_int(r.exit_reason, VM_EXIT_ERROR,
	       "no compat: POPCNT is in the guest's CPUID, so mvm stops the VM");
	is_int(r.status, 1, "no compat: exit status 1");
	is_int(guest_ucalls(UCALL_SYNC, s, 4), 2,
	       "no compat: nothing ran after the popcnt");
	is_int(s[0].args[1], 1, "no compat: the guest saw POPCNT in CPUID");
	free(r.console);
	free(img);
	return tap_done();
}
