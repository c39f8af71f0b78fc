/*
 * Ending the run: machine_exit() for on_idle=exit / on_panic=exit, machine_halt() otherwise.
 */
#include <hv/lib.h>
#include <hv/arch.h>
#include <hv/acpi.h>
#include <asm/apic.h>
#include <asm/processor.h>

/* QEMU's isa-debug-exit device (iobase 0xf4): writing v exits QEMU with status (v << 1) | 1. */
#define DEBUG_EXIT_PORT 0xf4

void machine_exit(int code)
{
	local_irq_disable();
	outl(DEBUG_EXIT_PORT, (uint32_t)code);
	/* Still here: no such device. Try ACPI S5, then give up and stop. */
	acpi_poweroff();
	machine_halt();
}

void machine_halt(void)
{
	local_irq_disable();
	for (;;)
		halt();
}

void arch_stop_other_cpus(void)
{
	apic_nmi_all_but_self();
}
