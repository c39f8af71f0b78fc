/*
 * Native entry of the guest kernel (booted by multiboot on the bare machine), and its trap,
 * interrupt and system-call entry code.
 *
 * One ELF serves both platforms because each loader reads only its own part: the Xen/hv domain
 * builder reads the ELF notes (arch/pv/head.S) and enters _start in 64-bit mode with paging on,
 * while QEMU's multiboot loader (and GRUB) read the multiboot1 header below, whose a.out-kludge
 * fields load the file as a flat image and enter native_start32 in 32-bit protected mode. The
 * entry point reached therefore says which platform we are on.
 *
 * The image is linked at VIRT_BASE and loaded at PHYS_BASE (2 MiB, so that the direct map can
 * use 2 MiB pages): kernel PFN p is physical PHYS_BASE + p * 4 KiB.
 *
 * Frames: every entry builds the platform's struct trap_frame (platform.h), the same layout as
 * the PV entry: general registers, iret_flags (0), vector, error code, then the hardware frame.
 */
#define VIRT_BASE 0xffffffff80000000
#define PHYS_BASE 0x200000
#define PA(x) ((x) - VIRT_BASE + PHYS_BASE)

#define MB1_MAGIC 0x1badb002
#define MB1_FLAGS 0x00010003 /* page-aligned modules, memory info, address fields valid */

	.section .text.head.mb, "ax"
	.code32
	.balign 8
mb1_header:
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)
	.long PA(mb1_header)            /* header_addr */
	.long PA(_image_start)          /* load_addr */
	.long PA(__bss_start)           /* load_end_addr */
	.long PA(__bss_end)             /* bss_end_addr */
	.long PA(native_start32)        /* entry_addr */

	.globl native_start32
native_start32:
	cli
	cld
	mov	%eax, %ebp			/* multiboot magic */
	mov	%ebx, %esi			/* multiboot information (physical; rdmsr clobbers edx) */
	mov	$PA(__bss_start), %edi
	mov	$PA(__bss_end), %ecx
	sub	%edi, %ecx
	shr	$2, %ecx
	xor	%eax, %eax
	rep stosl
	mov	$PA(native_boot_stack_top), %esp

	/* Identity map of 0..1 GiB (until we run high) and the image map, 2 MiB pages. */
	xor	%ecx, %ecx
1:	mov	%ecx, %eax
	shl	$21, %eax
	or	$0x83, %eax
	mov	%eax, PA(native_boot_l2_low)(, %ecx, 8)
	add	$PHYS_BASE, %eax
	mov	%eax, PA(native_boot_l2_high)(, %ecx, 8)
	inc	%ecx
	cmp	$511, %ecx
	jne	1b
	movl	$PA(native_boot_l2_low) + 3, PA(native_boot_l3_low)
	movl	$PA(native_boot_l2_high) + 3, PA(native_boot_l3_high) + 510 * 8
	movl	$PA(native_boot_l3_low) + 3, PA(native_kernel_l4)
	movl	$PA(native_boot_l3_high) + 3, PA(native_kernel_l4) + 511 * 8

	mov	%cr4, %eax
	or	$0x20, %eax			/* PAE */
	mov	%eax, %cr4
	mov	$PA(native_kernel_l4), %eax
	mov	%eax, %cr3
	mov	$0xc0000080, %ecx		/* EFER: LME, SCE */
	rdmsr
	or	$0x101, %eax
	wrmsr
	mov	%cr0, %eax
	or	$0x80010001, %eax		/* PG, WP, PE */
	mov	%eax, %cr0
	lgdt	PA(boot_gdt_ptr)
	ljmp	$0x08, $PA(native_start64_low)

	.code64
native_start64_low:
	movabs	$native_start64, %rax
	jmp	*%rax
native_start64:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	xor	%eax, %eax
	mov	%ax, %fs
	mov	%ax, %gs
	movabs	$native_boot_stack_top, %rsp
	mov	%ebp, %edi
	mov	%esi, %esi
	call	native_start
	ud2

	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff		/* 0x08 kernel code, 64-bit */
	.quad 0x00cf92000000ffff		/* 0x10 kernel data */
boot_gdt_ptr:
	.short boot_gdt_ptr - boot_gdt - 1
	.long PA(boot_gdt)

/* ---- traps ---- */
	.text
	.macro SAVE_REGS
	push	%rax
	push	%rbx
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%rbp
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	.endm

	.macro VEC vec
	.balign 16
native_vec_\vec:
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	push	$0
	.endif
	push	$\vec
	jmp	native_trap_common
	.endm

	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
	VEC \v
	.endr

	.section .rodata
	.balign 8
	.globl native_vectors
native_vectors:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
	.quad	native_vec_\v
	.endr
	.text

/* SYSCALL from user mode: RCX = user RIP, R11 = user RFLAGS, still on the user stack. */
	.balign 16
	.globl native_syscall_entry
native_syscall_entry:
	mov	%rsp, native_user_rsp(%rip)
	lea	native_kernel_stack_top(%rip), %rsp
	push	$0x1b				/* user SS */
	push	native_user_rsp(%rip)
	push	%r11				/* RFLAGS */
	push	$0x23				/* user CS */
	push	%rcx				/* RIP */
	push	$0
	push	$258
	jmp	native_trap_common

native_trap_common:
	push	$0				/* iret_flags */
	SAVE_REGS
	mov	%rsp, %rdi
	call	native_trap_dispatch
	.globl native_trap_return
native_trap_return:
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rbp
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rbx
	pop	%rax
	add	$24, %rsp
	iretq

/* __noreturn void native_return_with_frame(struct trap_frame *f) */
	.globl native_return_with_frame
native_return_with_frame:
	mov	%rdi, %rsp
	jmp	native_trap_return

	.bss
	.balign 8
native_user_rsp:
	.quad 0
	.section .bss.stack, "aw", @nobits
	.balign 4096
	.globl native_kernel_l4
native_kernel_l4:
	.skip 4096
native_boot_l3_low:
	.skip 4096
native_boot_l3_high:
	.skip 4096
native_boot_l2_low:
	.skip 4096
native_boot_l2_high:
	.skip 4096
	.skip 16384
	.globl native_boot_stack_top
native_boot_stack_top:
	.skip 16384
	.globl native_kernel_stack_top
native_kernel_stack_top:
	.section .note.GNU-stack, "", @progbits
