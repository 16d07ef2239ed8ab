/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The bench guest for "time to the first guest instruction": the
 * protected-mode part of a bzImage (the Makefile's bench rule wraps it
 * with tests/guest/mkbzimage).  mvm enters it at +0x200 (64-bit
 * boot protocol); the very first instruction there sends one byte to the
 * serial port, which mvm writes to its stdout at once, where benchrun -f
 * timestamps it.  Then a debug-exit write of 0 ends mvm (--debug-exit).
 */
	.text
	.code32
	.globl	_start
_start:				/* +0x000: 32-bit entry, unused by mvm */
	cli
1:	hlt
	jmp	1b

	.org	0x1c0		/* boot.rst kernel_info, as guest/lib/head.S */
	.ascii	"LToP"
	.long	16, 16, 0

	.org	0x200		/* +0x200: 64-bit entry */
	.code64
	movw	$0x3f8, %dx	/* COM1 THR: instructions 1-3, first exit */
	movb	$'!', %al
	outb	%al, %dx
	xorl	%eax, %eax	/* debug-exit status 0 */
	outb	%al, $0xf4
2:	hlt
	jmp	2b
	.org	0x220		/* mkbzimage wants 16 bytes past 0x200 */
