/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mvm's init for host-root mode (hostroot/init/mvm-init.c, a static
 * executable built by the Makefile) linked into the mvm binary; the
 * Makefile passes its path as HOSTROOT_INIT.
 */
	.section .rodata
	.balign 16
	.global hostroot_init_start, hostroot_init_end
hostroot_init_start:
	.incbin HOSTROOT_INIT
hostroot_init_end:

	.section .note.GNU-stack, "", @progbits
