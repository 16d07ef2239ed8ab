// SPDX-License-Identifier: GPL-2.0
/*
 * MC146818 CMOS RTC (Motorola MC146818A datasheet).
 *
 * The time is computed from the host's UTC clock on every read, plus an
 * offset the guest sets by writing the time registers.  Because nothing
 * ticks inside the device, an update is never in progress (register A UIP
 * reads 0) and the time is always valid (register D VRT reads 1).
 *
 * Not modelled: periodic, alarm and update-ended interrupts (register C
 * always reads 0, IRQ 8 is never raised; PIE/AIE/UIE are only stored),
 * the square-wave output, and daylight saving (DSE is only stored).  The
 * NMI-disable bit of the index port is masked off and has no effect.
 */
#include <stdbool.h>
#include <time.h>

#include "x86/layout.h"
#include "hw/rtc.h"
#include "core/util.h"

static int64_t rtc_host_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

static bool rtc_binary(const struct rtc *rtc)
{
	return rtc->cmos[RTC_REG_B] & RTC_B_DM_BINARY;
}

/* Encode per register B's data mode (DM: 1 = binary, 0 = BCD). */
static uint8_t rtc_encode(const struct rtc *rtc, unsigned int v)
{
	if (rtc_binary(rtc))
		return (uint8_t)v;
	return (uint8_t)((v / 10) << 4 | v % 10);
}

static unsigned int rtc_decode(const struct rtc *rtc, uint8_t v)
{
	if (rtc_binary(rtc))
		return v;
	return (v >> 4) * 10 + (v & 0x0f);
}

static int64_t rtc_clock(const struct rtc *rtc)
{
	return rtc->now ? rtc->now() : rtc_host_now();
}

static void rtc_guest_tm(const struct rtc *rtc, struct tm *tm)
{
	time_t t = (time_t)(rtc_clock(rtc) + rtc->offset);

	gmtime_r(&t, tm);
}

static uint8_t rtc_read_hours(const struct rtc *rtc, int hour)
{
	unsigned int h;

	if (rtc->cmos[RTC_REG_B] & RTC_B_24H)
		return rtc_encode(rtc, (unsigned int)hour);
	/* 12-hour mode: 1-12, bit 7 set for PM (datasheet table 3). */
	h = (unsigned int)hour % 12;
	return rtc_encode(rtc, h ? h : 12) | (hour >= 12 ? 0x80 : 0);
}

static uint8_t rtc_read_time(const struct rtc *rtc, unsigned int reg)
{
	struct tm tm;

	rtc_guest_tm(rtc, &tm);
	switch (reg) {
	case RTC_SECONDS:
		return rtc_encode(rtc, (unsigned int)tm.tm_sec);
	case RTC_MINUTES:
		return rtc_encode(rtc, (unsigned int)tm.tm_min);
	case RTC_HOURS:
		return rtc_read_hours(rtc, tm.tm_hour);
	case RTC_DAY_OF_WEEK:
		return rtc_encode(rtc, (unsigned int)tm.tm_wday + 1);
	case RTC_DAY_OF_MONTH:
		return rtc_encode(rtc, (unsigned int)tm.tm_mday);
	case RTC_MONTH:
		return rtc_encode(rtc, (unsigned int)tm.tm_mon + 1);
	case RTC_YEAR:
		return rtc_encode(rtc, (unsigned int)(tm.tm_year % 100));
	default: /* RTC_CENTURY */
		return rtc_encode(rtc, (unsigned int)(tm.tm_year + 1900) / 100);
	}
}

/*
 * The guest sets the clock (hwclock --systohc) one field at a time: apply
 * the field to the current guest time and keep the difference to the host
 * clock.  Nonsense values are normalised by timegm(), never trusted.
 */
static void rtc_write_time(struct rtc *rtc, unsigned int reg, uint8_t val)
{
	int64_t host = rtc_clock(rtc);
	uint8_t raw = reg == RTC_HOURS ? val & 0x7f : val;
	unsigned int v = rtc_decode(rtc, raw);
	struct tm tm;
	time_t t;

	rtc_guest_tm(rtc, &tm);
	switch (reg) {
	case RTC_SECONDS:
		tm.tm_sec = (int)v;
		break;
	case RTC_MINUTES:
		tm.tm_min = (int)v;
		break;
	case RTC_HOURS:
		if (!(rtc->cmos[RTC_REG_B] & RTC_B_24H))
			v = v % 12 + (val & 0x80 ? 12 : 0);
		tm.tm_hour = (int)v;
		break;
	case RTC_DAY_OF_WEEK:
		return;		/* derived from the date */
	case RTC_DAY_OF_MONTH:
		tm.tm_mday = (int)v;
		break;
	case RTC_MONTH:
		tm.tm_mon = (int)v - 1;
		break;
	case RTC_YEAR:
		tm.tm_year = (tm.tm_year + 1900) / 100 * 100 + (int)v - 1900;
		break;
	default: /* RTC_CENTURY */
		tm.tm_year = (int)v * 100 + tm.tm_year % 100 - 1900;
		break;
	}
	t = timegm(&tm);
	if (t == (time_t)-1) {
		pr_warn_ratelimited("rtc: guest wrote an invalid time");
		return;
	}
	rtc->offset = (int64_t)t - host;
}

static bool rtc_is_time_reg(unsigned int reg)
{
	switch (reg) {
	case RTC_SECONDS:
	case RTC_MINUTES:
	case RTC_HOURS:
	case RTC_DAY_OF_WEEK:
	case RTC_DAY_OF_MONTH:
	case RTC_MONTH:
	case RTC_YEAR:
	case RTC_CENTURY:
		return true;
	default:
		return false;
	}
}

static uint8_t rtc_read_reg(struct rtc *rtc, unsigned int reg)
{
	if (rtc_is_time_reg(reg))
		return rtc_read_time(rtc, reg);
	switch (reg) {
	case RTC_REG_A:
		return rtc->cmos[reg] & ~RTC_A_UIP;
	case RTC_REG_C:
		return 0;	/* no interrupt flags, ever */
	case RTC_REG_D:
		return RTC_D_VRT;
	default:		/* alarms, register B, CMOS RAM */
		return rtc->cmos[reg];
	}
}

static void rtc_write_reg(struct rtc *rtc, unsigned int reg, uint8_t val)
{
	if (rtc_is_time_reg(reg)) {
		rtc_write_time(rtc, reg, val);
		return;
	}
	switch (reg) {
	case RTC_REG_A:
		rtc->cmos[reg] = val & ~RTC_A_UIP;	/* UIP is read-only */
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break;					/* read-only */
	default:
		rtc->cmos[reg] = val;
		break;
	}
}

static void rtc_pio_read(void *opaque, uint64_t off, uint8_t *data,
			 unsigned int len)
{
	struct rtc *rtc = opaque;

	if (len != 1) {
		pr_warn_ratelimited("rtc: %u-byte read ignored", len);
		memset(data, 0xff, len);
		return;
	}
	/* The index port is write-only on a PC. */
	if (off == 0) {
		data[0] = 0xff;
		return;
	}
	pthread_mutex_lock(&rtc->lock);
	data[0] = rtc_read_reg(rtc, rtc->index);
	pthread_mutex_unlock(&rtc->lock);
}

static void rtc_pio_write(void *opaque, uint64_t off, const uint8_t *data,
			  unsigned int len)
{
	struct rtc *rtc = opaque;

	if (len != 1) {
		pr_warn_ratelimited("rtc: %u-byte write ignored", len);
		return;
	}
	pthread_mutex_lock(&rtc->lock);
	if (off == 0)
		rtc->index = data[0] & ~RTC_INDEX_NMI_DISABLE;
	else
		rtc_write_reg(rtc, rtc->index, data[0]);
	pthread_mutex_unlock(&rtc->lock);
}

static const struct io_ops rtc_ops = {
	.read = rtc_pio_read,
	.write = rtc_pio_write,
};

int rtc_init(struct rtc *rtc, struct iobus *pio)
{
	int err;

	memset(rtc, 0, sizeof(*rtc));
	pthread_mutex_init(&rtc->lock, NULL);
	/* 32.768 kHz time base (DV=010), 1024 Hz rate: the usual PC setup. */
	rtc->cmos[RTC_REG_A] = 0x26;
	rtc->cmos[RTC_REG_B] = RTC_B_24H;	/* BCD, 24-hour, no irqs */
	err = iobus_register(pio, RTC_PORT, 2, &rtc_ops, rtc, "rtc");
	if (err)
		pthread_mutex_destroy(&rtc->lock);
	return err;
}

void rtc_exit(struct rtc *rtc, struct iobus *pio)
{
	iobus_unregister(pio, RTC_PORT, rtc);
	pthread_mutex_destroy(&rtc->lock);
}

static void cmos_put16(struct rtc *rtc, unsigned int reg, uint64_t v)
{
	rtc->cmos[reg] = (uint8_t)v;
	rtc->cmos[reg + 1] = (uint8_t)(v >> 8);
}

void rtc_set_mem_size(struct rtc *rtc, uint64_t low_bytes,
		      uint64_t high_bytes)
{
	uint64_t v;
	unsigned int i, sum = 0;

	pthread_mutex_lock(&rtc->lock);
	/* Base memory in KiB (at most 640). */
	cmos_put16(rtc, 0x15, MIN(low_bytes / KiB, 640));
	/* Extended memory above 1 MiB in KiB, saturated at 65535. */
	v = low_bytes > MiB ? (low_bytes - MiB) / KiB : 0;
	v = MIN(v, 0xffff);
	cmos_put16(rtc, 0x17, v);
	cmos_put16(rtc, 0x30, v);
	/* Memory between 16 MiB and 4 GiB in 64 KiB units (SeaBIOS). */
	v = low_bytes > 16 * MiB ? (low_bytes - 16 * MiB) / (64 * KiB) : 0;
	cmos_put16(rtc, 0x34, MIN(v, 0xffff));
	/* Memory above 4 GiB in 64 KiB units, 24 bits (SeaBIOS). */
	v = MIN(high_bytes / (64 * KiB), 0xffffff);
	rtc->cmos[0x5b] = (uint8_t)v;
	rtc->cmos[0x5c] = (uint8_t)(v >> 8);
	rtc->cmos[0x5d] = (uint8_t)(v >> 16);
	/* IBM AT checksum: 16-bit sum of 0x10-0x2d, big-endian at 0x2e. */
	for (i = 0x10; i <= 0x2d; i++)
		sum += rtc->cmos[i];
	rtc->cmos[0x2e] = (uint8_t)(sum >> 8);
	rtc->cmos[0x2f] = (uint8_t)sum;
	pthread_mutex_unlock(&rtc->lock);
}
