/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Real-mode setup code of the test guests' bzImage, for 16-bit loaders
 * only (QEMU -kernel, boot.rst "THE REAL-MODE KERNEL HEADER"); mvm uses the
 * 64-bit entry and never runs this.  The loader jumps to setup + 0x200 with
 * CS = seg + 0x20 and DS = ES = SS = seg; mkbzimage puts a short jump there
 * to this code at CS:0x80 (linked at 0x80).
 *
 * Like Linux's setup it builds a separate zero page (the loader filled in
 * only the setup header in place; e820_table at 0x2d0 would overlap this
 * very code), copies the header into it, asks the BIOS for the e820 map
 * (INT 15h, AX=E820h, ACPI spec "System Address Map Interfaces"), then
 * enters 32-bit protected mode and jumps to code32_start with ESI = the
 * zero page, as the 32-bit boot protocol requires.  The zero page goes at
 * seg:ZP, inside the 32 KiB the boot protocol gives the setup code.
 */
#define ZP		0x1000
#define HDR_START	0x1f1
#define HDR_END		0x280
#define BP_E820_ENTRIES	0x1e8
#define BP_E820_TABLE	0x2d0
#define BP_E820_MAX	128
#define HDR_CODE32	0x214
#define SMAP		0x534d4150	/* "SMAP" */
#define BOOT_CS		0x10
#define BOOT_DS		0x18

	.code16
	.text
	.globl _start
_start:
	cli
	cld
	movw	$ZP, %di			/* ES = DS = seg */
	xorw	%ax, %ax
	movw	$(4096 / 2), %cx
	rep stosw
	movw	$HDR_START, %si
	movw	$(ZP + HDR_START), %di
	movw	$(HDR_END - HDR_START), %cx
	rep movsb

	xorl	%ebx, %ebx
	movw	$(ZP + BP_E820_TABLE), %di
1:	movl	$0xe820, %eax
	movl	$20, %ecx
	movl	$SMAP, %edx
	int	$0x15
	jc	2f
	cmpl	$SMAP, %eax
	jne	2f
	addw	$20, %di
	incb	ZP + BP_E820_ENTRIES
	cmpb	$BP_E820_MAX, ZP + BP_E820_ENTRIES
	jae	2f
	testl	%ebx, %ebx
	jnz	1b
2:	cli
	xorl	%esi, %esi			/* ESI = linear zero page */
	movw	%ds, %si
	shll	$4, %esi
	addl	$ZP, %esi
	xorl	%eax, %eax			/* GDT base = CS base + gdt */
	movw	%cs, %ax
	shll	$4, %eax
	addl	%eax, %cs:gdt_desc + 2
	movl	ZP + HDR_CODE32, %eax
	movl	%eax, %cs:jmp_target
	lgdtl	%cs:gdt_desc
	movl	%cr0, %eax
	orl	$1, %eax
	movl	%eax, %cr0
	movw	$BOOT_DS, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	ljmpl	*%cs:jmp_target

	.balign 8
gdt:
	.quad	0
	.quad	0
	.quad	0x00cf9a000000ffff		/* __BOOT_CS: 32-bit code */
	.quad	0x00cf92000000ffff		/* __BOOT_DS */
gdt_end:
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	gdt
jmp_target:
	.long	0
	.word	BOOT_CS

	.section .note.GNU-stack, "", @progbits
