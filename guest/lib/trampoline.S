/* SPDX-License-Identifier: GPL-2.0 */
/*
 * AP startup.  smp.c copies [ap_trampoline_start, ap_trampoline_end) to
 * TRAMPOLINE_ADDR; a SIPI starts the AP there in real mode with
 * CS = TRAMPOLINE_ADDR >> 4, IP = 0.  The AP goes real -> protected -> long
 * mode on the BSP's page tables (ap_boot_cr3) and the guest GDT, takes the
 * next free stack and calls ap_entry().
 */
#include "guest_layout.h"

#define TR_OFF(x)	((x) - ap_trampoline_start)

	.section .rodata
	.code16
	.globl ap_trampoline_start, ap_trampoline_end
ap_trampoline_start:
	cli
	cld
	movw	%cs, %ax
	movw	%ax, %ds
	lgdtl	TR_OFF(tr_gdt_desc)
	movl	%cr0, %eax
	orl	$CR0_PE, %eax
	movl	%eax, %cr0
	ljmpl	$GUEST_CS32, $(TRAMPOLINE_ADDR + TR_OFF(tr32))

	.code32
tr32:
	movl	$GUEST_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	ap_boot_cr3, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$(CR0_PG | CR0_PE), %eax
	movl	%eax, %cr0
	ljmp	$GUEST_CS64, $ap_start64

	.balign 8
tr_gdt_desc:			/* 32-bit base: the guest GDT in the image */
	.word	4 * 8 - 1
	.long	guest_gdt
ap_trampoline_end:

	.text
	.code64
ap_start64:
	movl	$GUEST_DS, %eax
	movl	%eax, %fs
	movl	%eax, %gs
	movl	$1, %eax
	lock xaddl %eax, ap_stack_next(%rip)
	cmpl	$AP_MAX, %eax
	jae	2f
	incl	%eax
	shll	$12, %eax			/* STACK_SIZE */
	leaq	ap_stacks(%rip), %rsp
	addq	%rax, %rsp
	call	ap_entry
2:	cli
	hlt
	jmp	2b

	.data
	.balign 4
	.globl ap_boot_cr3
ap_boot_cr3:
	.long	0
ap_stack_next:
	.long	0

	.section .noinit, "aw", @nobits
	.balign 16
ap_stacks:
	.skip	AP_MAX * STACK_SIZE

	.section .note.GNU-stack, "", @progbits
