/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Addresses and selectors the test guests choose for themselves, shared by
 * the assembly entry code and C.  The machine's own map is mvm/layout.h.
 */
#ifndef GUEST_LAYOUT_H
#define GUEST_LAYOUT_H

/* Guest GDT (head.S), the same layout Linux's startup_32 installs. */
#define GUEST_CS32		0x08
#define GUEST_CS64		0x10
#define GUEST_DS		0x18

/*
 * AP real-mode trampoline.  A SIPI starts an AP at CS = vector << 8, IP = 0
 * (SDM Vol. 3A 8.4.4.1), so it must sit below 1 MiB on a 4 KiB boundary.
 * 0x8000 is free both in mvm's map (between the zero page at 0x7000 and the
 * page tables at 0x9000) and under QEMU (real-mode kernel at 0x10000).
 */
#define TRAMPOLINE_ADDR		0x8000
#define AP_MAX			63
#define STACK_SIZE		4096

#define MSR_EFER		0xc0000080
#define EFER_LME		(1 << 8)
#define CR0_PE			(1 << 0)
#define CR0_PG			(1 << 31)
#define CR4_PAE			(1 << 5)

#endif
