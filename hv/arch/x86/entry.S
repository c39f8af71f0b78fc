/*
 * Trap and interrupt entry: one stub per vector, one common path that builds the saved-register
 * frame (struct cpu_user_regs, asm/regs.h) and calls do_trap(regs), and the exit path that
 * restores the frame and returns with iretq.
 *
 * Every stub makes the stack look the same: vectors without a hardware error code push a zero,
 * then the vector number goes into the upper half of the error-code slot (entry_vector).
 *
 * GS: from ring 3 (a PV guest) the guest's GS base is live, so the common path swaps it with
 * hv's (swapgs) on the way in and back on the way out, deciding by the saved CS. NMI, #DF and #MC
 * can arrive anywhere, even between an entry and its swapgs, so their path (paranoid_entry)
 * decides by the GS base itself: hv's per-CPU areas all lie in hv's address range.
 *
 * SMAP: RFLAGS.AC is cleared on every entry, whatever the interrupted code left in it.
 */
#include <hv/layout.h>
#include <asm/regs.h>
#include <asm/processor.h>

#define CLAC .byte 0x0f, 0x01, 0xca

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

/* Clears RFLAGS.AC when the CPU has SMAP (CLAC is #UD otherwise). */
.macro CLEAR_AC
	cmpb $0, hv_smap_enabled(%rip)
	je 77f
	CLAC
77:
.endm

	.text
	.globl handle_entry
handle_entry:
	cld
	testb $3, (UREGS_cs - UREGS_error_code)(%rsp)
	jz 1f
	swapgs
1:	SAVE_ALL
	CLEAR_AC
	mov %rsp, %rdi
	sub $8, %rsp                    /* the frame is 8 mod 16: realign for the C ABI */
	call do_trap
	add $8, %rsp
	.globl return_to_frame
return_to_frame:
	RESTORE_ALL
	add $8, %rsp                    /* error_code + entry_vector */
	testb $3, 8(%rsp)               /* saved CS */
	jz 2f
	swapgs
2:	iretq

paranoid_entry:
	cld
	SAVE_ALL
	CLEAR_AC
	/* Swap GS unless the GS base already is one of hv's per-CPU areas. */
	mov $MSR_GS_BASE, %ecx
	rdmsr
	shl $32, %rdx
	or %rax, %rdx
	xor %ebx, %ebx
	movabs $HYPERVISOR_VIRT_START, %rax
	cmp %rax, %rdx
	jb 1f
	movabs $HYPERVISOR_VIRT_END, %rax
	cmp %rax, %rdx
	jb 2f
1:	swapgs
	mov $1, %ebx                    /* callee-saved: survives do_trap */
2:	mov %rsp, %rdi
	sub $8, %rsp
	call do_trap
	add $8, %rsp
	test %ebx, %ebx
	jz 3f
	swapgs
3:	RESTORE_ALL
	add $8, %rsp
	iretq

/* One stub per vector, 16 bytes apart. */
.macro STUB vec
	.balign 16
entry_stub_\vec:
	.if (\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq $0
	.endif
	movl $\vec, 4(%rsp)
	.if (\vec == 2) || (\vec == 8) || (\vec == 18)
	jmp paranoid_entry
	.else
	jmp handle_entry
	.endif
.endm

.macro STUB_ADDR vec
	.quad entry_stub_\vec
.endm

	.altmacro
	.balign 16
.set vec, 0
.rept 256
	STUB %vec
	.set vec, vec + 1
.endr

	.section .rodata
	.balign 8
	.globl entry_stubs
entry_stubs:
.set vec, 0
.rept 256
	STUB_ADDR %vec
	.set vec, vec + 1
.endr
