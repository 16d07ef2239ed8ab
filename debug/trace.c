// SPDX-License-Identifier: GPL-2.0
/*
 * Trace output: category names, the --trace list, and the line writer.
 * See include/debug/trace.h for the format and the cost model.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "debug/trace.h"
#include "core/util.h"

#define TRACE_LINE_MAX	512

unsigned int trace_mask;
atomic_ulong trace_emit_calls;

static const struct {
	const char *name;
	unsigned int bit;
} categories[] = {
	{ "pci", TRACE_PCI },
	{ "msix", TRACE_MSIX },
	{ "vfio", TRACE_VFIO },
	{ "mmio", TRACE_MMIO },
	{ "pio", TRACE_PIO },
	{ "irq", TRACE_IRQ },
	{ "virtio", TRACE_VIRTIO },
	{ "exit", TRACE_EXIT },
	{ "all", TRACE_ALL },
};

#define VALID_CATEGORIES "pci, msix, vfio, mmio, pio, irq, virtio, exit, all"

static atomic_int trace_fd = STDERR_FILENO;
static int owned_fd = -1;		/* opened by trace_open_file() */
static uint64_t start_ns;
static __thread int trace_vcpu = -1;

/* "Since mvm start": the clock starts when the program is loaded. */
static void __attribute__((constructor)) trace_clock_init(void)
{
	start_ns = monotonic_ns();
}

const char *trace_category_name(unsigned int cat)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(categories); i++)
		if (categories[i].bit == cat)
			return categories[i].name;
	return "?";
}

static int lookup(const char *name, size_t len, unsigned int *bit)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(categories); i++) {
		if (strlen(categories[i].name) == len &&
		    !strncmp(categories[i].name, name, len)) {
			*bit = categories[i].bit;
			return 0;
		}
	}
	return -EINVAL;
}

int trace_parse(const char *spec)
{
	unsigned int mask = 0, bit;
	const char *p = spec, *end;

	for (;;) {
		size_t len;

		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		if (!len) {
			pr_err("--trace '%s': empty category (valid: " VALID_CATEGORIES ")",
			       spec);
			return -EINVAL;
		}
		if (lookup(p, len, &bit)) {
			pr_err("--trace: unknown category '%.*s' (valid: " VALID_CATEGORIES ")",
			       (int)len, p);
			return -EINVAL;
		}
		mask |= bit;
		if (!end)
			break;
		p = end + 1;
	}
	trace_mask |= mask;
	return 0;
}

void trace_set_fd(int fd)
{
	trace_close();
	atomic_store(&trace_fd, fd);
}

void trace_close(void)
{
	atomic_store(&trace_fd, STDERR_FILENO);
	if (owned_fd >= 0)
		close(owned_fd);
	owned_fd = -1;
}

int trace_open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
		      O_CLOEXEC, 0644);

	if (fd < 0) {
		int err = errno;

		pr_errno(err, "--trace-file '%s'", path);
		return -err;
	}
	trace_set_fd(fd);
	owned_fd = fd;
	return 0;
}

void trace_set_vcpu(int index)
{
	trace_vcpu = index;
}

void trace_emit(unsigned int cat, const char *fmt, ...)
{
	char buf[TRACE_LINE_MAX];
	uint64_t t = monotonic_ns() - start_ns;
	char cpu[16] = "-";
	int r, saved_errno = errno;
	va_list ap;
	size_t n;

	atomic_fetch_add(&trace_emit_calls, 1);
	if (trace_vcpu >= 0)
		snprintf(cpu, sizeof(cpu), "vcpu%d", trace_vcpu);
	r = snprintf(buf, sizeof(buf), "%" PRIu64 ".%06" PRIu64 " %s %s: ",
		     t / 1000000000U, t / 1000U % 1000000U, cpu,
		     trace_category_name(cat));
	n = (size_t)MAX(r, 0);
	va_start(ap, fmt);
	r = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	n += (size_t)MAX(r, 0);
	/* Cut an over-long line, marking the cut; always end with '\n'. */
	if (n >= sizeof(buf) - 1) {
		n = sizeof(buf) - 1;
		memcpy(buf + n - 3, "...", 3);
	}
	buf[n++] = '\n';
	/* One write: a pipe or O_APPEND file never interleaves the lines. */
	while (write(atomic_load(&trace_fd), buf, n) < 0 && errno == EINTR)
		;
	/* Trace points sit in error paths too: leave errno as it was. */
	errno = saved_errno;
}
