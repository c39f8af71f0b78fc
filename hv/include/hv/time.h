/*
 * Time: the TSC, calibrated once on the boot CPU against the PIT (channel 2). All CPUs are
 * assumed to share one TSC frequency (invariant TSC, as on every CPU QEMU models).
 */
#ifndef HV_TIME_H
#define HV_TIME_H

#include <klib/compiler.h>

/* TSC ticks per millisecond (kHz), valid after time_init(). */
extern uint64_t tsc_khz;
/* TSC value read by the very first instruction of hv (boot.S). */
extern uint64_t boot_tsc;

/* Calibrates the TSC; prints "tsc: <MHz>". Boot CPU, interrupts off. */
void time_init(void);

/* Microseconds elapsed since @tsc_start (a TSC value) on this CPU. */
uint64_t tsc_elapsed_us(uint64_t tsc_start);

/* Busy-waits @us microseconds (needs time_init). */
void udelay(uint64_t us);

#endif
