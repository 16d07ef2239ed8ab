// SPDX-License-Identifier: GPL-2.0
/*
 * --timing (debug/timing.c): points are stamped once, the first time;
 * the marker is found in the console output even when the guest writes
 * it a byte at a time or across a long write; the printout lists points
 * in the order they happened and says which were not reached.
 */
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "debug/timing.h"
#include "core/util.h"

static void feed(const char *s, size_t chunk)
{
	size_t i, n = strlen(s);

	for (i = 0; i < n; i += chunk)
		timing_console((const uint8_t *)s + i, MIN(chunk, n - i));
}

int main(void)
{
	char big[1000];
	char *out = NULL;
	size_t len = 0;
	uint64_t first;
	FILE *f;

	timing_start();
	timing_mark(TIMING_BUILT);
	is_int(atomic_load(&timing_at[TIMING_BUILT]), 0,
	       "nothing is stamped while --timing is off");
	is_int(timing_enable(""), -EINVAL, "an empty marker is refused");
	memset(big, 'x', 200);
	big[200] = '\0';
	is_int(timing_enable(big), -EINVAL, "a 200-byte marker is refused");
	is_int(timing_enable("READY-42"), 0, "marker READY-42");

	timing_mark(TIMING_BUILT);
	first = atomic_load(&timing_at[TIMING_BUILT]);
	ok(first != 0, "a point is stamped");
	usleep(2000);
	timing_mark(TIMING_BUILT);
	is_int(atomic_load(&timing_at[TIMING_BUILT]), first,
	       "...once: the first time counts");
	ok(timing_wants(TIMING_CONSOLE), "the console point is wanted");

	feed("Linux version 6.1 ... READY-4", 1);
	ok(!timing_wants(TIMING_CONSOLE), "the first console byte is stamped");
	ok(timing_wants(TIMING_MARKER), "a marker's prefix is not the marker");
	feed("2 and on", 1);
	ok(!timing_wants(TIMING_MARKER),
	   "the marker written a byte at a time is found");

	/* Again, from scratch, across one long write. */
	atomic_store(&timing_at[TIMING_MARKER], 0);
	memset(big, '.', sizeof(big));
	memcpy(big + 600, "READY-42", 8);
	big[sizeof(big) - 1] = '\0';
	feed(big, sizeof(big));
	ok(!timing_wants(TIMING_MARKER), "the marker inside a long write is found");
	atomic_store(&timing_at[TIMING_MARKER], 0);
	feed("READ", 3);
	feed("Y-42", 3);
	ok(!timing_wants(TIMING_MARKER), "the marker split over writes is found");

	timing_mark(TIMING_END);
	f = open_memstream(&out, &len);
	timing_print(f);
	fclose(f);
	ok(strstr(out, "mvm: timing (ms after mvm started):\n") == out,
	   "printout: the heading first");
	ok(strstr(out, "machine built") < strstr(out, "first byte on the serial") &&
	   strstr(out, "first byte on the serial") < strstr(out, "the VM ended"),
	   "printout: in the order they happened");
	ok(strstr(out, "\"READY-42\" on the serial console") != NULL,
	   "printout: the marker by its text");
	ok(strstr(out, "-  vCPU 0 entered the guest (not reached)") != NULL,
	   "printout: a point not reached says so");
	if (tap_failed)
		printf("%s", out);
	free(out);
	return tap_done();
}
