/*
 * Boot-time self-tests chosen on the command line with selftest=<name>. Each one deliberately
 * exercises a path that normal boots never take, so the system tests can observe it:
 *   fault  read the unmapped address 0xdead0000: the #PF panic report must follow.
 *   df     breakpoint with the stack pointer on an unmapped page: delivering the #BP faults,
 *          delivering that #PF faults again, and the CPU raises #DF, which must be reported
 *          from its IST stack (vector 8).
 */
#include <hv/lib.h>
#include <hv/cmdline.h>

void selftests_run(void);

static void selftest_fault(void)
{
	volatile const uint32_t *p = (const uint32_t *)0xdead0000UL;

	printk("selftest: reading unmapped address %p\n", (const void *)p);
	(void)*p;
	panic("selftest: reading 0xdead0000 did not fault");
}

static void selftest_double_fault(void)
{
	printk("selftest: breakpoint on an unmapped stack\n");
	__asm__ __volatile__("movabs $0xdead0000, %%rsp\n\t"
	                     "int3" ::
	                         : "memory");
	panic("selftest: no double fault");
}

void selftests_run(void)
{
	const char *which = cmdline_get("selftest");

	if (!which)
		return;
	if (strcmp(which, "fault") == 0)
		selftest_fault();
	else if (strcmp(which, "df") == 0)
		selftest_double_fault();
	else
		printk(KERN_WARN "selftest: unknown test '%s'\n", which);
}
