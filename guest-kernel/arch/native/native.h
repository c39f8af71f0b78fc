/*
 * Shared by the native platform's files (native.c, apic.c): port I/O, MSRs, and the
 * interrupt-controller and ACPI interface apic.c gives native.c.
 */
#ifndef GK_NATIVE_H
#define GK_NATIVE_H

#include <klib/compiler.h>

#define NATIVE_PHYS_BASE 0x200000UL /* where the image is loaded (head.S PHYS_BASE) */

/* Vectors: exceptions 0-31, the 8259's IRQs 32-47 (masked; only spurious ones come), the
 * local APIC timer, COM1 through the IOAPIC, the local APIC's spurious vector. */
#define VEC_PIC_BASE      32
#define VEC_APIC_TIMER    48
#define VEC_COM1          49
#define VEC_APIC_SPURIOUS 63
#define NATIVE_NR_VECTORS 64

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ __volatile__("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ __volatile__("outw %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ __volatile__("outl %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ __volatile__("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

/* apic.c. acpi_scan runs while low memory is still identity-mapped (before native_start drops
 * that map); the rest after. */
void native_acpi_scan(void);
void native_apic_map(uint64_t *kernel_l4);
/* Local APIC on, its timer calibrated against the TSC (tsc_khz); returns the timer's kHz. */
uint64_t native_lapic_init(uint64_t tsc_khz);
void native_lapic_oneshot(uint64_t count);
void native_lapic_eoi(void);
/* Routes ISA IRQ 4 (COM1) to VEC_COM1 through the IOAPIC; false without an IOAPIC. */
bool native_ioapic_route_com1(void);
/* Enters ACPI S5 through the FADT's PM1a control register; returns if that is impossible. */
void native_acpi_poweroff(void);

#endif
