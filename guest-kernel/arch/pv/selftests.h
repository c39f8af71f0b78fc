/*
 * Every PV self-test case: X(name, function). The functions live in st-*.c, grouped by topic.
 */
#ifndef GK_PV_SELFTESTS_H
#define GK_PV_SELFTESTS_H

#define PV_SELFTEST_LIST(X)                                                                        \
	X("framework_check_records_failure", st_framework_check)                                   \
	X("framework_exception_fixup", st_framework_fixup)                                         \
	X("framework_null_unmapped", st_framework_null)

#define DECLARE(name, fn) void fn(void);
PV_SELFTEST_LIST(DECLARE)
#undef DECLARE

#endif
