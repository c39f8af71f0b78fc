/*
 * Self-test runner. Runs the platform's cases in table order, one result line each, then the
 * summary. Each case starts with a clean failure record; st_fail() keeps the first detail.
 */
#include <kernel.h>
#include <platform.h>
#include <selftest.h>
#include <klib/printf.h>

static char first_detail[200];
static unsigned int case_failures;

void st_fail(const char *fmt, ...)
{
	va_list ap;

	if (case_failures++ == 0) {
		va_start(ap, fmt);
		vsnprintf(first_detail, sizeof(first_detail), fmt, ap);
		va_end(ap);
	}
}

unsigned int st_failures(void)
{
	return case_failures;
}

unsigned int selftest_run_all(void)
{
	unsigned int passed = 0, failed = 0;

	for (size_t i = 0; i < platform->nr_selftests; i++) {
		const struct selftest_case *c = &platform->selftests[i];

		case_failures = 0;
		first_detail[0] = '\0';
		c->run();
		if (case_failures == 0) {
			printk("selftest: %s: PASS\n", c->name);
			passed++;
		} else if (case_failures == 1) {
			printk("selftest: %s: FAIL (%s)\n", c->name, first_detail);
			failed++;
		} else {
			printk("selftest: %s: FAIL (%s; and %u more)\n", c->name, first_detail,
			       case_failures - 1);
			failed++;
		}
	}
	printk("selftest: summary: %u passed, %u failed\n", passed, failed);
	return failed;
}
