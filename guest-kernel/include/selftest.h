/*
 * Self-test framework, XTF style: each case is one small function that probes one thing and
 * reports through st_fail(); the runner prints exactly one line per case,
 *     selftest: <name>: PASS        or        selftest: <name>: FAIL (<detail>)
 * and finally "selftest: summary: N passed, M failed". A case that records no failure passes.
 */
#ifndef GK_SELFTEST_H
#define GK_SELFTEST_H

#include <klib/compiler.h>

/* Record a failure of the running case (the first detail is kept, later ones are counted). */
void st_fail(const char *fmt, ...) __printf(1, 2);

/* Number of failures recorded in the running case so far. */
unsigned int st_failures(void);

/* Check helpers: record a failure with the expression and values when the check does not hold. */
#define st_check(cond)                                                                             \
	do {                                                                                       \
		if (!(cond))                                                                       \
			st_fail("%s:%d: %s", __func__, __LINE__, #cond);                           \
	} while (0)

#define st_check_rc(expr, want)                                                                    \
	do {                                                                                       \
		long got_ = (long)(expr);                                                          \
		long want_ = (long)(want);                                                         \
		if (got_ != want_)                                                                 \
			st_fail("%s:%d: %s = %ld, expected %ld", __func__, __LINE__, #expr, got_,  \
			        want_);                                                            \
	} while (0)

/* Run every case of the platform; returns the number of failures. */
unsigned int selftest_run_all(void);

#endif
