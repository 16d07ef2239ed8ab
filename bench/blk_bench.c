// SPDX-License-Identifier: GPL-2.0
/*
 * blk_bench: one configuration of bench/blk.sh (virtio-blk throughput).
 *
 *   blk_bench [-q QD] [-n N] [-M MIB] [-e 0|1] [-p 0|1] [-t TICK_US]
 *	       [-f IMAGE] [-H] [-v]
 *	Builds a VM in-process (like the guest tests) with one virtio-blk
 *	disk on a raw IMAGE (default: a fresh MIB MiB file filled with
 *	non-zero data in /dev/shm, else /tmp, so every read hits the page
 *	cache), runs tests/guest/g_blk_bench.c ($GUEST_DIR/g_blk_bench.bzImage,
 *	default build/guest) with "blk_bench.qd=QD blk_bench.n=N
 *	blk_bench.mib=MIB blk_bench.evidx=E blk_bench.poll=P
 *	blk_bench.tick_us=T" and prints one row per phase.  -H prints the
 *	column header first.  -t 0 turns the guest's watchdog tick off;
 *	-v copies the guest's serial output (its raw counts) to stderr.
 *
 *   blk_bench --parse LOG [-l LABEL] [-H]
 *	The same rows from the guest's serial lines ("blk_bench: ...") in
 *	LOG, for the run under QEMU (no ucall port there).
 *
 *   blk_bench --mkimg PATH MIB
 *	Write the image the in-process run would use.
 *
 * Rows: target qd mode phase MB/s IOPS us/req kicks/req irqs/req
 * waits/req errors, where MB/s is 10^6 bytes/s of 4 KiB requests, mode is
 * irq or poll plus "+ei" with VIRTIO_RING_F_EVENT_IDX, kicks are notify
 * writes the guest did, irqs the MSI-X interrupts it took and waits the
 * rounds of `hlt` (or of polling) that ended with completions, rescued
 * the waits that the guest's 10 ms LAPIC timer tick ended instead of the
 * MSI-X interrupt (late or lost interrupts).
 *
 * Guest TSC cycles become seconds with the TSC rate measured here against
 * CLOCK_MONOTONIC over 200 ms: the guest's TSC ticks at the host's rate
 * under KVM without TSC scaling (mvm sets none; QEMU only with
 * tsc-frequency=).  A comment line also gives the guest's CPUID.15H/16H if
 * it has them and, for the in-process run, guest cycles / machine_run() wall
 * time, a lower bound of the rate (machine_run also boots and powers off).
 *
 * No assertions; exit status 1 if the VM could not be built or the guest
 * did not finish.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "machine.h"
#include "lib/ucall_host.h"

#define BS		4096
#define NR_PHASES	4
#define F_NR		7
#define ST_PHASE	0x10
#define ST_TOTAL	0x80

enum { F_CYCLES, F_KICKS, F_IRQS, F_USED, F_ERRORS, F_WAITS, F_RESCUES };

static const char *const phase_name[NR_PHASES] = {
	"seqread", "seqwrite", "randread", "randwrite"
};

struct result {
	unsigned long long qd, n, region, cap, evidx, poll, qsize, features;
	unsigned long long cpuid15[3], cpuid16, total, ticks;
	unsigned long long ph[NR_PHASES][F_NR];
	int have_config, have_phase[NR_PHASES], done;
};

/*
 * mvm's own per-vector counts (`mvm stat`): "raised" is every interrupt
 * virtio-blk signalled, to set against the irqs the guest counted.
 */
static void print_vector_counts(struct machine *m)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	machine_stat(m, f);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (strstr(line, " msix "))
			printf("# mvm: %s\n", line);
	free(text);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* TSC ticks per second, over ~200 ms. */
static double tsc_hz(void)
{
	struct timespec req = { 0, 200 * 1000 * 1000 };
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
		fprintf(stderr, "blk_bench: cannot read %s: %s\n", path,
			strerror(errno));
		exit(1);
	}
	close(fd);
	*len = st.st_size;
	return buf;
}

/* A raw image of mib MiB, every byte written (no holes). */
static int make_image(const char *path, unsigned long long mib)
{
	static uint8_t chunk[1 << 20];
	unsigned long long i;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)(i * 7 + (i >> 12) + 1);
	for (i = 0; i < mib; i++)
		if (pwrite(fd, chunk, sizeof(chunk), (off_t)(i << 20)) !=
		    (ssize_t)sizeof(chunk)) {
			close(fd);
			return -1;
		}
	close(fd);
	return 0;
}

static void header(void)
{
	printf("%-6s %3s %-7s %-9s %9s %9s %9s %9s %9s %9s %6s %7s\n",
	       "target", "qd", "mode", "phase", "MB/s", "IOPS", "us/req",
	       "kicks/req", "irqs/req", "waits/req", "errors", "rescued");
}

static void print_rows(const char *label, const struct result *r, double hz)
{
	char mode[16];
	unsigned int p;

	snprintf(mode, sizeof(mode), "%s%s", r->poll ? "poll" : "irq",
		 r->evidx ? "+ei" : "");
	printf("# %s: qd=%llu n=%llu region=%llu MiB capacity=%llu sectors "
	       "qsize=%llu features=%#llx; TSC %.1f MHz (measured here)",
	       label, r->qd, r->n, r->region >> 20, r->cap, r->qsize,
	       r->features, hz / 1e6);
	if (r->cpuid15[0] && r->cpuid15[1] && r->cpuid15[2])
		printf(", CPUID.15H %.1f MHz",
		       (double)r->cpuid15[2] * r->cpuid15[1] / r->cpuid15[0] /
		       1e6);
	if (r->cpuid16)
		printf(", CPUID.16H %llu MHz", r->cpuid16);
	printf("; %llu timer ticks\n", r->ticks);
	for (p = 0; p < NR_PHASES; p++) {
		const unsigned long long *f = r->ph[p];
		double s = f[F_CYCLES] / hz, used = f[F_USED] ? f[F_USED] : 1;

		if (!r->have_phase[p])
			continue;
		printf("%-6s %3llu %-7s %-9s %9.2f %9.0f %9.1f %9.2f %9.2f %9.2f %6llu %7llu\n",
		       label, r->qd, mode, phase_name[p],
		       s > 0 ? f[F_USED] * (double)BS / s / 1e6 : 0,
		       s > 0 ? f[F_USED] / s : 0,
		       s * 1e6 / used, f[F_KICKS] / used, f[F_IRQS] / used,
		       f[F_WAITS] / used, f[F_ERRORS], f[F_RESCUES]);
	}
}

/* "key=value" in line, as an unsigned number (base 0: 0x... too). */
static int kv(const char *line, const char *key, unsigned long long *v)
{
	size_t kl = strlen(key);
	const char *p = line;

	while ((p = strstr(p, key))) {
		if ((p == line || p[-1] == ' ') && p[kl] == '=') {
			*v = strtoull(p + kl + 1, NULL, 0);
			return 1;
		}
		p += kl;
	}
	return 0;
}

static int parse_log(const char *path, struct result *r)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "blk_bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	memset(r, 0, sizeof(*r));
	while (fgets(line, sizeof(line), f)) {
		const char *s = strstr(line, "blk_bench: ");
		unsigned int p;
		char name[32];

		if (!s)
			continue;
		s += strlen("blk_bench: ");
		if (!strncmp(s, "config ", 7)) {
			const char *c;

			kv(s, "qd", &r->qd);
			kv(s, "n", &r->n);
			kv(s, "region", &r->region);
			kv(s, "cap", &r->cap);
			kv(s, "evidx", &r->evidx);
			kv(s, "poll", &r->poll);
			kv(s, "qsize", &r->qsize);
			kv(s, "features", &r->features);
			kv(s, "cpuid16", &r->cpuid16);
			c = strstr(s, "cpuid15=");
			if (c)
				sscanf(c, "cpuid15=%llu,%llu,%llu",
				       &r->cpuid15[0], &r->cpuid15[1],
				       &r->cpuid15[2]);
			r->have_config = 1;
		} else if (sscanf(s, "phase=%31s", name) == 1) {
			for (p = 0; p < NR_PHASES; p++) {
				if (strcmp(name, phase_name[p]))
					continue;
				kv(s, "cycles", &r->ph[p][F_CYCLES]);
				kv(s, "kicks", &r->ph[p][F_KICKS]);
				kv(s, "irqs", &r->ph[p][F_IRQS]);
				kv(s, "used", &r->ph[p][F_USED]);
				kv(s, "errors", &r->ph[p][F_ERRORS]);
				kv(s, "waits", &r->ph[p][F_WAITS]);
				kv(s, "rescued", &r->ph[p][F_RESCUES]);
				r->have_phase[p] = 1;
			}
		} else if (kv(s, "total_cycles", &r->total)) {
			kv(s, "ticks", &r->ticks);
			r->done = strstr(s, " done") != NULL;
		} else {
			fprintf(stderr, "# guest: %s", s);
		}
	}
	fclose(f);
	return 0;
}

static void dump_console(int fd)
{
	char buf[4096];
	ssize_t n;
	off_t off = 0;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		fwrite(buf, 1, n, stderr);
		off += n;
	}
}

static int run_vm(unsigned int qd, unsigned long long n,
		  unsigned long long mib, unsigned int evidx, unsigned int poll,
		  unsigned int tick_us, const char *image, int hdr, int verbose)
{
	const char *dir = getenv("GUEST_DIR");
	char path[4096], params[200], tmp[64];
	struct result r = { 0 };
	struct machine_config cfg;
	struct ucall uc;
	struct machine m;
	unsigned int i;
	uint8_t *img;
	size_t len;
	double hz, t0, wall;
	int status, asserts, con;

	snprintf(path, sizeof(path), "%s/g_blk_bench.bzImage",
		 dir ? dir : "build/guest");
	img = load(path, &len);
	if (!image) {
		const char *d = access("/dev/shm", W_OK) == 0 ? "/dev/shm" :
								 "/tmp";

		snprintf(tmp, sizeof(tmp), "%s/mvm-blk-bench-%d.img", d,
			 (int)getpid());
		if (make_image(tmp, mib)) {
			fprintf(stderr, "blk_bench: cannot write %s: %s\n",
				tmp, strerror(errno));
			unlink(tmp);
			return 1;
		}
		image = tmp;
	}
	snprintf(params, sizeof(params),
		 "blk_bench.qd=%u blk_bench.n=%llu blk_bench.mib=%llu "
		 "blk_bench.evidx=%u blk_bench.poll=%u blk_bench.tick_us=%u",
		 qd, n, mib, evidx, poll, tick_us);
	hz = tsc_hz();

	machine_config_init(&cfg);
	cfg.kernel_image = img;
	cfg.kernel_image_len = len;
	cfg.kernel_label = "g_blk_bench";
	cfg.params = params;
	cfg.nr_cpus = 1;
	cfg.mem_size = 64ULL << 20;
	cfg.debug_exit = true;
	cfg.console_in_fd = -1;
	con = memfd_create("blk-bench-console", MFD_CLOEXEC);
	cfg.console_out_fd = con;
	cfg.disks[0] = image;
	cfg.nr_disks = 1;
	if (machine_build(&m, &cfg)) {
		fprintf(stderr, "blk_bench: machine_build failed (-d %s)\n", image);
		if (image == tmp)
			unlink(tmp);
		return 1;
	}
	if (ucall_attach(&m.vm)) {
		fprintf(stderr, "blk_bench: ucall_attach failed\n");
		return 1;
	}
	t0 = now_s();
	status = machine_run(&m);
	wall = now_s() - t0;
	print_vector_counts(&m);
	machine_destroy(&m);
	if (image == tmp)
		unlink(tmp);

	for (i = 0; ucall_get(i, &uc); i++) {
		unsigned long long st = uc.args[0], v = uc.args[1];

		if (uc.cmd != UCALL_SYNC)
			continue;
		switch (st) {
		case 1:
			r.qd = v & 0xffff;
			r.evidx = (v >> 16) & 1;
			r.poll = (v >> 17) & 1;
			r.have_config = 1;
			break;
		case 2: r.n = v; break;
		case 3: r.region = v; break;
		case 4: r.cap = v; break;
		case 5: r.features = v; break;
		case 6:
			r.cpuid15[0] = v >> 32;
			r.cpuid15[1] = v & 0xffffffff;
			break;
		case 7: r.cpuid15[2] = v; break;
		case 8: r.cpuid16 = v; break;
		case 9: r.qsize = v; break;
		case ST_TOTAL: r.total = v; break;
		case ST_TOTAL + 1: r.ticks = v; break;
		default:
			if (st >= ST_PHASE &&
			    st < ST_PHASE + 0x10 * NR_PHASES &&
			    (st & 0xf) < F_NR) {
				r.ph[(st - ST_PHASE) >> 4][st & 0xf] = v;
				r.have_phase[(st - ST_PHASE) >> 4] = 1;
			}
		}
	}
	r.done = ucall_count_cmd(UCALL_DONE) == 1;
	asserts = ucall_report_asserts();
	if (hdr)
		header();
	print_rows("mvm", &r, hz);
	printf("# mvm: guest cycles / machine_run wall = %.1f MHz (lower bound; "
	       "machine_run %.2f s)\n", wall > 0 ? r.total / wall / 1e6 : 0, wall);
	if (status || !r.done || asserts) {
		fprintf(stderr, "blk_bench: guest did not finish (status %d, "
			"%d asserts); its console:\n", status, asserts);
		dump_console(con);
	} else if (verbose) {
		dump_console(con);
	}
	close(con);
	free(img);
	return status == 0 && r.done && !asserts ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "parse", required_argument, NULL, 'P' },
		{ "mkimg", no_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long n = 2000, mib = 64;
	unsigned int qd = 1, evidx = 1, poll = 0, tick_us = 10000;
	const char *image = NULL, *log = NULL, *label = "qemu";
	int c, hdr = 0, mkimg = 0, verbose = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);

	while ((c = getopt_long(argc, argv, "q:n:M:e:p:t:f:l:Hv", lopts,
				NULL)) != -1) {
		switch (c) {
		case 'q': qd = strtoul(optarg, NULL, 0); break;
		case 'n': n = strtoull(optarg, NULL, 0); break;
		case 'M': mib = strtoull(optarg, NULL, 0); break;
		case 'e': evidx = strtoul(optarg, NULL, 0); break;
		case 'p': poll = strtoul(optarg, NULL, 0); break;
		case 't': tick_us = strtoul(optarg, NULL, 0); break;
		case 'f': image = optarg; break;
		case 'l': label = optarg; break;
		case 'H': hdr = 1; break;
		case 'v': verbose = 1; break;
		case 'P': log = optarg; break;
		case 'I': mkimg = 1; break;
		default:
			fprintf(stderr, "usage: blk_bench [-q QD] [-n N] "
				"[-M MIB] [-e 0|1] [-p 0|1] [-t TICK_US] "
				"[-f IMAGE] [-H] [-v]\n"
				"       blk_bench --parse LOG [-l LABEL] [-H]\n"
				"       blk_bench --mkimg PATH MIB\n");
			return 2;
		}
	}
	if (mkimg) {
		if (optind + 2 != argc) {
			fprintf(stderr, "usage: blk_bench --mkimg PATH MIB\n");
			return 2;
		}
		if (make_image(argv[optind],
			       strtoull(argv[optind + 1], NULL, 0))) {
			fprintf(stderr, "blk_bench: %s: %s\n", argv[optind],
				strerror(errno));
			return 1;
		}
		return 0;
	}
	if (log) {
		struct result r;
		double hz;

		if (parse_log(log, &r))
			return 1;
		hz = tsc_hz();
		if (hdr)
			header();
		if (!r.have_config) {
			printf("# %s: no results in %s\n", label, log);
			return 1;
		}
		print_rows(label, &r, hz);
		return r.done ? 0 : 1;
	}
	return run_vm(qd, n, mib, evidx, poll, tick_us, image, hdr, verbose);
}
