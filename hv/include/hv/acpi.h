/*
 * ACPI: the few tables hv reads. RSDP (from the loader or the BIOS area) → RSDT/XSDT →
 * MADT (the CPUs: local APIC ids, enabled flags) and FADT (PM1 control ports for poweroff).
 * Tables are read through the direct map and copied out; nothing keeps pointers into them.
 */
#ifndef HV_ACPI_H
#define HV_ACPI_H

#include <klib/compiler.h>
#include <hv/layout.h>

struct acpi_cpu {
	uint32_t apic_id;
	bool enabled;
};

extern struct acpi_cpu acpi_cpus[NR_CPUS];
extern unsigned int acpi_nr_cpus; /* entries in acpi_cpus (enabled or not) */
extern uint64_t acpi_lapic_base;  /* local APIC physical base from the MADT */

/* Finds and parses the tables; prints "acpi: N CPUs in MADT". Without ACPI hv runs on the boot
 * CPU alone. */
void acpi_init(void);

/* Enters S5 through the FADT's PM1 control registers; returns only when that is impossible. */
void acpi_poweroff(void);

#endif
