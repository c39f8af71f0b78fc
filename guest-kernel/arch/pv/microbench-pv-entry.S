/*
 * Guest-kernel halves of the PV micro-benchmarks (microbench-pv.c): the syscall callback and
 * int3 handler used while they run, and the way into user mode and back. Each does only what
 * the Xen PV ABI requires, so the rows measure the hypervisor's part.
 *
 * Both handlers are entered with the bounce frame RCX, R11, RIP, CS, RFLAGS, RSP, SS (lowest
 * first) and leave with HYPERVISOR_iret, whose frame is RAX, R11, RCX, flags, RIP, ...: moving
 * RSP down 16 bytes turns one into the other with the old RCX in its slot.
 *
 * mb_pv_syscall_cb (CALLBACKTYPE_syscall during the benchmark), by EAX:
 *   MB_SYS_SAMPLE  store RDI (if not 0) in mb_user_samples, HYPERVISOR_iret with VGCF_in_syscall
 *   MB_SYS_DONE    the user loop is over: resume mb_pv_user_run's caller
 */
#include <public/xen.h>
#include <microbench.h>

	.text
	.balign 16
	.globl mb_pv_syscall_cb
mb_pv_syscall_cb:
	cmp	$MB_SYS_SAMPLE, %eax
	jne	1f
	test	%rdi, %rdi
	jz	2f
	mov	mb_user_count(%rip), %eax
	cmp	$MB_MAX_ITERS, %eax
	jae	2f
	mov	%rdi, mb_user_samples(, %rax, 8)
	inc	%eax
	mov	%eax, mb_user_count(%rip)
2:	sub	$16, %rsp
	movq	$0, (%rsp)			/* RAX */
	movq	$(1 << _VGCF_in_syscall), 24(%rsp) /* flags: RCX/R11 from RIP/RFLAGS */
	mov	$__HYPERVISOR_iret, %eax
	syscall
	ud2
1:	mov	mb_pv_kctx+0(%rip), %rbx
	mov	mb_pv_kctx+8(%rip), %rbp
	mov	mb_pv_kctx+16(%rip), %r12
	mov	mb_pv_kctx+24(%rip), %r13
	mov	mb_pv_kctx+32(%rip), %r14
	mov	mb_pv_kctx+40(%rip), %r15
	mov	mb_pv_kctx+48(%rip), %rsp
	ret

/* int3 handler (trap table vector 3): back to the interrupted kernel code with RAX/RCX/R11. */
	.balign 16
	.globl mb_pv_int3
mb_pv_int3:
	sub	$16, %rsp
	mov	%rax, (%rsp)			/* RAX */
	mov	24(%rsp), %rax			/* the bounce frame's R11 */
	mov	%rax, 8(%rsp)
	movq	$0, 24(%rsp)			/* flags; RCX is in place */
	mov	$__HYPERVISOR_iret, %eax
	syscall
	ud2

/*
 * void mb_pv_user_run(uint64_t rip, uint64_t rsp, uint64_t arg): HYPERVISOR_iret to user mode
 * at rip with RDI = arg, events masked there (RFLAGS.IF clear); returns when the user code
 * issues MB_SYS_DONE.
 */
	.balign 16
	.globl mb_pv_user_run
mb_pv_user_run:
	mov	%rbx, mb_pv_kctx+0(%rip)
	mov	%rbp, mb_pv_kctx+8(%rip)
	mov	%r12, mb_pv_kctx+16(%rip)
	mov	%r13, mb_pv_kctx+24(%rip)
	mov	%r14, mb_pv_kctx+32(%rip)
	mov	%r15, mb_pv_kctx+40(%rip)
	mov	%rsp, mb_pv_kctx+48(%rip)
	push	$FLAT_USER_SS
	push	%rsi
	push	$0x2				/* RFLAGS: events masked */
	push	$FLAT_USER_CS
	push	%rdi
	push	$0				/* flags */
	push	$0				/* RCX */
	push	$0				/* R11 */
	push	$0				/* RAX */
	mov	%rdx, %rdi
	mov	$__HYPERVISOR_iret, %eax
	syscall
	ud2

	.bss
	.balign 8
mb_pv_kctx:
	.skip 56
	.section .note.GNU-stack, "", @progbits
