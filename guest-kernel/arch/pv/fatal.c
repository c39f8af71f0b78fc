/*
 * Deliberately fatal actions (command line fatal=<name>). Each must make the hypervisor crash
 * this domain (it cannot deliver an exception or return as asked) and carry on itself; if the
 * kernel is still running afterwards, kernel_main reports it and shuts down with "crash".
 * The hypervisor-side tests run every case in this table.
 */
#include <kernel.h>
#include "pv.h"

/* An exception with no handler in the virtual IDT: clear the trap table, then ud2. */
static void fatal_no_handler(void)
{
	HYPERVISOR_set_trap_table(NULL);
	__asm__ __volatile__("ud2");
}

/* A user-mode system call when the registered kernel stack is not canonical: the hypervisor
 * cannot write the bounce frame. */
static void fatal_bad_kernel_stack(void)
{
	struct user_result r;

	HYPERVISOR_stack_switch(FLAT_KERNEL_SS, 0x8000000000000000UL);
	pv_user_run((unsigned long)(user_prog_syscall - user_code_start), 0, &r);
}

/* The same with a canonical but unmapped kernel stack. */
static void fatal_unmapped_kernel_stack(void)
{
	struct user_result r;

	HYPERVISOR_stack_switch(FLAT_KERNEL_SS, PV_SCRATCH_BASE + 0x100000UL);
	pv_user_run((unsigned long)(user_prog_syscall - user_code_start), 0, &r);
}

/* A kernel-mode fault while RSP points at unmapped memory: the #PF frame cannot be pushed. */
static void fatal_fault_on_unmapped_stack(void)
{
	__asm__ __volatile__("mov %0, %%rsp\n\t"
	                     "ud2" ::"r"(PV_SCRATCH_BASE + 0x100000UL));
}

/* A push with a non-canonical RSP (XTF's crash): #SS/#GP whose frame cannot be pushed. */
static void fatal_noncanonical_rsp_push(void)
{
	__asm__ __volatile__("mov %0, %%rsp\n\t"
	                     "push %%rax" ::"r"(0x8000000000000000UL));
}

/*
 * A page fault whose handler itself faults: the #PF entry points at an unmapped address, so
 * every delivery faults again and pushes another frame. The stack is one mapped scratch page
 * with nothing mapped below it, so after some 60 nested faults the hypervisor cannot write the
 * next frame.
 */
static void fatal_pf_in_pf_handler(void)
{
	static struct trap_info table[2] = {
	    {.vector = 14,
	     .flags = 4,
	     .cs = FLAT_KERNEL_CS,
	     .address = PV_SCRATCH_BASE + 0x100000UL},
	    {0},
	};
	static uint8_t stack_page[4096] __aligned(4096);
	unsigned long stack_va = PV_SCRATCH_BASE + 0x1f0000UL;

	if (HYPERVISOR_update_va_mapping(stack_va, pv_virt_to_maddr(stack_page) | L1_PROT,
	                                 UVMF_INVLPG))
		return;
	HYPERVISOR_set_trap_table(table); /* replaces vector 14 only */
	__asm__ __volatile__("mov %0, %%rsp\n\t"
	                     "mov (%1), %%rax" ::"r"(stack_va + 4096),
	                     "r"(PV_SCRATCH_BASE + 0x100000UL)
	                     : "rax");
}

/* HYPERVISOR_iret to user mode with no user L4 installed. */
static void fatal_iret_to_user_without_user_l4(void)
{
	struct mmuext_op op = {.cmd = MMUEXT_NEW_USER_BASEPTR, .arg1.mfn = 0};
	struct user_result r;

	HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF);
	pv_user_run((unsigned long)(user_prog_syscall - user_code_start), 0, &r);
}

const struct fatal_case pv_fatal_cases[] = {
    {"no_handler", "ud2 with an empty trap table", fatal_no_handler},
    {"bad_kernel_stack", "user syscall with a non-canonical kernel stack", fatal_bad_kernel_stack},
    {"unmapped_kernel_stack", "user syscall with an unmapped kernel stack",
     fatal_unmapped_kernel_stack},
    {"fault_on_unmapped_stack", "kernel fault with RSP on an unmapped page",
     fatal_fault_on_unmapped_stack},
    {"noncanonical_rsp_push", "push with a non-canonical RSP", fatal_noncanonical_rsp_push},
    {"pf_in_pf_handler", "page fault with an unmapped page-fault handler", fatal_pf_in_pf_handler},
    {"iret_to_user_without_user_l4", "HYPERVISOR_iret to user mode with no user L4",
     fatal_iret_to_user_without_user_l4},
};
const size_t pv_nr_fatal_cases = ARRAY_SIZE(pv_fatal_cases);
