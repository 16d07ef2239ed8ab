/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The MC146818 CMOS real-time clock at RTC_PORT (index 0x70, data 0x71).
 * The time registers read the host's UTC clock; bytes 0x0e-0x7f are CMOS
 * RAM.  No periodic, alarm or update-ended interrupts are generated.
 */
#ifndef MVM_RTC_H
#define MVM_RTC_H

#include <pthread.h>
#include <stdint.h>

#include "core/iobus.h"

#define RTC_SECONDS		0x00
#define RTC_SECONDS_ALARM	0x01
#define RTC_MINUTES		0x02
#define RTC_MINUTES_ALARM	0x03
#define RTC_HOURS		0x04
#define RTC_HOURS_ALARM		0x05
#define RTC_DAY_OF_WEEK		0x06	/* 1 = Sunday */
#define RTC_DAY_OF_MONTH	0x07
#define RTC_MONTH		0x08
#define RTC_YEAR		0x09	/* 0-99 */
#define RTC_REG_A		0x0a
#define RTC_REG_B		0x0b
#define RTC_REG_C		0x0c
#define RTC_REG_D		0x0d
/* IBM PC convention (and ACPI FADT "century"): CMOS 0x32. */
#define RTC_CENTURY		0x32

#define RTC_A_UIP		0x80	/* update in progress */
#define RTC_B_SET		0x80
#define RTC_B_PIE		0x40
#define RTC_B_AIE		0x20
#define RTC_B_UIE		0x10
#define RTC_B_DM_BINARY		0x04	/* 1 = binary, 0 = BCD */
#define RTC_B_24H		0x02
#define RTC_D_VRT		0x80	/* valid RAM and time */

#define RTC_INDEX_NMI_DISABLE	0x80	/* bit 7 of port 0x70 */
#define RTC_CMOS_SIZE		128

struct rtc {
	pthread_mutex_t lock;
	uint8_t index;			/* 0-0x7f */
	uint8_t cmos[RTC_CMOS_SIZE];	/* registers A, B and RAM */
	int64_t offset;		/* guest minus host time, seconds */
	/* UTC seconds source; NULL (the default) is CLOCK_REALTIME. */
	int64_t (*now)(void);
};

/* Register ports 0x70-0x71.  Returns 0 or -errno (after printing why). */
int rtc_init(struct rtc *rtc, struct iobus *pio);
void rtc_exit(struct rtc *rtc, struct iobus *pio);

/*
 * Record the RAM size in CMOS the way SeaBIOS/QEMU do: 0x15-0x16 base KiB,
 * 0x17-0x18 and 0x30-0x31 KiB above 1 MiB (max 65535), 0x34-0x35 64 KiB
 * units above 16 MiB below 4 GiB, 0x5b-0x5d 64 KiB units above 4 GiB.
 */
void rtc_set_mem_size(struct rtc *rtc, uint64_t low_bytes,
		      uint64_t high_bytes);

#endif
