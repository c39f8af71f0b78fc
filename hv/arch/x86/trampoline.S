/*
 * Application-processor start-up code. smpboot.c copies it to TRAMPOLINE_PHYS (below 1 MiB)
 * and fills trampoline_data before each STARTUP IPI. The CPU starts in real mode at
 * TRAMPOLINE_PHYS (CS = TRAMPOLINE_PHYS >> 4, IP = 0), switches to protected mode, then to long
 * mode on the trampoline page table (hv's table plus a low identity map), and jumps to
 * ap_entry64 in the high image with its stack and per-CPU pointer.
 *
 * Position: everything here runs from the copy, so addresses are computed as
 * TRAMPOLINE_PHYS + (label - trampoline_start).
 */
#include <hv/layout.h>
#include <asm/processor.h>

#define T(x) (TRAMPOLINE_PHYS + ((x) - trampoline_start))

	.section .trampoline, "a"
	.code16
	.globl trampoline_start
trampoline_start:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	lgdtl (tramp_gdt_ptr - trampoline_start)
	mov %cr0, %eax
	or $X86_CR0_PE, %eax
	mov %eax, %cr0
	ljmpl $0x08, $T(tramp32)

	.code32
tramp32:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %cr4, %eax
	or $X86_CR4_PAE, %eax
	mov %eax, %cr4
	mov T(tramp_cr3), %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	mov T(tramp_efer), %eax
	xor %edx, %edx
	wrmsr
	mov %cr0, %eax
	or $(X86_CR0_PG | X86_CR0_WP | X86_CR0_PE), %eax
	mov %eax, %cr0
	ljmp $0x18, $T(tramp64)

	.code64
tramp64:
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	mov T(tramp_stack), %rsp
	mov T(tramp_percpu), %rdi
	mov T(tramp_entry), %rax
	xor %ebp, %ebp
	jmp *%rax

	.balign 8
tramp_gdt:
	.quad 0
	.quad 0x00cf9b000000ffff        /* 0x08 32-bit code */
	.quad 0x00cf93000000ffff        /* 0x10 data */
	.quad 0x00af9b000000ffff        /* 0x18 64-bit code */
tramp_gdt_end:
tramp_gdt_ptr:
	.short tramp_gdt_end - tramp_gdt - 1
	.long T(tramp_gdt)

	/* struct trampoline_data in smpboot.c: keep in sync. */
	.balign 8
	.globl trampoline_data
trampoline_data:
tramp_cr3:    .long 0
tramp_efer:   .long 0
tramp_stack:  .quad 0
tramp_percpu: .quad 0
tramp_entry:  .quad 0
	.globl trampoline_end
trampoline_end:
