// SPDX-License-Identifier: GPL-2.0
/*
 * Tracing: the --trace list, the category bits, the line format on a
 * pipe, the cost when off (no call, no argument evaluated) and whole lines
 * from concurrent threads.
 */
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "lib/capture.h"
#include "debug/trace.h"
#include "core/util.h"

static int pipe_fd[2];

/* s without its newline, for test names. */
static const char *show(const char *s)
{
	static char buf[2048];
	size_t n = strcspn(s, "\n");

	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

static void test_parse(void)
{
	const char *msg;
	int r;

	trace_mask = 0;
	is_int(trace_parse("pci"), 0, "parse 'pci'");
	is_int(trace_mask, TRACE_PCI, "'pci' sets the pci bit only");
	is_int(trace_parse("msix,vfio"), 0, "parse 'msix,vfio'");
	is_int(trace_mask, TRACE_PCI | TRACE_MSIX | TRACE_VFIO,
	       "a second list adds to the first");
	trace_mask = 0;
	is_int(trace_parse("mmio,pio,irq,virtio"), 0, "parse four names");
	is_int(trace_mask, TRACE_MMIO | TRACE_PIO | TRACE_IRQ | TRACE_VIRTIO,
	       "their four bits");
	trace_mask = 0;
	is_int(trace_parse("all"), 0, "parse 'all'");
	is_int(trace_mask, TRACE_ALL, "'all' sets every category");

	trace_mask = TRACE_IRQ;
	msg = CAPTURED(r = trace_parse("pci,bogus,msix"));
	is_int(r, -EINVAL, "unknown category: -EINVAL");
	is_int(trace_mask, TRACE_IRQ, "a bad list changes nothing");
	ok(strstr(msg, "unknown category 'bogus'") != NULL,
	   "the message names the bad category: %s", show(msg));
	ok(strstr(msg, "valid: pci, msix, vfio, mmio, pio, irq, virtio, exit, all"),
	   "the message lists the valid ones");
	ok(one_error_line(msg, ""),
	   "one line starting with 'mvm: '");
	msg = CAPTURED(r = trace_parse("pci,"));
	ok(r == -EINVAL && strstr(msg, "empty category"),
	   "trailing comma refused");
	msg = CAPTURED(r = trace_parse(""));
	ok(r == -EINVAL && strstr(msg, "empty category"), "empty list refused");
	msg = CAPTURED(r = trace_parse("PCI"));
	ok(r == -EINVAL, "names are lower case");
	msg = CAPTURED(r = trace_parse("msi"));
	ok(r == -EINVAL && strstr(msg, "'msi'"), "a prefix is not a name");
	trace_mask = 0;
}

static void test_bits(void)
{
	static const unsigned int bits[] = { TRACE_PCI, TRACE_MSIX,
		TRACE_VFIO, TRACE_MMIO, TRACE_PIO, TRACE_IRQ, TRACE_VIRTIO,
		TRACE_EXIT };
	static const char *const names[] = { "pci", "msix", "vfio", "mmio",
		"pio", "irq", "virtio", "exit" };
	unsigned int i, all = 0;
	bool distinct = true, named = true;

	for (i = 0; i < ARRAY_SIZE(bits); i++) {
		if (__builtin_popcount(bits[i]) != 1 || (all & bits[i]))
			distinct = false;
		all |= bits[i];
		if (strcmp(trace_category_name(bits[i]), names[i]))
			named = false;
	}
	ok(distinct, "each category is its own bit");
	is_int(all, TRACE_ALL, "TRACE_ALL is exactly the categories");
	ok(named, "each bit has its --trace name");
	trace_mask = TRACE_MSIX;
	ok(trace_on(MSIX) && !trace_on(PCI), "trace_on() follows the mask");
	trace_mask = 0;
}

/* Read one line from the trace pipe (it is non-blocking). */
static char *read_trace(void)
{
	static char buf[2048];
	ssize_t n = read(pipe_fd[0], buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static bool matches(const char *re, const char *s)
{
	regex_t r;
	bool m;

	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB))
		return false;
	m = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return m;
}

static void *no_vcpu_thread(void *arg)
{
	TRACE(IRQ, "from a helper thread");
	return NULL;
}

static void test_format(void)
{
	char line[2048], *s;
	double t1, t2;
	pthread_t t;

	trace_set_fd(pipe_fd[1]);
	trace_mask = TRACE_MSIX | TRACE_IRQ | TRACE_VFIO;

	trace_set_vcpu(3);
	TRACE(MSIX, "dev0: vector %u %s", 5U, "unmasked");
	s = read_trace();
	ok(matches("^[0-9]+\\.[0-9]{6} vcpu3 msix: dev0: vector 5 unmasked\n$",
		   s), "line: time, vcpu3, category, text: %s", show(s));
	ok(strchr(s, '\n') == s + strlen(s) - 1, "exactly one line");
	t1 = strtod(s, NULL);

	trace_set_vcpu(-1);
	TRACE(IRQ, "gsi %d", 24);
	s = read_trace();
	ok(matches("^[0-9]+\\.[0-9]{6} - irq: gsi 24\n$", s),
	   "not on a vCPU: '-': %s", show(s));
	t2 = strtod(s, NULL);
	ok(t2 >= t1, "timestamps do not go back");

	trace_set_vcpu(0);
	pthread_create(&t, NULL, no_vcpu_thread, NULL);
	pthread_join(t, NULL);
	s = read_trace();
	ok(matches("^[0-9]+\\.[0-9]{6} - irq: from a helper thread\n$", s),
	   "the vCPU index is per thread: %s", show(s));
	trace_set_vcpu(-1);

	TRACE_MSIX_TABLE_WRITE("vf0", 0x1cULL, 1U);
	s = read_trace();
	ok(matches(" msix: vf0: table write vector 1 ctrl=0x1\n$", s),
	   "table write helper: %s", show(s));
	TRACE_MSIX_TABLE_WRITE("vf0", 0x28ULL, 0x4021U);
	s = read_trace();
	ok(matches(" msix: vf0: table write vector 2 data=0x4021\n$", s),
	   "table write helper, data field: %s", show(s));
	TRACE_MSIX_CONTROL("vf0", true, false);
	s = read_trace();
	ok(matches(" msix: vf0: MSI-X enabled, function mask off\n$", s),
	   "enable helper: %s", show(s));
	TRACE_MSIX_MASK("vf0", 7, false);
	s = read_trace();
	ok(matches(" msix: vf0: vector 7 unmasked\n$", s), "mask helper: %s",
	   show(s));
	TRACE_MSIX_PBA("vf0", 7, true);
	s = read_trace();
	ok(matches(" msix: vf0: PBA vector 7 set\n$", s), "PBA helper: %s", show(s));
	TRACE_VFIO_SET_IRQS("vf0", "grow", 0, 8, -22);
	s = read_trace();
	ok(matches(" vfio: vf0: SET_IRQS MSI-X grow vectors 0\\+8 -> -22\n$",
		   s), "SET_IRQS helper: %s", show(s));
	TRACE_VFIO_DISABLE("vf0", 0);
	s = read_trace();
	ok(matches(" vfio: vf0: SET_IRQS MSI-X disable -> 0\n$", s),
	   "host disable helper: %s", show(s));
	TRACE_IRQ_COMMIT(41, 0);
	s = read_trace();
	ok(matches(" irq: routing commit 41 routes -> 0\n$", s),
	   "commit helper: %s", show(s));
	TRACE_IRQ_ROUTE(30, 0xfee00000ULL, 0x4021);
	s = read_trace();
	ok(matches(" irq: gsi 30 route addr=0xfee00000 data=0x4021\n$", s),
	   "route helper: %s", show(s));
	TRACE_IRQFD(30, 12, true, 0);
	s = read_trace();
	ok(matches(" irq: irqfd assign gsi 30 fd 12 -> 0\n$", s),
	   "irqfd helper: %s", show(s));
	TRACE_IRQFD(30, 12, false, 0);
	s = read_trace();
	ok(matches(" irq: irqfd deassign gsi 30 fd 12 -> 0\n$", s),
	   "irqfd deassign: %s", show(s));
	TRACE_IRQ_SIGNAL_MSI(0xfee00000ULL, 0x21, 1);
	s = read_trace();
	ok(matches(" irq: signal MSI addr=0xfee00000 data=0x21 -> 1\n$", s),
	   "signal MSI helper: %s", show(s));

	memset(line, 'x', 1000);
	line[1000] = '\0';
	TRACE(MSIX, "%s", line);
	s = read_trace();
	ok(strlen(s) == 512 && !strcmp(s + 508, "...\n"),
	   "an over-long line is cut to 512 bytes, marked, one line");

	errno = EBUSY;
	TRACE(IRQ, "keeps errno");
	read_trace();
	is_int(errno, EBUSY, "tracing leaves errno alone");

	trace_mask = 0;
}

static int evaluated;

static int side_effect(void)
{
	return ++evaluated;
}

static void test_off(void)
{
	unsigned long calls;
	char buf[64];

	trace_set_fd(pipe_fd[1]);
	trace_mask = 0;
	calls = atomic_load(&trace_emit_calls);
	TRACE(PCI, "value %d", side_effect());
	TRACE_MSIX_TABLE_WRITE("x", 0, side_effect());
	TRACE_IRQ_COMMIT(side_effect(), 0);
	is_int(atomic_load(&trace_emit_calls), calls,
	       "mask 0: trace_emit() never called");
	is_int(evaluated, 0, "mask 0: arguments not evaluated");
	ok(read(pipe_fd[0], buf, sizeof(buf)) < 0 && errno == EAGAIN,
	   "mask 0: nothing written");

	trace_mask = TRACE_ALL & ~TRACE_PCI;
	TRACE(PCI, "value %d", side_effect());
	is_int(atomic_load(&trace_emit_calls), calls,
	       "other categories on, pci off: no call");
	is_int(evaluated, 0, "...and no argument evaluated");
	ok(read(pipe_fd[0], buf, sizeof(buf)) < 0 && errno == EAGAIN,
	   "...and nothing written");

	trace_mask = TRACE_PCI;
	TRACE(PCI, "value %d", side_effect());
	is_int(atomic_load(&trace_emit_calls), calls + 1,
	       "pci on: one call");
	is_int(evaluated, 1, "pci on: arguments evaluated once");
	read_trace();
	trace_mask = 0;
}

#define NR_THREADS	8
#define NR_LINES	500

static void *writer(void *arg)
{
	int id = (int)(intptr_t)arg, i;
	char pad[200];

	trace_set_vcpu(id);
	for (i = 0; i < NR_LINES; i++) {
		int len = (i * 37 + id * 11) % 190;

		memset(pad, 'a' + id, (size_t)len);
		pad[len] = '\0';
		TRACE(VIRTIO, "t%d n%d %s end", id, i, pad);
	}
	return NULL;
}

static void test_threads(void)
{
	char path[] = "/tmp/mvm-trace-XXXXXX";
	static bool seen[NR_THREADS][NR_LINES];
	pthread_t t[NR_THREADS];
	int fd = mkstemp(path), i, bad = 0, lines = 0, dup = 0;
	char line[1024];
	FILE *f;

	if (fd < 0) {
		ok(0, "mkstemp");
		return;
	}
	close(fd);
	is_int(trace_open_file(path), 0, "trace_open_file");
	trace_mask = TRACE_VIRTIO;
	for (i = 0; i < NR_THREADS; i++)
		pthread_create(&t[i], NULL, writer, (void *)(intptr_t)i);
	for (i = 0; i < NR_THREADS; i++)
		pthread_join(t[i], NULL);
	trace_mask = 0;
	trace_close();

	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		int id, n, off = 0, len;
		char *p;

		lines++;
		if (sscanf(line, "%*u.%*u vcpu%d virtio: t%*d n%d %n", &id, &n,
			   &off) != 2 || id < 0 || id >= NR_THREADS ||
		    n < 0 || n >= NR_LINES || !off) {
			bad++;
			continue;
		}
		/* The padding is all one letter and the line ends right. */
		len = (n * 37 + id * 11) % 190;
		p = line + off;
		if (len && (strspn(p, (char[]){ (char)('a' + id), 0 }) !=
			    (size_t)len || p[len] != ' '))
			bad++;
		else if (strcmp(p + len + (len ? 1 : 0), "end\n"))
			bad++;
		else if (seen[id][n])
			dup++;
		else
			seen[id][n] = true;
	}
	if (f)
		fclose(f);
	unlink(path);
	is_int(lines, NR_THREADS * NR_LINES, "every line written once");
	is_int(bad, 0, "no line torn or mixed with another");
	is_int(dup, 0, "no line twice");
}

int main(void)
{
	const char *msg;
	int r;

	if (pipe2(pipe_fd, O_NONBLOCK | O_CLOEXEC) < 0)
		return 1;
	test_parse();
	test_bits();
	test_format();
	test_off();
	test_threads();
	msg = CAPTURED(r = trace_open_file("/nonexistent/dir/trace"));
	ok(r == -ENOENT && strstr(msg, "--trace-file '/nonexistent/dir/trace'"),
	   "trace_open_file: missing directory is one error line");
	trace_close();
	close(pipe_fd[0]);
	close(pipe_fd[1]);
	return tap_done();
}
