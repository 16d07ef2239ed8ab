/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The embedded guest (guest/embedded.c, built as a bzImage by
 * guest/guest.mk) linked into the mvm binary, booted by `mvm run`
 * without -k.  The Makefile passes the image path as EMBEDDED_GUEST.
 */
	.section .rodata
	.balign 16
	.global embedded_guest_start, embedded_guest_end
embedded_guest_start:
	.incbin EMBEDDED_GUEST
embedded_guest_end:

	.section .note.GNU-stack, "", @progbits
