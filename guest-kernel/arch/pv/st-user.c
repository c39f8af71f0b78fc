/*
 * Self-tests of guest user mode: system-call round trips through the syscall callback and
 * HYPERVISOR_iret with VGCF_in_syscall, user page faults, and isolation of the kernel's
 * address space from user mode (separate user L4).
 */
#include "st.h"

static unsigned long prog(const char *entry)
{
	return (unsigned long)(entry - user_code_start);
}

/*
 * Probes: user code does SYS_add(rdi, 0x1000) and then SYS_exit(result). RDI at entry is the
 * user entry address. Expected: two system calls served, no fault, exit value = entry +
 * 0x1000, CS in the syscall frame has RPL 3.
 */
void st_user_syscall(void)
{
	struct user_result r;

	pv_user_run(prog(user_prog_syscall), 0, &r);
	st_check(!r.faulted);
	st_check_rc(r.syscalls, 2);
	st_check(r.value == USER_CODE_VA + prog(user_prog_syscall) + 0x1000);
	st_check_rc(r.user_cs & 3, 3);
}

/*
 * Probes: a user read of an unmapped user address. Expected: #PF delivered in kernel mode with
 * CR2 = 0x7000 and the U/S bit set in the error code (fault came from user mode), P clear.
 */
void st_user_page_fault(void)
{
	struct user_result r;

	pv_user_run(prog(user_prog_fault), 0, &r);
	st_check(r.faulted);
	st_check_rc(r.vector, 14);
	st_check_rc(r.cr2, 0x7000);
	st_check_rc(r.error & 5, 4);
}

/*
 * Probes: user mode cannot see the kernel: the kernel image is not mapped in the user L4.
 * Expected: #PF with CR2 = the kernel's base address, U/S set.
 */
void st_user_kernel_isolated(void)
{
	struct user_result r;

	pv_user_run(prog(user_prog_read_kernel), 0, &r);
	st_check(r.faulted);
	st_check_rc(r.vector, 14);
	st_check(r.cr2 == KERNEL_VIRT_BASE);
	st_check_rc(r.error & 4, 4);
}

/*
 * Probes: after repeated user runs the kernel still handles events and its own exceptions.
 * Expected: 20 round trips, all clean.
 */
void st_user_repeat(void)
{
	struct user_result r;

	for (int i = 0; i < 20; i++) {
		pv_user_run(prog(user_prog_syscall), 0, &r);
		if (r.faulted || r.syscalls != 2) {
			st_fail("run %d: faulted %d syscalls %llu", i, r.faulted,
			        (unsigned long long)r.syscalls);
			return;
		}
	}
}
