/*
 * Per-CPU data, arch-neutral view. The struct itself is in <asm/percpu.h>.
 * percpu_of[cpu] is valid for every CPU that was started (NULL otherwise); this_cpu() is valid
 * on every CPU from its first C instruction (the boot CPU: after percpu_init_boot_cpu()).
 */
#ifndef HV_PERCPU_H
#define HV_PERCPU_H

#include <asm/percpu.h>

extern struct percpu *percpu_of[NR_CPUS];

static inline unsigned int smp_processor_id(void)
{
	return this_cpu()->cpu_id;
}

/* Boot CPU: makes this_cpu() work (cpu 0's static area) before anything else runs. */
void percpu_init_boot_cpu(void);

#endif
