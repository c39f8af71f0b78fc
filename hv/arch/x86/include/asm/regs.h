/*
 * The saved-register frame every trap and interrupt entry builds on the stack (entry.S), and
 * every handler receives. The layout is Xen's struct cpu_user_regs (x86-64), so a PV guest's
 * register state and hv's trap frame are the same thing:
 *
 *   r15 ... rdi        pushed by the entry stub (general registers)
 *   error_code         hardware error code, or 0 for vectors without one
 *   entry_vector       the vector number (upper half of the error-code slot)
 *   rip cs rflags rsp ss   the hardware's iret frame (always present in long mode)
 *
 * The frame lives at the top of the stack the CPU switched to: the TSS rsp0 stack for entries
 * from ring 3, an IST stack for NMI/#DF/#MC, or the interrupted stack for entries from ring 0.
 * Handlers may change it; the exit path restores every register from it and returns with iretq.
 */
#ifndef ASM_REGS_H
#define ASM_REGS_H

#ifndef __ASSEMBLER__
#include <klib/compiler.h>

struct cpu_user_regs {
	uint64_t r15;
	uint64_t r14;
	uint64_t r13;
	uint64_t r12;
	uint64_t rbp;
	uint64_t rbx;
	uint64_t r11;
	uint64_t r10;
	uint64_t r9;
	uint64_t r8;
	uint64_t rax;
	uint64_t rcx;
	uint64_t rdx;
	uint64_t rsi;
	uint64_t rdi;
	uint32_t error_code;
	uint32_t entry_vector;
	uint64_t rip;
	uint16_t cs, _pad0[1];
	uint8_t saved_upcall_mask; /* for PV event delivery; hv's own entry leaves it alone */
	uint8_t _pad1[3];
	uint64_t rflags;
	uint64_t rsp;
	uint16_t ss, _pad2[3];
};

/* True when the frame was saved from ring 3 (a PV guest: kernel or user). */
static inline bool guest_mode(const struct cpu_user_regs *regs)
{
	return (regs->cs & 3) != 0;
}
#endif

/* Offsets for assembly. */
#define UREGS_r15          0
#define UREGS_rbp          32
#define UREGS_rax          80
#define UREGS_rdi          112
#define UREGS_error_code   120
#define UREGS_entry_vector 124
#define UREGS_rip          128
#define UREGS_cs           136
#define UREGS_rflags       144
#define UREGS_rsp          152
#define UREGS_ss           160
#define UREGS_size         168

#endif
