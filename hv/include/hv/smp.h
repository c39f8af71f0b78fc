/*
 * Multiprocessor start-up and the per-CPU idle loop.
 */
#ifndef HV_SMP_H
#define HV_SMP_H

#include <klib/compiler.h>

/* Number of CPUs that reached idle (including the boot CPU). */
extern volatile unsigned int nr_cpus_online;

/* Boot CPU: starts every enabled CPU of the MADT with INIT-SIPI-SIPI and waits for each to
 * come online (or time out). Prints "smp: K of N CPUs online". */
void smp_boot_cpus(void);

/* Boot CPU: waits (at most half a second) until every online CPU has taken at least one
 * timer tick, i.e. idles woken by its own timer. Warns about CPUs that do not. */
void smp_wait_for_ticks(void);

/* Every CPU ends here: halts until an interrupt, forever. */
void idle_loop(void) __noreturn;

#endif
