/*
 * Boot-time self-tests chosen on the command line with selftest=<name>. Each one deliberately
 * exercises a path that normal boots never take, so the system tests can observe it:
 *   fault  read the unmapped address 0xdead0000: the #PF panic report must follow.
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

void selftests_run(void)
{
	const char *which = cmdline_get("selftest");

	if (!which)
		return;
	if (strcmp(which, "fault") == 0)
		selftest_fault();
	else
		printk(KERN_WARN "selftest: unknown test '%s'\n", which);
}
