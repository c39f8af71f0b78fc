/*
 * Self-tests of the test framework itself. If these fail, no other result can be trusted.
 */
#include <selftest.h>
#include "pv.h"

/*
 * Probes: the runner starts each case with no failure recorded, and checks that hold record
 * nothing. (That a failing check is recorded is visible in every FAIL line; the runner's
 * counting of those is what the summary line shows.)
 * Expected: zero failures before and after two passing checks on an opaque value.
 */
void st_framework_check(void)
{
	unsigned int before = st_failures();
	int really_false = 0;

	__asm__ __volatile__("" : "+r"(really_false)); /* the compiler must not know */
	if (before != 0)
		st_fail("case started with %u failures recorded", before);
	/* A check that holds records nothing. */
	st_check(really_false == 0);
	st_check_rc(really_false, 0);
	if (st_failures() != 0)
		st_fail("a passing check recorded a failure");
}

/*
 * Probes: an exception in kernel mode with an exception-table entry resumes at the fixup and is
 * recorded. ud2 raises #UD (vector 6) at its own address.
 * Expected: pv_last_trap shows vector 6 at the ud2, and execution continues after it.
 */
void st_framework_fixup(void)
{
	uint64_t count = pv_last_trap.count;
	unsigned long ud_rip;

	__asm__ __volatile__("lea 1f(%%rip), %0\n\t"
	                     "1: ud2\n\t"
	                     "2:\n\t" EXTABLE(1b, 2b)
	                     : "=r"(ud_rip));
	st_check(pv_last_trap.count == count + 1);
	st_check_rc(pv_last_trap.vector, 6);
	st_check(pv_last_trap.rip == ud_rip);
}

/*
 * Probes: NULL is not mapped in the kernel address space.
 * Expected: reading address 0 raises #PF (vector 14) with CR2 = 0 and an error code for a
 * kernel-mode read of a non-present page (0: P=0, W=0, U=0).
 */
void st_framework_null(void)
{
	uint64_t count = pv_last_trap.count;
	uint64_t value = 0x1234;

	__asm__ __volatile__("1: mov 0, %0\n\t"
	                     "2:\n\t" EXTABLE(1b, 2b)
	                     : "+r"(value));
	st_check(pv_last_trap.count == count + 1);
	st_check_rc(pv_last_trap.vector, 14);
	st_check_rc(pv_last_trap.cr2, 0);
	st_check_rc(pv_last_trap.error_code, 0);
	st_check(value == 0x1234);
}

/*
 * Probes: the user-mode harness: HYPERVISOR_iret to CS 0xe033 with RPL 3 enters user mode on the
 * user L4, and a `syscall` from there reaches the syscall callback in kernel mode.
 * Expected: the user program reports a CS with RPL 3 through SYS_exit, one system call served.
 */
void st_framework_user_mode(void)
{
	struct user_result r;

	pv_user_run((unsigned long)(user_prog_cs - user_code_start), 0, &r);
	st_check(!r.faulted);
	st_check_rc(r.value & 3, 3);
	st_check_rc(r.value, FLAT_USER_CS);
	st_check_rc(r.syscalls, 1);
}
