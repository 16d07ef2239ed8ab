// SPDX-License-Identifier: GPL-2.0
/*
 * msix_bench N FLAVOUR [M]: one row of bench/msix.sh.
 *
 * Builds a VM in-process, like the guest tests, with
 * `--passthrough sim:mbox-vf,vectors=N,host=FLAVOUR` and the guest
 * tests/guest/g_msix_bench.c ($GUEST_DIR/g_msix_bench.bzImage, default
 * build/guest), runs it and prints one line:
 *
 *   N flavour SET_IRQS(total) SET_IRQS(MSI-X) commits irqfd GSIs
 *   enable_ms unmask_ms irqs/s delivered/M
 *
 * Guest times are TSC cycles converted with a TSC rate measured here
 * against CLOCK_MONOTONIC (the guest's TSC ticks at the host's rate).
 * No assertions; exit status 1 if the VM could not be built or the guest
 * did not finish.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "vfio/vfio_pci.h"
#include "vfio/vfio_sim.h"
#include "machine.h"
#include "lib/ucall_host.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* TSC ticks per second, over ~100 ms. */
static double tsc_hz(void)
{
	struct timespec req = { 0, 100 * 1000 * 1000 };
	double t0 = now_s(), t1;
	uint64_t c0 = __rdtsc(), c1;

	nanosleep(&req, NULL);
	c1 = __rdtsc();
	t1 = now_s();
	return (double)(c1 - c0) / (t1 - t0);
}

static uint8_t *load(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) || !(buf = malloc(st.st_size)) ||
	    read(fd, buf, st.st_size) != st.st_size) {
		fprintf(stderr, "msix_bench: cannot read %s: %s\n", path,
			strerror(errno));
		exit(1);
	}
	close(fd);
	*len = st.st_size;
	return buf;
}

int main(int argc, char **argv)
{
	unsigned long long val[8] = { 0 };
	const char *dir = getenv("GUEST_DIR");
	char path[4096], spec[128], params[64];
	struct vfio_msix_host_stats vd = { 0 };
	struct irq_router_stats rs;
	struct vfio_sim_stats st = { 0 };
	struct machine_config cfg;
	struct ucall uc;
	struct machine m;
	unsigned int i;
	uint8_t *img;
	size_t len;
	double hz, irq_s;
	int status, done, asserts;

	if (argc < 3) {
		fprintf(stderr, "usage: msix_bench N dynamic|noresize [M]\n");
		return 2;
	}
	snprintf(spec, sizeof(spec), "sim:mbox-vf,vectors=%s,host=%s",
		 argv[1], argv[2]);
	snprintf(params, sizeof(params), "msix_bench.m=%s",
		 argc > 3 ? argv[3] : "2000");
	snprintf(path, sizeof(path), "%s/g_msix_bench.bzImage",
		 dir ? dir : "build/guest");
	img = load(path, &len);
	hz = tsc_hz();

	machine_config_init(&cfg);
	cfg.kernel_image = img;
	cfg.kernel_image_len = len;
	cfg.kernel_label = "g_msix_bench";
	cfg.params = params;
	cfg.nr_cpus = 1;
	cfg.mem_size = 64ULL << 20;
	cfg.debug_exit = true;
	cfg.console_in_fd = -1;
	cfg.console_out_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	cfg.passthrough[0] = spec;
	cfg.nr_passthrough = 1;
	if (machine_build(&m, &cfg)) {
		fprintf(stderr, "msix_bench: machine_build failed (%s)\n", spec);
		return 1;
	}
	if (ucall_attach(&m.vm)) {
		fprintf(stderr, "msix_bench: ucall_attach failed\n");
		return 1;
	}
	status = machine_run(&m);
	rs = m.vm.router.stats;
	if (m.nr_passthrough == 1 && m.passthrough[0]->owned_host) {
		st = *vfio_sim_stats(m.passthrough[0]->owned_host);
		vd = m.passthrough[0]->msix_stats;
	}
	machine_destroy(&m);
	close(cfg.console_out_fd);

	for (i = 0; ucall_get(i, &uc); i++)
		if (uc.cmd == UCALL_SYNC && uc.args[0] < 8)
			val[uc.args[0]] = uc.args[1];
	done = ucall_count_cmd(UCALL_DONE) == 1;
	asserts = ucall_report_asserts();
	irq_s = val[7] ? (double)val[6] * hz / (double)val[7] : 0;
	printf("%6llu %-9s %9lu %7llu %8llu %7llu %6llu %10.2f %10.2f %9.0f %6llu/%llu%s\n",
	       val[1], argv[2],
	       st.ioctls[vfio_sim_ioc(VFIO_DEVICE_SET_IRQS)],
	       (unsigned long long)vd.set_irqs,
	       (unsigned long long)rs.commits,
	       (unsigned long long)rs.irqfd_calls,
	       (unsigned long long)rs.gsis_in_use,
	       val[2] * 1e3 / hz, val[3] * 1e3 / hz, irq_s, val[6], val[5],
	       val[4] == 2 ? "" : " (mailbox refused!)");
	free(img);
	return status == 0 && done && !asserts ? 0 : 1;
}
