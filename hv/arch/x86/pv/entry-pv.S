/*
 * PV guest entry and exit that the generic trap path (hv/arch/x86/entry.S) does not cover:
 *
 * - pv_syscall_entry (MSR_LSTAR): SYSCALL from the guest, kernel or user. SYSCALL does not
 *   switch stacks, so the first instructions run on the guest's RSP: swapgs, park the guest RSP
 *   in the per-CPU scratch slot, move to this CPU's stack top, and build the same struct
 *   cpu_user_regs frame an exception from ring 3 would (CS 0xe033, SS 0xe02b, RIP from RCX,
 *   RFLAGS from R11). FMASK has cleared IF, TF, DF, AC and NT. NMI, #DF and #MC use IST stacks,
 *   so nothing can land on the guest stack in between.
 * - pv_return: every return to a guest goes through pv_exit_to_guest() (events, pending
 *   bounces), then leaves with SYSRET when RCX/R11 already hold RIP/RFLAGS, CS/SS are the flat
 *   ring-3 selectors and RIP is canonical (SYSRET to a non-canonical RIP faults in ring 0 on
 *   the guest stack); otherwise through the generic iretq exit.
 * - pv_db_entry: #DB on its own IST stack (slot PV_IST_DB). A guest that single-steps into
 *   SYSCALL takes its #DB on hv's first entry instruction, still on the guest stack and with
 *   the guest's GS base; so, like NMI, #DB decides about swapgs by the GS base itself.
 * - pv_copy_raw: the two instructions that touch guest memory for copy_{from,to}_guest; a
 *   fault on either is fixed up by the #PF/#GP handlers (traps-pv.c) to return the bytes left.
 */
#include <hv/layout.h>
#include <asm/regs.h>
#include <asm/percpu.h>
#include <asm/desc.h>
#include <asm/processor.h>

#define PV_UREGS_r11 48
#define PV_UREGS_rcx 88

.macro SAVE_ALL
	push %rdi
	push %rsi
	push %rdx
	push %rcx
	push %rax
	push %r8
	push %r9
	push %r10
	push %r11
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
.endm

.macro RESTORE_ALL
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rax
	pop %rcx
	pop %rdx
	pop %rsi
	pop %rdi
.endm

	.text
	.globl pv_syscall_entry
pv_syscall_entry:
	swapgs
	mov %rsp, %gs:PERCPU_scratch_rsp
	mov %gs:PERCPU_stack_top, %rsp
	pushq $FLAT_RING3_DS                 /* ss */
	pushq %gs:PERCPU_scratch_rsp         /* rsp */
	push %r11                            /* rflags */
	pushq $FLAT_RING3_CS64               /* cs */
	push %rcx                            /* rip */
	pushq $0
	movl $0x100, 4(%rsp)                 /* entry_vector 0x100: SYSCALL */
	SAVE_ALL
	mov %rsp, %rdi
	call pv_do_syscall
	/* fall through */

	.globl pv_return
pv_return:
	cli
	mov %rsp, %rdi
	call pv_exit_to_guest
	cli
	/* SYSRET only when it restores exactly the frame. */
	mov PV_UREGS_rcx(%rsp), %rax
	cmp UREGS_rip(%rsp), %rax
	jne 1f
	mov PV_UREGS_r11(%rsp), %rax
	cmp UREGS_rflags(%rsp), %rax
	jne 1f
	cmpw $FLAT_RING3_CS64, UREGS_cs(%rsp)
	jne 1f
	cmpw $FLAT_RING3_DS, UREGS_ss(%rsp)
	jne 1f
	mov UREGS_rip(%rsp), %rax
	sar $47, %rax                        /* canonical: 0 or -1 */
	inc %rax
	cmp $1, %rax
	ja 1f
	RESTORE_ALL
	add $8, %rsp                         /* error_code/entry_vector */
	mov 24(%rsp), %rsp                   /* guest rsp (rip cs rflags rsp ss) */
	swapgs
	sysretq
1:	jmp return_to_frame

/*
 * pv_enter_frame(regs): start a vCPU. The current stack is abandoned: the frame is copied to
 * the top of this CPU's stack, where entries from ring 3 will save it from now on.
 */
	.globl pv_enter_frame
pv_enter_frame:
	mov %rdi, %rsi
	mov %gs:PERCPU_stack_top, %rsp
	sub $UREGS_size, %rsp
	mov %rsp, %rdi
	mov $UREGS_size, %ecx
	rep movsb
	jmp pv_return

/*
 * long pv_copy_raw(void *dst, const void *src, size_t n): 0, or the bytes not copied. Whole
 * quadwords first, then the last n % 8 bytes: the hot paths copy 56-72 byte frames (bounce,
 * HYPERVISOR_iret), and under TCG every iteration of a rep string instruction is a separate
 * emulated access (and, under -icount, a separate instruction). A fault on either copy resumes
 * at its fixup (traps-pv.c), which counts what is left.
 */
	.globl pv_copy_raw, pv_copy_insn, pv_copy_fixup, pv_copy_tail_insn, pv_copy_tail_fixup
pv_copy_raw:
	mov %rdx, %rcx
	shr $3, %rcx
pv_copy_insn:
	rep movsq
	mov %edx, %ecx
	and $7, %ecx
pv_copy_tail_insn:
	rep movsb
	xor %eax, %eax
	ret
pv_copy_fixup:                           /* RCX quadwords and the tail left */
	and $7, %edx
	lea (%rdx,%rcx,8), %rax
	ret
pv_copy_tail_fixup:
	mov %rcx, %rax
	ret

/* #DB: IST stack, GS decided by the GS base (as the generic paranoid entry does). */
	.globl pv_db_entry
pv_db_entry:
	pushq $0
	movl $1, 4(%rsp)
	cld
	SAVE_ALL
	cmpb $0, hv_smap_enabled(%rip)
	je 1f
	.byte 0x0f, 0x01, 0xca          /* clac */
1:	mov $MSR_GS_BASE, %ecx
	rdmsr
	shl $32, %rdx
	or %rax, %rdx
	xor %ebx, %ebx
	movabs $HYPERVISOR_VIRT_START, %rax
	cmp %rax, %rdx
	jb 2f
	movabs $HYPERVISOR_VIRT_END, %rax
	cmp %rax, %rdx
	jb 3f
2:	swapgs
	mov $1, %ebx
3:	mov %rsp, %rdi
	sub $8, %rsp
	call do_trap
	add $8, %rsp
	test %ebx, %ebx
	jz 4f
	swapgs
4:	RESTORE_ALL
	add $8, %rsp
	iretq
