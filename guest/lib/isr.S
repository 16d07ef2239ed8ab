/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interrupt and exception entry stubs for the test guests (idt.c).
 *
 * One 16-byte-aligned stub per vector 0..255.  Stubs of vectors without a
 * CPU-pushed error code push a zero first, so every frame looks alike:
 * vector, error code, then the CPU's RIP, CS, RFLAGS, RSP, SS (SDM Vol. 3A
 * 6.14.2).  isr_common saves the registers the C ABI lets a callee
 * clobber and calls idt_dispatch(vector, frame).  The CPU aligned RSP to
 * 16 before pushing its 5 quadwords; with error code, vector and 9 saved
 * registers the call is made on a 16-byte boundary, as the ABI wants.
 */
#include "guest_layout.h"

/* Exceptions that push an error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC,
 * #CP. */
#define HAS_ERRCODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || \
			(v) == 17 || (v) == 21)

	.text
	.code64
	.balign 16
	.globl isr_stubs
isr_stubs:
	vec = 0
	.rept 256
	.balign 16
	.if !HAS_ERRCODE(vec)
	pushq	$0
	.endif
	pushq	$vec
	jmp	isr_common
	vec = vec + 1
	.endr

isr_common:
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	cld
	movq	72(%rsp), %rdi		/* vector */
	leaq	80(%rsp), %rsi		/* error code, then the CPU's frame */
	call	idt_dispatch
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
	addq	$16, %rsp		/* vector and error code */
	iretq

	.section .note.GNU-stack, "", @progbits
