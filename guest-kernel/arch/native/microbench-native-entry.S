/*
 * Ring-0 halves of the native micro-benchmarks (microbench-native.c): the SYSCALL entry used
 * while they run, the int3 handler, and the ways into ring 3 and back. Each is as short as the
 * operation allows, so the rows measure the hardware transitions.
 *
 * mb_native_lstar (MSR_LSTAR during the benchmark), by EAX:
 *   MB_SYS_SAMPLE  store RDI (if not 0) in mb_user_samples, SYSRET (the same work the PV stub does)
 *   MB_SYS_RING    the ring round trip's return: RSP never changed, so `ret` to its caller
 *   MB_SYS_DONE    the user loop is over: resume mb_native_user_run's caller
 */
#include <microbench.h>

	.text
	.balign 16
	.globl mb_native_lstar
mb_native_lstar:
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
2:	xor	%eax, %eax
	sysretq
1:	cmp	$MB_SYS_RING, %eax
	jne	3f
	ret
3:	lea	mb_native_kctx(%rip), %rdi
	mov	0(%rdi), %rbx
	mov	8(%rdi), %rbp
	mov	16(%rdi), %r12
	mov	24(%rdi), %r13
	mov	32(%rdi), %r14
	mov	40(%rdi), %r15
	mov	48(%rdi), %rsp
	ret

/* int3 handler (interrupt gate, DPL 0 use only): straight back. */
	.balign 16
	.globl mb_native_int3
mb_native_int3:
	iretq

/*
 * void mb_native_ring_trip(uint64_t user_rip): SYSRET to user_rip in ring 3 (IF clear), which
 * issues MB_SYS_RING at once; returns from mb_native_lstar. Clobbers RAX, RCX, R11 only.
 */
	.balign 16
	.globl mb_native_ring_trip
mb_native_ring_trip:
	mov	%rdi, %rcx
	mov	$2, %r11d
	sysretq

/*
 * void mb_native_user_run(uint64_t rip, uint64_t rsp, uint64_t arg): IRETQ to ring 3 at rip
 * with RDI = arg, IF clear; returns when the user code issues MB_SYS_DONE.
 */
	.balign 16
	.globl mb_native_user_run
mb_native_user_run:
	mov	%rbx, mb_native_kctx+0(%rip)
	mov	%rbp, mb_native_kctx+8(%rip)
	mov	%r12, mb_native_kctx+16(%rip)
	mov	%r13, mb_native_kctx+24(%rip)
	mov	%r14, mb_native_kctx+32(%rip)
	mov	%r15, mb_native_kctx+40(%rip)
	mov	%rsp, mb_native_kctx+48(%rip)
	push	$0x1b				/* user SS */
	push	%rsi
	push	$0x2				/* RFLAGS: IF clear */
	push	$0x23				/* user CS */
	push	%rdi
	mov	%rdx, %rdi
	iretq

	.bss
	.balign 8
mb_native_kctx:
	.skip 56
	.section .note.GNU-stack, "", @progbits
