// SPDX-License-Identifier: GPL-2.0
/*
 * Boot-phase timeline (include/debug/timing.h).  The upper-half point is
 * how mvm sees, from outside, that the kernel proper runs: a bzImage's
 * decompressor runs identity-mapped in the low half, the decompressed
 * x86-64 kernel at __START_KERNEL_map (0xffffffff80000000,
 * Documentation/arch/x86/x86_64/mm.rst), so the first exit whose RIP has
 * bit 63 set comes from the kernel proper.  It is an upper bound of its
 * entry: the kernel may run a while before it exits to mvm.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "debug/timing.h"
#include "core/util.h"

#define MARKER_MAX	128

bool timing_on;
_Atomic uint64_t timing_at[TIMING_NR];

static uint64_t t0;
static char marker[MARKER_MAX + 1];
static size_t marker_len;
/* The last marker_len - 1 bytes of output: a marker split over writes. */
static char tail[MARKER_MAX];
static size_t tail_len;
static pthread_mutex_t tail_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const point_names[TIMING_NR] = {
	[TIMING_BUILT] = "machine built (RAM, kernel, devices)",
	[TIMING_FIRST_ENTRY] = "vCPU 0 entered the guest",
	[TIMING_KERNEL_HIGH] = "first exit from the upper half (the kernel proper runs)",
	[TIMING_CONSOLE] = "first byte on the serial console",
	[TIMING_MARKER] = "the marker on the serial console",
	[TIMING_END] = "the VM ended",
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void timing_start(void)
{
	t0 = now_ns();
}

int timing_enable(const char *m)
{
	if (m) {
		marker_len = strlen(m);
		if (!marker_len || marker_len > MARKER_MAX)
			return -EINVAL;
		memcpy(marker, m, marker_len + 1);
	}
	timing_on = true;
	return 0;
}

void timing_mark(enum timing_point p)
{
	uint64_t expected = 0;

	if (!timing_on)
		return;
	/* + 1: 0 means "not reached" */
	atomic_compare_exchange_strong(&timing_at[p], &expected,
				       now_ns() - t0 + 1);
}

void timing_console(const uint8_t *buf, size_t len)
{
	char win[2 * MARKER_MAX];
	size_t done = 0;

	if (!timing_on || !len)
		return;
	timing_mark(TIMING_CONSOLE);
	if (!marker_len || !timing_wants(TIMING_MARKER))
		return;
	pthread_mutex_lock(&tail_lock);
	/* Slide a window of tail + a chunk of buf over the output. */
	while (done < len && timing_wants(TIMING_MARKER)) {
		size_t n = MIN(len - done, sizeof(win) - tail_len), keep;

		memcpy(win, tail, tail_len);
		memcpy(win + tail_len, buf + done, n);
		if (memmem(win, tail_len + n, marker, marker_len))
			timing_mark(TIMING_MARKER);
		keep = MIN(marker_len - 1, tail_len + n);
		memmove(tail, win + tail_len + n - keep, keep);
		tail_len = keep;
		done += n;
	}
	pthread_mutex_unlock(&tail_lock);
}

void timing_print(FILE *out)
{
	bool printed[TIMING_NR] = { false };
	unsigned int i, k;

	fprintf(out, "mvm: timing (ms after mvm started):\n");
	for (k = 0; k < TIMING_NR; k++) {
		int best = -1;

		/* The earliest point not printed yet; unreached ones last. */
		for (i = 0; i < TIMING_NR; i++) {
			uint64_t t = atomic_load(&timing_at[i]);

			if (printed[i] || !t)
				continue;
			if (best < 0 || t < atomic_load(&timing_at[best]))
				best = (int)i;
		}
		if (best < 0)
			break;
		printed[best] = true;
		if (best == TIMING_MARKER)
			fprintf(out, "mvm: %10.1f  \"%s\" on the serial console\n",
				(double)(atomic_load(&timing_at[best]) - 1) / 1e6,
				marker);
		else
			fprintf(out, "mvm: %10.1f  %s\n",
				(double)(atomic_load(&timing_at[best]) - 1) / 1e6,
				point_names[best]);
	}
	for (i = 0; i < TIMING_NR; i++) {
		if (printed[i] || (i == TIMING_MARKER && !marker_len))
			continue;
		if (i == TIMING_MARKER)
			fprintf(out, "mvm: %10s  \"%s\" on the serial console (not seen)\n",
				"-", marker);
		else
			fprintf(out, "mvm: %10s  %s (not reached)\n", "-",
				point_names[i]);
	}
}
