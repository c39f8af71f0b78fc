/*
 * The one interface between platform-independent kernel code and a platform, in the manner of
 * Linux's pv-ops: a table of operations the platform fills in before calling kernel_main().
 * Today there is one platform, "xen-pv" (arch/pv: the Xen PV ABI, on Xen or hv); a native
 * platform (booted by multiboot on the bare machine) will fill in the same table.
 *
 * Contract: every operation may be called with events/interrupts masked or unmasked unless
 * stated; none may be called before the platform set `platform`.
 */
#ifndef GK_PLATFORM_H
#define GK_PLATFORM_H

#include <klib/compiler.h>

/* Shutdown reasons (numerically the Xen SHUTDOWN_* values, which the PV platform passes on). */
#define PLATFORM_POWEROFF 0
#define PLATFORM_REBOOT   1
#define PLATFORM_CRASH    3

/* One self-test case: a name printed in the result line and the function that runs it. */
struct selftest_case {
	const char *name;
	void (*run)(void);
};

/* One deliberately fatal action (the hypervisor must kill the domain and survive). */
struct fatal_case {
	const char *name;
	const char *what;
	void (*run)(void);
};

struct platform_ops {
	const char *name;
	/* Write len bytes to the console. */
	void (*console_write)(const char *s, size_t len);
	/* Monotonic nanoseconds since an arbitrary epoch (the hypervisor's boot). */
	uint64_t (*time_ns)(void);
	/* Wall-clock time in nanoseconds since 1970 (0 if unknown). */
	uint64_t (*wallclock_ns)(void);
	/* Arm the one-shot timer for an absolute time_ns() deadline; kernel_timer_tick() follows.
	 */
	void (*timer_set)(uint64_t deadline_ns);
	/* Mask and unmask interrupts/events; irq_save returns the previous state for irq_restore.
	 */
	unsigned long (*irq_save)(void);
	void (*irq_restore)(unsigned long flags);
	/* Enable events and sleep until one has been handled; returns with events masked. */
	void (*idle)(void);
	/* Stop the machine or domain with a PLATFORM_* reason. */
	__noreturn void (*shutdown)(int reason);
	/* The kernel command line. */
	const char *cmdline;
	/* Self-tests and fatal cases of this platform. */
	const struct selftest_case *selftests;
	size_t nr_selftests;
	const struct fatal_case *fatal_cases;
	size_t nr_fatal_cases;
};

extern const struct platform_ops *platform;

#endif
