/*
 * hv's boot sequence: boot.S calls start_hv() on the boot CPU with the multiboot magic and
 * information block. Each step needs only the steps above it.
 */
#include <hv/lib.h>
#include <hv/acpi.h>
#include <hv/arch.h>
#include <hv/bootinfo.h>
#include <hv/cmdline.h>
#include <hv/mm.h>
#include <hv/percpu.h>
#include <hv/pv.h>
#include <hv/smp.h>
#include <hv/time.h>
#include <asm/apic.h>

/* The package version from configure (AC_INIT), passed in DEFS. */
#ifdef PACKAGE_VERSION
#define HV_VERSION PACKAGE_VERSION
#else
#define HV_VERSION "unknown"
#endif

void start_hv(unsigned long mb_magic, unsigned long mb_info);
void selftests_run(void);

void start_hv(unsigned long mb_magic, unsigned long mb_info)
{
	percpu_init_boot_cpu();            /* cpu 0's per-CPU area: smp_processor_id() works */
	boot_info_init(mb_magic, mb_info); /* command line, memory map, modules, RSDP */
	cmdline_init(boot_info.cmdline);   /* key=value options */
	console_init();                    /* COM1 unless console=none */
	printk("hv: hv " HV_VERSION " x86-64 starting\n");
	printk("hv: command line: %s\n", cmdline_raw());
	boot_info_print();      /* loader, memory map, modules */
	cpu_features_init();    /* CR0.WP, EFER.NXE, CR4.PGE/SMEP/SMAP */
	traps_init();           /* IDT, cpu 0's GDT and TSS */
	mm_init();              /* frame table, buddy allocator over all RAM */
	paging_init();          /* direct map of all RAM, image W^X, no low map */
	acpi_init();            /* CPUs from the MADT, poweroff from the FADT */
	apic_init();            /* this CPU's local APIC */
	time_init();            /* TSC calibrated on the PIT */
	apic_timer_calibrate(); /* APIC timer against the TSC */
	apic_timer_start();     /* periodic tick on this CPU */
	smp_boot_cpus();        /* INIT-SIPI-SIPI every other CPU */
	printk("hv: idle at %lu us\n", (unsigned long)tsc_elapsed_us(boot_tsc));
	selftests_run(); /* selftest=... */
	pv_start();      /* PV core; builds and runs dom0 from boot module 0 if any */
	if (cmdline_is("on_idle", "exit")) {
		smp_wait_for_ticks();
		printk("hv: exit 0\n");
		machine_exit(0);
	}
	idle_loop();
}
