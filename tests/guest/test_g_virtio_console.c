// SPDX-License-Identifier: GPL-2.0
/*
 * g_virtio_console (a virtio-console driver) with `--console virtio`:
 * "ping\n" written to the console input pipe must reach the guest through
 * receiveq0, and the guest's "echo: ping\n" through transmitq0 must reach
 * the console output fd.  On the way we assert what the guest saw of the
 * transport: capabilities, features, queue sizes, config, status, ISR.
 */
#include "guest/harness.h"

#define INPUT	"ping\n"
#define ECHO	"echo: ping\n"

/* g_virtio_console.c's SYNC stages. */
enum {
	ST_FOUND = 1, ST_CAPS, ST_FEATURES, ST_NEGOTIATED, ST_NUMQ, ST_QSIZE,
	ST_CONFIG, ST_STATUS, ST_RX_LEN, ST_RX_BYTES, ST_ISR, ST_ISR_AGAIN,
	ST_TX_LEN, ST_NR
};

static unsigned int count(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle), i;
	unsigned int c = 0;

	for (i = 0; i + n <= len; i++)
		if (!memcmp(hay + i, needle, n))
			c++;
	return c;
}

int main(void)
{
	unsigned long long val[ST_NR] = { 0 };
	unsigned int seen[ST_NR] = { 0 }, n;
	bool order_ok;
	struct machine_config cfg;
	struct guest_run r;
	unsigned long long in = 0;
	uint8_t *img;
	size_t len;
	int p[2];

	guest_require_kvm();
	img = guest_load("g_virtio_console", &len);
	if (pipe2(p, O_CLOEXEC)) {
		printf("Bail out! pipe: %s\n", strerror(errno));
		return 1;
	}
	/* Buffered in the pipe until the console thread takes it. */
	if (write(p[1], INPUT, strlen(INPUT)) != (ssize_t)strlen(INPUT)) {
		printf("Bail out! write to the input pipe failed\n");
		return 1;
	}
	guest_config(&cfg, img, len, "g_virtio_console");
	cfg.virtio_console = true;
	cfg.console_in_fd = p[0];
	guest_run(&cfg, &r);
	close(p[0]);
	close(p[1]);

	guest_check_done(&r, "");
	order_ok = guest_stages(val, seen, ST_NR, &n);
	ok(order_ok, "%u reports, each stage once, in order", n);

	ok(seen[ST_FOUND], "guest found 1af4:1043 (slot %llu)",
	   val[ST_FOUND] >> 3);
	is_int(val[ST_CAPS], 0x3e,
	       "common, notify, ISR, device and PCI cfg capabilities");
	ok(val[ST_FEATURES] & (1ULL << 32), "VERSION_1 offered (%#llx)",
	   val[ST_FEATURES]);
	ok((val[ST_FEATURES] & (3ULL << 28)) == 3ULL << 28,
	   "INDIRECT_DESC and EVENT_IDX offered");
	is_int(val[ST_FEATURES] & 7, 0, "no SIZE, MULTIPORT, EMERG_WRITE");
	is_int(val[ST_NEGOTIATED], 1ULL << 32, "negotiated VERSION_1 only");
	is_int(val[ST_NUMQ], 2, "two queues (receiveq0, transmitq0)");
	is_int(val[ST_QSIZE], 128 << 16 | 128, "queue size 128 offered");
	is_int(val[ST_CONFIG], 0, "device config reads as zeros");
	is_int(val[ST_STATUS], 15, "status ACK|DRIVER|FEATURES_OK|DRIVER_OK");
	is_int(val[ST_RX_LEN], strlen(INPUT), "guest received the input line");
	memcpy(&in, INPUT, strlen(INPUT));
	is_int(val[ST_RX_BYTES], in, "guest received \"ping\\n\"");
	ok(val[ST_ISR] & 1, "ISR bit 0 after a used buffer (ISR %#llx)",
	   val[ST_ISR]);
	is_int(val[ST_ISR_AGAIN], 0, "reading the ISR cleared it");
	is_int(val[ST_TX_LEN], strlen(ECHO), "guest transmitted the echo");

	is_int(count(r.console, r.console_len, ECHO), 1,
	       "console output holds \"echo: ping\\n\" once");
	if (!strstr(r.console, ECHO))
		tap_diag("console (%zu bytes): '%s'", r.console_len,
			 r.console);
	free(r.console);
	free(img);
	return tap_done();
}
