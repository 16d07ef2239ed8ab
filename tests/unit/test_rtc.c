// SPDX-License-Identifier: GPL-2.0
/* The CMOS RTC: time formats, status registers, CMOS RAM, memory size. */
#include <time.h>

#include "tap.h"
#include "core/iobus.h"
#include "x86/layout.h"
#include "hw/rtc.h"
#include "core/util.h"

static struct iobus pio;
static int64_t fake_now;

static int64_t fake_clock(void)
{
	return fake_now;
}

static uint8_t cmos_read(uint8_t index)
{
	uint8_t v = 0;

	iobus_access(&pio, RTC_PORT, &index, 1, true);
	iobus_access(&pio, RTC_PORT + 1, &v, 1, false);
	return v;
}

static void cmos_write(uint8_t index, uint8_t v)
{
	iobus_access(&pio, RTC_PORT, &index, 1, true);
	iobus_access(&pio, RTC_PORT + 1, &v, 1, true);
}

static void test_time(struct rtc *rtc)
{
	/* Thursday 2024-02-29 13:45:56 UTC. */
	struct tm tm = { .tm_year = 124, .tm_mon = 1, .tm_mday = 29,
			 .tm_hour = 13, .tm_min = 45, .tm_sec = 56 };

	fake_now = timegm(&tm);
	rtc->now = fake_clock;

	is_int(cmos_read(RTC_REG_B), RTC_B_24H, "register B: BCD, 24h");
	is_int(cmos_read(RTC_SECONDS), 0x56, "BCD seconds");
	is_int(cmos_read(RTC_MINUTES), 0x45, "BCD minutes");
	is_int(cmos_read(RTC_HOURS), 0x13, "BCD hours (24h)");
	is_int(cmos_read(RTC_DAY_OF_WEEK), 5, "day of week, Sunday = 1");
	is_int(cmos_read(RTC_DAY_OF_MONTH), 0x29, "BCD day of month");
	is_int(cmos_read(RTC_MONTH), 0x02, "BCD month");
	is_int(cmos_read(RTC_YEAR), 0x24, "BCD year");
	is_int(cmos_read(RTC_CENTURY), 0x20, "BCD century at 0x32");

	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY);
	is_int(cmos_read(RTC_SECONDS), 56, "binary seconds");
	is_int(cmos_read(RTC_MINUTES), 45, "binary minutes");
	is_int(cmos_read(RTC_HOURS), 13, "binary hours");
	is_int(cmos_read(RTC_DAY_OF_MONTH), 29, "binary day of month");
	is_int(cmos_read(RTC_YEAR), 24, "binary year");
	is_int(cmos_read(RTC_CENTURY), 20, "binary century");

	cmos_write(RTC_REG_B, RTC_B_DM_BINARY);
	is_int(cmos_read(RTC_HOURS), 0x80 | 1, "12h binary: 1 PM");
	cmos_write(RTC_REG_B, 0);
	is_int(cmos_read(RTC_HOURS), 0x80 | 0x01, "12h BCD: 1 PM");
	fake_now -= 13 * 3600;			/* 00:45:56 */
	is_int(cmos_read(RTC_HOURS), 0x12, "12h: midnight is 12 AM");
	fake_now += 13 * 3600;

	/* The guest sets the clock: 11 PM in 12h BCD mode. */
	cmos_write(RTC_HOURS, 0x80 | 0x11);
	cmos_write(RTC_REG_B, RTC_B_24H);
	is_int(cmos_read(RTC_HOURS), 0x23, "guest-set hour sticks");
	is_int(cmos_read(RTC_MINUTES), 0x45, "other fields unchanged");
	fake_now += 61;
	is_int(cmos_read(RTC_MINUTES), 0x46, "clock keeps running");
	cmos_write(RTC_YEAR, 0x99);
	cmos_write(RTC_CENTURY, 0x19);
	is_int(cmos_read(RTC_YEAR), 0x99, "guest-set year");
	is_int(cmos_read(RTC_CENTURY), 0x19, "guest-set century");
	cmos_write(RTC_SECONDS, 0xff);		/* garbage, normalised */
	ok(cmos_read(RTC_SECONDS) <= 0x59, "garbage seconds normalised");
	rtc->offset = 0;
}

static void test_status(void)
{
	is_int(cmos_read(RTC_REG_A) & RTC_A_UIP, 0, "register A: UIP = 0");
	is_int(cmos_read(RTC_REG_A), 0x26, "register A divider/rate bits");
	cmos_write(RTC_REG_A, 0xa6);
	is_int(cmos_read(RTC_REG_A), 0x26, "UIP is read-only");
	is_int(cmos_read(RTC_REG_D), RTC_D_VRT, "register D: VRT = 1");
	cmos_write(RTC_REG_D, 0);
	is_int(cmos_read(RTC_REG_D), RTC_D_VRT, "register D read-only");
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	is_int(cmos_read(RTC_REG_C), 0, "register C: no interrupt flags");
	is_int(cmos_read(RTC_REG_B), RTC_B_24H | RTC_B_PIE,
	       "register B stores its bits");
	cmos_write(RTC_REG_B, RTC_B_24H);
}

static void test_ram(void)
{
	unsigned int i, bad = 0;
	uint8_t v;

	for (i = 0x0e; i < RTC_CMOS_SIZE; i++)
		if (i != RTC_CENTURY)
			cmos_write((uint8_t)i, (uint8_t)(i ^ 0xa5));
	for (i = 0x0e; i < RTC_CMOS_SIZE; i++)
		if (i != RTC_CENTURY && cmos_read((uint8_t)i) != (i ^ 0xa5))
			bad++;
	is_int(bad, 0, "CMOS RAM 0x0e-0x7f round-trips");
	cmos_write(RTC_SECONDS_ALARM, 0x42);
	is_int(cmos_read(RTC_SECONDS_ALARM), 0x42, "alarm register stored");

	/* Bit 7 of the index is NMI disable, not part of the address. */
	cmos_write(0x80 | 0x40, 0x77);
	is_int(cmos_read(0x40), 0x77, "index bit 7 masked on write");
	is_int(cmos_read(0x80 | 0x40), 0x77, "index bit 7 masked on read");
	cmos_write(0x80 | RTC_REG_D, 0);
	is_int(cmos_read(0x80 | RTC_REG_D), RTC_D_VRT, "NMI bit + reg D");

	iobus_access(&pio, RTC_PORT, &v, 1, false);
	is_int(v, 0xff, "index port is write-only");
}

static void test_mem_size(struct rtc *rtc)
{
	unsigned int i, sum;

	rtc_set_mem_size(rtc, 3 * GiB, 5 * GiB);
	is_int(cmos_read(0x15) | cmos_read(0x16) << 8, 640, "base memory");
	is_int(cmos_read(0x17) | cmos_read(0x18) << 8, 0xffff,
	       "extended memory saturates");
	is_int(cmos_read(0x30) | cmos_read(0x31) << 8, 0xffff,
	       "0x30-0x31 mirror 0x17-0x18");
	is_int(cmos_read(0x34) | cmos_read(0x35) << 8,
	       (3 * GiB - 16 * MiB) / (64 * KiB), "64K units above 16M");
	is_int(cmos_read(0x5b) | cmos_read(0x5c) << 8 | cmos_read(0x5d) << 16,
	       5 * GiB / (64 * KiB), "64K units above 4G");

	rtc_set_mem_size(rtc, 32 * MiB, 0);
	is_int(cmos_read(0x17) | cmos_read(0x18) << 8, 31 * 1024,
	       "32M: 31744 KiB above 1M");
	is_int(cmos_read(0x34) | cmos_read(0x35) << 8, 256,
	       "32M: 256 units above 16M");
	is_int(cmos_read(0x5b) | cmos_read(0x5c) | cmos_read(0x5d), 0,
	       "no high memory");

	rtc_set_mem_size(rtc, 8 * MiB, 0);
	is_int(cmos_read(0x34) | cmos_read(0x35), 0, "8M: nothing above 16M");
	for (i = 0x10, sum = 0; i <= 0x2d; i++)
		sum += cmos_read((uint8_t)i);
	is_int(cmos_read(0x2e) << 8 | cmos_read(0x2f), sum,
	       "AT checksum of 0x10-0x2d at 0x2e-0x2f");
	ok(sum != 0, "checksum covers non-zero bytes");
}

int main(void)
{
	struct rtc rtc;

	iobus_init(&pio, "pio");
	is_int(rtc_init(&rtc, &pio), 0, "rtc_init");
	test_time(&rtc);
	test_status();
	test_ram();
	test_mem_size(&rtc);
	rtc_exit(&rtc, &pio);
	ok(!iobus_find(&pio, RTC_PORT), "rtc_exit unregisters");
	iobus_destroy(&pio);
	return tap_done();
}
