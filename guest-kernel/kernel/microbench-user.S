/*
 * The user program of the micro-benchmarks (kernel/microbench.c copies it into a user page):
 * position independent, no data, touches no memory but its registers.
 *
 * mb_user_syscall_loop(RDI = n): n times, time MB_BATCH `syscall`s (MB_SYS_SAMPLE) with the TSC
 * and hand the sample to the kernel in RDI of the first call of the next batch (the others,
 * and the very first, carry 0: the kernel stores only samples that are not 0); then
 * MB_SYS_DONE with the last sample. Per call the timed span has, besides the syscall, the
 * loop's five instructions (mov, xor, mov, dec, jnz), as a kernel's MB_TIME loop has its own.
 *
 * mb_user_ring_back: the native ring round trip's ring-3 half, straight back to ring 0.
 */
#include <microbench.h>

	.section .rodata.mb_user, "a"
	.balign 16
	.globl mb_user_code_start, mb_user_syscall_loop, mb_user_ring_back, mb_user_code_end
mb_user_code_start:
mb_user_syscall_loop:
	mov	%rdi, %r12
	xor	%r13d, %r13d
1:	lfence
	rdtsc
	shl	$32, %rdx
	or	%rax, %rdx
	mov	%rdx, %r14
	mov	$MB_BATCH, %r15d
2:	mov	%r13, %rdi
	xor	%r13d, %r13d
	mov	$MB_SYS_SAMPLE, %eax
	syscall
	dec	%r15d
	jnz	2b
	lfence
	rdtsc
	shl	$32, %rdx
	or	%rax, %rdx
	sub	%r14, %rdx
	mov	%rdx, %r13
	dec	%r12
	jnz	1b
	mov	%r13, %rdi
	mov	$MB_SYS_DONE, %eax
	syscall
	ud2

mb_user_ring_back:
	mov	$MB_SYS_RING, %eax
	syscall
	ud2
mb_user_code_end:
	.section .note.GNU-stack, "", @progbits
