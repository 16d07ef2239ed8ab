// SPDX-License-Identifier: GPL-2.0
/* Processor entries of the MP configuration table (MP spec 1.4, ch. 4). */
#include "guest.h"
#include "acpi.h"

#define MPC_PROCESSOR		0
#define MPC_CPU_ENABLED		(1 << 0)

static const uint8_t *scan_mpf(uint64_t start, uint64_t end)
{
	for (; start + 16 <= end; start += 16) {
		const uint8_t *p = (const void *)start;

		if (!memcmp(p, "_MP_", 4) && p[8] == 1 &&
		    !acpi_checksum(p, 16))
			return p;
	}
	return NULL;
}

unsigned int mptable_cpus(struct cpu_info *out, unsigned int max)
{
	uint64_t ebda = (uint64_t)*(volatile uint16_t *)phys(0x40e) << 4;
	const uint8_t *mpf = NULL, *mpc, *p, *end;
	unsigned int i, n = 0;
	uint16_t len, count;
	uint32_t addr;

	if (ebda >= 0x80000 && ebda < 0xa0000)
		mpf = scan_mpf(ebda, ebda + 1024);
	if (!mpf)
		mpf = scan_mpf(0x9fc00, 0xa0000);
	if (!mpf)
		mpf = scan_mpf(0xf0000, 0x100000);
	if (!mpf)
		return 0;
	memcpy(&addr, mpf + 4, 4);
	mpc = (const void *)(uint64_t)addr;
	if (!addr || memcmp(mpc, "PCMP", 4))
		return 0;
	memcpy(&len, mpc + 4, 2);
	if (len < 44 || acpi_checksum(mpc, len))
		return 0;
	memcpy(&count, mpc + 34, 2);
	p = mpc + 44;
	end = mpc + len;
	/* Processor entries are 20 bytes, all others 8. */
	for (i = 0; i < count && p < end; i++) {
		if (p[0] == MPC_PROCESSOR) {
			if ((p[3] & MPC_CPU_ENABLED) && n < max) {
				out[n].apic_id = p[1];
				out[n].enabled = 1;
				n++;
			}
			p += 20;
		} else {
			p += 8;
		}
	}
	return n;
}
