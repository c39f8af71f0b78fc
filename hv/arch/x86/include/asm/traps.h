/*
 * Trap and interrupt dispatch. Every vector enters through entry.S, which saves a struct
 * cpu_user_regs and calls do_trap(). do_trap() calls the handler registered for the vector, or,
 * for an exception with none (or an exception hv itself caused), fatal_trap(): the panic report.
 *
 * Handlers run with interrupts disabled (all gates are interrupt gates), on the stack the entry
 * used, with RFLAGS.AC clear and, for entries from ring 3, hv's GS base. A handler for a vector
 * that a guest can raise must check guest_mode(regs) and deal with hv-mode occurrences itself
 * (usually by calling fatal_trap()). Interrupt handlers (vectors >= 32) must apic_eoi().
 */
#ifndef ASM_TRAPS_H
#define ASM_TRAPS_H

#include <asm/regs.h>

#define X86_EXC_DE  0
#define X86_EXC_DB  1
#define X86_EXC_NMI 2
#define X86_EXC_BP  3
#define X86_EXC_OF  4
#define X86_EXC_BR  5
#define X86_EXC_UD  6
#define X86_EXC_NM  7
#define X86_EXC_DF  8
#define X86_EXC_TS  10
#define X86_EXC_NP  11
#define X86_EXC_SS  12
#define X86_EXC_GP  13
#define X86_EXC_PF  14
#define X86_EXC_MF  16
#define X86_EXC_AC  17
#define X86_EXC_MC  18
#define X86_EXC_XM  19
#define X86_EXC_VE  20
#define X86_EXC_CP  21

typedef void (*trap_handler_t)(struct cpu_user_regs *regs);

/* Registers @fn for @vector (replacing any previous handler). Boot-time, or before the vector
 * can fire. */
void set_trap_handler(unsigned int vector, trap_handler_t fn);

/* Called by entry.S for every vector. */
void do_trap(struct cpu_user_regs *regs);

/* The panic report for an exception in @regs; never returns. */
void fatal_trap(const struct cpu_user_regs *regs, const char *why) __noreturn;

/* "#PF" etc. for vectors 0..31, "IRQ" above. */
const char *exception_mnemonic(unsigned int vector);

#endif
