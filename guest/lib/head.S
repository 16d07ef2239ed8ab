/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry points of every test guest (the bzImage protected-mode part).
 *
 * startup_32 (+0x000): 32-bit boot protocol (boot.rst "32-bit BOOT
 *   PROTOCOL"): flat 32-bit segments, paging off, ESI = boot_params.  Used
 *   by our real-mode setup code when QEMU or another 16-bit loader boots the
 *   image.  Builds an identity map of 4 GiB and enters long mode, like
 *   Linux's startup_32.
 * startup_64 (+0x200): 64-bit boot protocol, what mvm uses: long mode,
 *   identity-mapped, RSI = boot_params, no stack.
 */
#include "guest_layout.h"

	.section .head32, "ax"
	.code32
	.globl startup_32
startup_32:
	cli
	cld
	/* PML4, PDPT and four page directories: zero them first. */
	movl	$pgtable, %edi
	movl	$(6 * 4096 / 4), %ecx
	xorl	%eax, %eax
	rep stosl
	movl	$pgtable, %edi
	leal	0x1003(%edi), %eax		/* PML4[0] -> PDPT, P|RW */
	movl	%eax, (%edi)
	leal	0x1000(%edi), %ebx
	leal	0x2003(%edi), %eax		/* PDPT[0..3] -> PD0..3 */
	movl	$4, %ecx
1:	movl	%eax, (%ebx)
	addl	$8, %ebx
	addl	$0x1000, %eax
	loop	1b
	leal	0x2000(%edi), %ebx
	movl	$0x83, %eax			/* 2 MiB page: P|RW|PS */
	movl	$2048, %ecx
1:	movl	%eax, (%ebx)
	addl	$8, %ebx
	addl	$0x200000, %eax
	loop	1b

	lgdt	guest_gdt_desc
	/* SDM Vol. 3A 9.8.5: PAE, CR3, EFER.LME, then CR0.PG. */
	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	%edi, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$(CR0_PG | CR0_PE), %eax
	movl	%eax, %cr0
	ljmp	$GUEST_CS64, $startup_64	/* ESI still = boot_params */

	/* boot.rst: kernel_info, found through kernel_info_offset. */
	.section .kernel_info, "a"
	.globl kernel_info
kernel_info:
	.ascii	"LToP"
	.long	kernel_info_end - kernel_info	/* size */
	.long	kernel_info_end - kernel_info	/* size_total */
	.long	0				/* setup_type_max */
kernel_info_end:

	.section .head64, "ax"
	.code64
	.globl startup_64
startup_64:
	cli
	cld
	/* Use our own GDT so APs and BSP run on the same descriptors. */
	lgdt	guest_gdt_desc(%rip)
	movl	$GUEST_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs
	/* The boot protocol promises no stack: take ours before the far
	 * return below pushes anything. */
	leaq	boot_stack + STACK_SIZE(%rip), %rsp
	pushq	$GUEST_CS64
	leaq	1f(%rip), %rax
	pushq	%rax
	lretq
1:	movq	%rsi, %r12
	leaq	__bss_start(%rip), %rdi
	leaq	__bss_end(%rip), %rcx
	subq	%rdi, %rcx
	shrq	$3, %rcx			/* the script aligns .bss to 64 */
	xorl	%eax, %eax
	rep stosq
	leaq	boot_stack + STACK_SIZE(%rip), %rsp
	movq	%r12, %rdi
	call	guest_start			/* does not return */
2:	cli
	hlt
	jmp	2b

	.data
	.balign 16
	.globl guest_gdt, guest_gdt_desc
guest_gdt:
	.quad	0
	.quad	0x00cf9a000000ffff		/* 0x08: 32-bit code */
	.quad	0x00af9a000000ffff		/* 0x10: 64-bit code (L=1) */
	.quad	0x00cf92000000ffff		/* 0x18: data */
guest_gdt_end:
	.balign 8
guest_gdt_desc:
	.word	guest_gdt_end - guest_gdt - 1
	.quad	guest_gdt

	.bss
	.balign 16
boot_stack:
	.skip	STACK_SIZE

	.section .pgtable, "aw", @nobits
	.balign 4096
pgtable:
	.skip	6 * 4096

	.section .note.GNU-stack, "", @progbits
