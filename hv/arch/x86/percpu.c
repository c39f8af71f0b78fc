/*
 * Per-CPU areas (see asm/percpu.h). The boot CPU's area, stack and IST stacks are static (they
 * are needed before the allocator exists); other CPUs get theirs from the frame allocator in
 * smpboot.c. percpu_of[] is written by the boot CPU before it starts the CPU concerned.
 */
#include <hv/lib.h>
#include <hv/percpu.h>
#include <asm/processor.h>

BUILD_BUG_ON(offsetof(struct percpu, cpu_id) - offsetof(struct percpu, self) != PERCPU_cpu_id);
BUILD_BUG_ON(offsetof(struct percpu, stack_top) - offsetof(struct percpu, self) !=
             PERCPU_stack_top);
BUILD_BUG_ON(offsetof(struct percpu, scratch_rsp) - offsetof(struct percpu, self) !=
             PERCPU_scratch_rsp);
BUILD_BUG_ON(offsetof(struct percpu, curr_vcpu) - offsetof(struct percpu, self) !=
             PERCPU_curr_vcpu);
BUILD_BUG_ON(offsetof(struct percpu, self) != PERCPU_GS_OFFSET);

struct percpu *percpu_of[NR_CPUS];

static struct percpu boot_percpu __aligned(PAGE_SIZE);
static uint8_t boot_ist_stacks[NR_IST * IST_STACK_SIZE] __aligned(PAGE_SIZE);
extern uint8_t boot_stack_top[];

/* Fills the fields every CPU needs before its first C call that may print or fault. */
void percpu_setup(struct percpu *pc, unsigned int cpu, uint64_t stack_top, uint64_t ist_base)
{
	pc->self = pc;
	pc->cpu_id = cpu;
	pc->stack_top = stack_top;
	pc->ist_stacks_base = ist_base;
	percpu_of[cpu] = pc;
}

void percpu_init_boot_cpu(void)
{
	percpu_setup(&boot_percpu, 0, (uint64_t)boot_stack_top, (uint64_t)boot_ist_stacks);
	wrmsr(MSR_GS_BASE, percpu_gs_base(&boot_percpu));
}
