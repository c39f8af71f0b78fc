/*
 * Local APIC (xAPIC, memory-mapped) of each CPU: identification, end of interrupt, the
 * periodic timer, and the INIT/SIPI inter-processor interrupts used to start CPUs.
 */
#ifndef ASM_APIC_H
#define ASM_APIC_H

#include <klib/compiler.h>

#define APIC_TIMER_VECTOR    0xf0
#define SCHED_IPI_VECTOR     0xf1 /* scheduler kicks and TLB-flush requests */
#define APIC_ERROR_VECTOR    0xfe
#define APIC_SPURIOUS_VECTOR 0xff

/* Timer tick rate on every CPU. */
#define HV_TICK_HZ 100

/* Maps the APIC and enables it on the boot CPU (needs paging_init). */
void apic_init(void);
/* Enables this CPU's APIC (every CPU, with interrupts disabled). */
void apic_setup_local(void);
uint32_t apic_id(void);
void apic_eoi(void);

/* Calibrates the timer against the TSC (boot CPU, after time_init) then starts the tick. */
void apic_timer_calibrate(void);
/* Starts this CPU's periodic tick at HV_TICK_HZ (every CPU, after apic_timer_calibrate). */
void apic_timer_start(void);

/* One-shot timer interrupt after @ns ns on this CPU (replaces the periodic tick). */
void apic_timer_oneshot_ns(uint64_t ns);
/* Fixed-vector interrupt @vector to the CPU with local APIC id @dest. */
void apic_send_ipi_vector(uint32_t dest, uint8_t vector);

/* Sends an NMI to every CPU but this one (the panic path uses it to stop them). Any context. */
void apic_nmi_all_but_self(void);

/* INIT then two STARTUPs at @start_page (physical address >> 12, below 1 MiB) to @apic_id;
 * returns false when the APIC never accepted the IPIs. */
bool apic_wakeup_cpu(uint32_t apic_id, unsigned int start_page);

#endif
