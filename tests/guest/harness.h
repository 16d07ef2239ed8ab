/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running a test guest in-process for a host TAP test: load the bzImage
 * built by guest.mk, build the VM with the caller's config, capture the
 * serial console in a memfd, attach the ucall recorder, run, tear down.
 * Static inline so only the guest tests pull the VM code in.
 */
#ifndef MVM_TEST_GUEST_HARNESS_H
#define MVM_TEST_GUEST_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "machine.h"
#include "tap.h"
#include "lib/ucall_host.h"

#ifndef GUEST_DIR
#define GUEST_DIR "build/guest"
#endif

struct guest_run {
	int build_err;		/* machine_build() result */
	int status;		/* machine_run() result */
	int exit_reason;	/* vm.exit_reason after the run */
	char *console;		/* NUL-terminated serial output */
	size_t console_len;
};

/* Skip the whole test program on hosts without a usable /dev/kvm. */
static inline void guest_require_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		char why[128];

		snprintf(why, sizeof(why), "no /dev/kvm: %s", strerror(errno));
		tap_skip_all(why);
	}
	close(fd);
}

/* Path of a guest image; $GUEST_DIR (set by make check) wins. */
static inline const char *guest_path(const char *name)
{
	static char path[4096];
	const char *dir = getenv("GUEST_DIR");

	snprintf(path, sizeof(path), "%s/%s.bzImage", dir ? dir : GUEST_DIR,
		 name);
	return path;
}

/* Read a guest image; exits the test (bail out) if it is missing. */
static inline uint8_t *guest_load(const char *name, size_t *len)
{
	const char *path = guest_path(name);
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) || !(buf = malloc(st.st_size)) ||
	    read(fd, buf, st.st_size) != st.st_size) {
		printf("Bail out! cannot read %s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(fd);
	*len = st.st_size;
	return buf;
}

/* Fill cfg for an in-memory guest image with the test defaults. */
static inline void guest_config(struct machine_config *cfg, const uint8_t *img,
				size_t len, const char *label)
{
	machine_config_init(cfg);
	cfg->kernel_image = img;
	cfg->kernel_image_len = len;
	cfg->kernel_label = label;
	cfg->nr_cpus = 1;
	cfg->mem_size = 64ULL << 20;
	cfg->debug_exit = true;
	cfg->console_in_fd = -1;
}

/*
 * The usual start: guest_load(name) and guest_config() for it.  Returns
 * the image, the caller's to free once the VM has run.
 */
static inline uint8_t *guest_setup(struct machine_config *cfg, const char *name)
{
	uint8_t *img;
	size_t len;

	img = guest_load(name, &len);
	guest_config(cfg, img, len, name);
	return img;
}

/*
 * Build, attach ucall, run, destroy.  cfg->console_out_fd is replaced by a
 * memfd whose contents end up in r->console.  Returns machine_run()'s status, or
 * -1 if the VM could not be built.  guest_run_inspect() also calls
 * inspect(m, arg) after machine_run() and before machine_destroy().
 */
static inline int guest_run_inspect(struct machine_config *cfg,
				    struct guest_run *r,
				    void (*inspect)(struct machine *m,
						    void *arg),
				    void *arg)
{
	struct machine m;
	off_t len;
	int fd;

	memset(r, 0, sizeof(*r));
	fd = memfd_create("mvm-test-console", MFD_CLOEXEC);
	if (fd < 0) {
		printf("Bail out! memfd_create: %s\n", strerror(errno));
		exit(1);
	}
	cfg->console_out_fd = fd;
	r->build_err = machine_build(&m, cfg);
	if (r->build_err) {
		close(fd);
		r->status = -1;
		r->console = strdup("");
		return -1;
	}
	if (ucall_attach(&m.vm)) {
		printf("Bail out! ucall_attach failed\n");
		exit(1);
	}
	r->status = machine_run(&m);
	r->exit_reason = m.vm.exit_reason;
	if (inspect)
		inspect(&m, arg);	/* devices are still there */
	machine_destroy(&m);

	len = lseek(fd, 0, SEEK_END);
	r->console = calloc(1, len > 0 ? len + 1 : 1);
	if (len > 0 && pread(fd, r->console, len, 0) == len)
		r->console_len = len;
	close(fd);
	ucall_report_asserts();
	return r->status;
}

static inline int guest_run(struct machine_config *cfg, struct guest_run *r)
{
	return guest_run_inspect(cfg, r, NULL, NULL);
}

/* Records of one command, in order, copied into out[] (at most max). */
static inline unsigned int guest_ucalls(unsigned int cmd, struct ucall *out,
					unsigned int max)
{
	struct ucall uc;
	unsigned int i, n = 0;

	for (i = 0; ucall_get(i, &uc); i++)
		if (uc.cmd == cmd && n < max)
			out[n++] = uc;
	return n;
}

/*
 * The five points of a guest that ran to its end: built, exit status 0,
 * ended by ACPI poweroff, no guest assert, DONE once.  what prefixes
 * their names ("" or, say, "qcow2: ").
 */
static inline void guest_check_done(const struct guest_run *r,
				    const char *what)
{
	is_int(r->build_err, 0, "%svm_build", what);
	is_int(r->status, 0, "%sexit status 0", what);
	is_int(r->exit_reason, VM_EXIT_POWEROFF, "%sended by ACPI poweroff",
	       what);
	is_int(ucall_count_cmd(UCALL_ASSERT), 0, "%sno guest asserts", what);
	is_int(ucall_count_cmd(UCALL_DONE), 1, "%sguest reported DONE", what);
}

/*
 * The SYNC reports of a guest that reports each of its stages 1..nr-1
 * once, in order (args[0] the stage, args[1] a value): val[stage] and
 * seen[stage] counted up (both nr long); *count is how many reports came.
 * True when they were exactly the nr - 1 stages, in order.
 */
static inline bool guest_stages(unsigned long long *val, unsigned int *seen,
				unsigned int nr, unsigned int *count)
{
	struct ucall s[64];
	unsigned int i, n, last = 0;
	bool order_ok = true;

	n = guest_ucalls(UCALL_SYNC, s, 64);
	for (i = 0; i < n; i++) {
		unsigned int st = (unsigned int)s[i].args[0];

		if (st == 0 || st >= nr || st <= last) {
			order_ok = false;
			continue;
		}
		last = st;
		seen[st]++;
		val[st] = s[i].args[1];
	}
	*count = n;
	return order_ok && n == nr - 1;
}

#endif
