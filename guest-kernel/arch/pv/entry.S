/*
 * Exception, event and system-call entry of the PV kernel, and the way back.
 *
 * The hypervisor enters every handler with a bounce frame on the stack: RCX, R11, [error code],
 * RIP, CS, RFLAGS, RSP, SS (lowest address first). The stubs pop RCX and R11 (restoring the
 * interrupted values), make the frame uniform (error code slot, vector) and save the general
 * registers into a struct trap_frame (pv.h). The way back is HYPERVISOR_iret, whose stack image
 * is RAX, R11, RCX, flags, RIP, CS, RFLAGS, RSP, SS: trap_return rewrites the three slots below
 * RIP in place and pushes RAX. HYPERVISOR_iret restores the upcall mask from RFLAGS.IF, which the
 * hypervisor set from the mask at entry.
 */
#include <public/xen.h>

#define TF_R11 32
#define TF_RCX 96
#define TF_IRET_FLAGS 120
#define TF_VECTOR 128
#define TF_ERROR 136

	.text
	.code64

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

	/* Exception stubs: vectors with a hardware error code keep it, the others get 0. */
	.macro EXC vec
	.balign 16
pv_exc_\vec:
	pop	%rcx
	pop	%r11
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	push	$0
	.endif
	push	$\vec
	jmp	trap_common
	.endm

	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	EXC \v
	.endr

	.section .rodata
	.balign 8
	.globl pv_exception_entries
pv_exception_entries:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad	pv_exc_\v
	.endr
	.text

	/* Event upcall: no error code; events are masked on entry. */
	.balign 16
	.globl pv_event_entry
pv_event_entry:
	pop	%rcx
	pop	%r11
	push	$0
	push	$256
	jmp	trap_common

	/* Failsafe: RCX, R11, DS, ES, FS, GS, then an ordinary frame. */
	.balign 16
	.globl pv_failsafe_entry
pv_failsafe_entry:
	pop	%rcx
	pop	%r11
	add	$32, %rsp
	push	$0
	push	$257
	jmp	trap_common

	/* System call from guest user mode: RCX/R11 hold the user RIP/RFLAGS as SYSCALL left them. */
	.balign 16
	.globl pv_syscall_entry
pv_syscall_entry:
	pop	%rcx
	pop	%r11
	push	$0
	push	$258
	jmp	trap_common

trap_common:
	push	$0			/* iret_flags */
	SAVE_REGS
	cld
	mov	%rsp, %rdi
	call	pv_trap_dispatch
	/* fall through */

	.globl trap_return
trap_return:
	mov	TF_IRET_FLAGS(%rsp), %rax
	mov	%rax, TF_ERROR(%rsp)		/* flags */
	mov	TF_RCX(%rsp), %rax
	mov	%rax, TF_VECTOR(%rsp)		/* rcx */
	mov	TF_R11(%rsp), %rax
	mov	%rax, TF_IRET_FLAGS(%rsp)	/* r11 */
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
	push	%rax
	mov	$__HYPERVISOR_iret, %eax
	syscall
	ud2

/*
 * __noreturn void pv_return_with_frame(struct trap_frame *f): return to the context described by
 * f, which lies at the top of the kernel stack (the first entry of a process).
 */
	.globl pv_return_with_frame
pv_return_with_frame:
	mov	%rdi, %rsp
	jmp	trap_return

/*
 * void pv_user_enter_asm(uint64_t rip, uint64_t rsp, struct kctx *save)
 * Saves the callee-saved registers and RSP, then HYPERVISOR_iret to user mode (CS RPL 3, events
 * masked in user mode: RFLAGS.IF = 0). Comes back through pv_user_exit_asm.
 */
	.globl pv_user_enter_asm
pv_user_enter_asm:
	mov	%rbx, 0(%rdx)
	mov	%rbp, 8(%rdx)
	mov	%r12, 16(%rdx)
	mov	%r13, 24(%rdx)
	mov	%r14, 32(%rdx)
	mov	%r15, 40(%rdx)
	mov	%rsp, 48(%rdx)
	push	$FLAT_USER_SS
	push	%rsi
	push	$0x2
	push	$FLAT_USER_CS
	push	%rdi
	push	$0			/* flags */
	push	$0			/* rcx */
	push	$0			/* r11 */
	push	$0			/* rax */
	xor	%ebx, %ebx
	xor	%ebp, %ebp
	xor	%r12d, %r12d
	xor	%r13d, %r13d
	xor	%r14d, %r14d
	xor	%r15d, %r15d
	mov	$__HYPERVISOR_iret, %eax
	syscall
	ud2

/* __noreturn void pv_user_exit_asm(struct kctx *save): back to pv_user_enter_asm's caller. */
	.globl pv_user_exit_asm
pv_user_exit_asm:
	mov	0(%rdi), %rbx
	mov	8(%rdi), %rbp
	mov	16(%rdi), %r12
	mov	24(%rdi), %r13
	mov	32(%rdi), %r14
	mov	40(%rdi), %r15
	mov	48(%rdi), %rsp
	ret

/*
 * User programs, copied into the user code page. Position independent; entered with
 * RDI = argument, RSP = user stack top.
 */
	.section .rodata.user, "a"
	.balign 16
	.globl user_code_start, user_prog_syscall, user_prog_fault, user_prog_cs
	.globl user_prog_read_kernel, user_code_end
user_code_start:
/* SYS_add(arg, 0x1000), then SYS_exit(result). */
user_prog_syscall:
	mov	$0x1000, %rsi
	mov	$1, %eax
	syscall
	mov	%rax, %rdi
	mov	$0, %eax
	syscall
	ud2
/* Read an unmapped user address: the page fault ends the run. */
user_prog_fault:
	mov	$0x7000, %rax
	mov	(%rax), %rax
	ud2
/* SYS_exit(%cs): lets the kernel check the privilege level user code ran at. */
user_prog_cs:
	mov	%cs, %rdi
	mov	$0, %eax
	syscall
	ud2
/* Read the kernel's first page: not mapped in the user L4. */
user_prog_read_kernel:
	mov	$0xffffffff80000000, %rax
	mov	(%rax), %rax
	ud2
user_code_end:
