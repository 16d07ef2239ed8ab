// SPDX-License-Identifier: GPL-2.0
/*
 * g_smp with 4 vCPUs: the BSP wakes the APs with INIT-SIPI-SIPI; every
 * APIC ID 0..3 must report exactly once (stage 1), from the CPU it names.
 */
#include "guest/harness.h"

#define NR_CPUS		4

int main(void)
{
	struct machine_config cfg;
	struct guest_run r;
	struct ucall s[64] = { 0 };
	unsigned int seen[NR_CPUS] = { 0 }, i, n, stray = 0, madt = 0;
	uint8_t *img;

	guest_require_kvm();
	img = guest_setup(&cfg, "g_smp");
	cfg.nr_cpus = NR_CPUS;
	guest_run(&cfg, &r);

	guest_check_done(&r, "");

	n = guest_ucalls(UCALL_SYNC, s, 64);
	for (i = 0; i < n; i++) {
		if (s[i].args[0] == 0) {
			madt = s[i].args[1];
			continue;
		}
		if (s[i].args[0] != 1 || s[i].args[1] >= NR_CPUS ||
		    s[i].cpu != s[i].args[1]) {
			stray++;
			continue;
		}
		seen[s[i].args[1]]++;
	}
	is_int(madt, NR_CPUS, "guest found 4 CPUs in the firmware tables");
	is_int(stray, 0, "no unexpected reports");
	for (i = 0; i < NR_CPUS; i++) {
		char name[64];

		snprintf(name, sizeof(name), "APIC ID %u reported once", i);
		is_int(seen[i], 1, name);
	}
	ok(strstr(r.console, "g_smp: 4 CPUs up") != NULL,
	   "BSP printed the CPU count");
	free(r.console);
	free(img);
	return tap_done();
}
