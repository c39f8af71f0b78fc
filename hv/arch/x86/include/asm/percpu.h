/*
 * Per-CPU data. Every CPU has one struct percpu; its GS base (MSR_GS_BASE) points to it while hv
 * runs, and its first field points to itself, so `mov %gs:0, reg` yields the struct.
 *
 * Entry from ring 3 (a PV guest) arrives with the guest's GS base loaded; entry code must swapgs
 * before touching %gs and swapgs back before returning (entry.S does it for traps and interrupts
 * from the saved CS; NMI/#MC/#DF check MSR_GS_BASE because they can hit anywhere). The PV layer
 * keeps the guest's GS base in MSR_KERNEL_GS_BASE while hv runs.
 *
 * The fields at fixed offsets (PERCPU_*) are used by assembly; do not move them.
 * Only the owning CPU writes its struct, except `online`, which the boot CPU reads.
 */
#ifndef ASM_PERCPU_H
#define ASM_PERCPU_H

#include <hv/layout.h>
#include <asm/desc.h>

#define PERCPU_self        0
#define PERCPU_cpu_id      8
#define PERCPU_stack_top   16
#define PERCPU_scratch_rsp 24
#define PERCPU_curr_vcpu   32

#ifndef __ASSEMBLER__
#include <klib/compiler.h>

struct vcpu;

struct percpu {
	/* The reserved GDT page (see asm/desc.h); first so that it is page-aligned. */
	uint64_t gdt[PAGE_SIZE / 8];

	struct percpu *self; /* PERCPU_self (offset 0 from GS is this field: see below) */
	unsigned int cpu_id; /* dense, 0 = boot CPU */
	uint32_t apic_id;
	uint64_t stack_top;     /* top of the primary stack; TSS rsp0 while idle */
	uint64_t scratch_rsp;   /* scratch for entry code (e.g. the guest rsp on SYSCALL) */
	struct vcpu *curr_vcpu; /* the vcpu running here, NULL when idle (PV layer) */
	volatile bool resched;  /* a scheduling decision is due here (hv/common/schedule.c) */

	struct tss64 tss;            /* rsp0 and the IST stacks */
	uint64_t ist_stacks_base;    /* NR_IST stacks of IST_STACK_SIZE each */
	volatile bool online;        /* set by the CPU itself once it idles */
	volatile uint64_t ticks;     /* local APIC timer interrupts taken */
	uint32_t apic_timer_initial; /* initial count for the periodic tick */
};

/* GS base points at pc->self, not at the start of the struct: offsets PERCPU_* count from
 * there. */
#define PERCPU_GS_OFFSET (PAGE_SIZE)

static inline struct percpu *this_cpu(void)
{
	struct percpu *pc;

	__asm__("mov %%gs:0, %0" : "=r"(pc));
	return pc;
}

/* The GS-base value for @pc. */
static inline unsigned long percpu_gs_base(struct percpu *pc)
{
	return (unsigned long)&pc->self;
}

/* Fills @pc's identity and stacks and records it in percpu_of[@cpu]. */
void percpu_setup(struct percpu *pc, unsigned int cpu, uint64_t stack_top, uint64_t ist_base);
#endif

#endif
