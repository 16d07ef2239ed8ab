// SPDX-License-Identifier: GPL-2.0
/*
 * The embedded guest, booted twice: from memory (what `mvm run` does) with
 * two vCPUs, and from the bzImage file (cfg.kernel) to cover file loading.
 * It must print its banner, the command line, both CPUs, the e820 map and
 * the PCI host bridge, then power off through ACPI.
 */
#include "guest/harness.h"
#include "x86/layout.h"

static void check_output(const char *how, const struct guest_run *r,
			 unsigned int cpus)
{
	char want[128];

	is_int(r->build_err, 0, "machine_build");
	is_int(r->status, 0, "exit status 0");
	is_int(r->exit_reason, VM_EXIT_POWEROFF, "ended by ACPI poweroff");
	ok(strstr(r->console, "mvm embedded guest: hello from the guest"),
	   "%s: banner", how);
	ok(strstr(r->console, "command line: \"" VM_DEFAULT_CMDLINE),
	   "%s: default command line reached the guest", how);
	snprintf(want, sizeof(want), "found %u CPUs (ACPI MADT), APIC IDs: 0 1;",
		 cpus);
	ok(strstr(r->console, want), "%s: '%s'", how, want);
	/* mvm's map: low RAM up to the EBDA, RAM from 1 MiB (layout.h). */
	ok(strstr(r->console,
		  "BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable"),
	   "%s: e820 low RAM line", how);
	ok(strstr(r->console, "BIOS-e820: [mem 0x0000000000100000-"),
	   "%s: e820 line for RAM above 1 MiB", how);
	ok(strstr(r->console, "  00:00.0 "), "%s: PCI host bridge listed",
	   how);
	ok(strstr(r->console, "powering off: PM1a_CNT port 0x604, SLP_TYP 5"),
	   "%s: poweroff through the FADT's PM1a_CNT with \\_S5", how);
	if (!strstr(r->console, "powering off"))
		tap_diag("console:\n%s", r->console);
}

int main(void)
{
	struct machine_config cfg;
	struct guest_run r;
	uint8_t *img;

	guest_require_kvm();
	img = guest_setup(&cfg, "embedded");
	cfg.nr_cpus = 2;
	guest_run(&cfg, &r);
	check_output("in memory", &r, 2);
	free(r.console);
	free(img);

	/* The test defaults, but the image named by path, as `mvm run -k`. */
	guest_config(&cfg, NULL, 0, NULL);
	cfg.kernel = guest_path("embedded");
	cfg.nr_cpus = 2;
	cfg.debug_exit = false;
	guest_run(&cfg, &r);
	check_output("from file", &r, 2);
	free(r.console);
	return tap_done();
}
