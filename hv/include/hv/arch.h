/*
 * The architecture hooks that common code (main.c, panic.c, ...) calls. hv/arch/x86 implements
 * them. Each comment is the contract: who calls it, when, and what holds afterwards.
 */
#ifndef HV_ARCH_H
#define HV_ARCH_H

#include <klib/compiler.h>

struct cpu_user_regs;

/*
 * Boot CPU, first thing after the command line is known: reads CPUID into cpu_features and
 * turns on what hv relies on for this CPU: CR0.WP, EFER.NXE, CR4.PGE, CR4.SMEP and CR4.SMAP
 * when present. Afterwards stac()/clac() work.
 */
void cpu_features_init(void);

/* Every other CPU, early in its start-up: the same control-register settings as the boot CPU
 * (cpu_features is already filled). */
void cpu_features_apply(void);

/*
 * Boot CPU, before anything can fault usefully: builds the shared IDT (a gate for all 256
 * vectors; NMI, #DF and #MC on IST stacks) and loads cpu 0's GDT and TSS. Afterwards every
 * exception produces a panic report instead of a triple fault.
 */
void traps_init(void);

/*
 * Boot CPU, after mm_init(): builds hv's final page tables (idle_pg_table): the image mapped
 * with W^X at 4 KiB granularity, the direct map of all machine memory (1 GiB pages when the CPU
 * has them, else 2 MiB), no low identity map. Afterwards ioremap() works.
 */
void paging_init(void);

/*
 * Ends the run with status @code (on_idle=exit, on_panic=exit): QEMU's isa-debug-exit port
 * first, then ACPI S5, then halts this CPU forever. Any CPU, any context.
 */
void machine_exit(int code) __noreturn;

/*
 * The console device (COM1 on x86). arch_console_init() is called once by console_init() on the
 * boot CPU; arch_console_write() is called with the console lock held (or by the panic path
 * without it) and must work from any context, interrupts on or off.
 */
void arch_console_init(void);
void arch_console_write(const char *s, size_t len);

/*
 * Stops every other CPU (the panic path, before it prints): they take an NMI and halt without
 * printing anything, because a panic is already in progress. Any context, interrupts off.
 */
void arch_stop_other_cpus(void);

/* Stops this CPU for good (interrupts off, hlt in a loop). */
void machine_halt(void) __noreturn;

/*
 * Prints the register dump and frame-pointer backtrace of @regs (or of the caller when @regs is
 * NULL), in the console format of the panic report. Used by the panic path only.
 */
void arch_show_state(const struct cpu_user_regs *regs);

#endif
