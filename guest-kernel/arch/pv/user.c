/*
 * Guest user mode on the PV platform. User space has its own L4 (installed with
 * MMUEXT_NEW_USER_BASEPTR) mapping only a code page and a stack page at USER_CODE_VA; the
 * kernel's mappings are not in it, since kernel and user both run in ring 3 and only the L4
 * switch the hypervisor does on every kernel<->user transition separates them.
 *
 * A run: pv_user_run saves the kernel context and HYPERVISOR_irets to user mode (CS RPL 3).
 * User code reaches the kernel through `syscall` (the syscall callback, entered on the stack
 * given to stack_switch) and returns with HYPERVISOR_iret + VGCF_in_syscall. SYS_exit or an
 * exception ends the run and resumes the saved kernel context.
 */
#include <kernel.h>
#include <mm.h>
#include <klib/string.h>
#include "pv.h"

uint64_t *pv_user_l4;
static uint64_t *user_l3, *user_l2, *user_l1;
static void *user_code, *user_stack;
static struct kctx user_kctx;
static struct user_result *current_run;

#define USER_PROT (L1_PROT | XEN_PTE_USER)

long pv_user_init(void)
{
	long rc;

	pv_user_l4 = alloc_page();
	user_l3 = alloc_page();
	user_l2 = alloc_page();
	user_l1 = alloc_page();
	user_code = alloc_page();
	user_stack = alloc_page();
	if (!user_stack)
		return -XEN_ENOMEM;

	memcpy(user_code, user_code_start, (size_t)(user_code_end - user_code_start));
	pv_user_l4[(USER_CODE_VA >> 39) & 511] = pv_virt_to_maddr(user_l3) | TABLE_PROT;
	user_l3[(USER_CODE_VA >> 30) & 511] = pv_virt_to_maddr(user_l2) | TABLE_PROT;
	user_l2[(USER_CODE_VA >> 21) & 511] = pv_virt_to_maddr(user_l1) | TABLE_PROT;
	user_l1[(USER_CODE_VA >> 12) & 511] = pv_virt_to_maddr(user_code) | USER_PROT;
	user_l1[((USER_STACK_TOP >> 12) - 1) & 511] = pv_virt_to_maddr(user_stack) | USER_PROT;

	void *tables[] = {pv_user_l4, user_l3, user_l2, user_l1};
	for (size_t i = 0; i < ARRAY_SIZE(tables); i++)
		if ((rc = pv_set_page_ro(tables[i])))
			return rc;
	if ((rc = pv_pin(4, pv_user_l4)))
		return rc;
	struct mmuext_op op = {.cmd = MMUEXT_NEW_USER_BASEPTR,
	                       .arg1.mfn = pv_virt_to_mfn(pv_user_l4)};
	return HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

bool pv_user_run_active(void)
{
	return current_run != NULL;
}

void pv_user_run(unsigned long entry, uint64_t arg, struct user_result *res)
{
	memset(res, 0, sizeof(*res));
	unsigned long flags = pv_irq_save();
	current_run = res;
	pv_user_enter_asm(USER_CODE_VA + entry, USER_STACK_TOP, &user_kctx);
	current_run = NULL;
	pv_irq_restore(flags);
}

void pv_user_syscall(struct trap_frame *f)
{
	struct user_result *res = current_run;

	if (!res)
		panic("user syscall with no user run active (rip %#llx)",
		      (unsigned long long)f->rip);
	res->syscalls++;
	res->user_cs = f->cs;
	switch (f->rax) {
	case SYS_exit:
		res->faulted = 0;
		res->value = f->rdi;
		pv_user_exit_asm(&user_kctx);
	case SYS_add:
		f->rax = f->rdi + f->rsi;
		break;
	default:
		f->rax = (uint64_t)-XEN_ENOSYS;
		break;
	}
	f->iret_flags = VGCF_in_syscall;
}

__noreturn void pv_user_fault(struct trap_frame *f)
{
	struct user_result *res = current_run;

	if (!res)
		panic("exception %llu in user mode with no user run active",
		      (unsigned long long)f->vector);
	res->faulted = 1;
	res->vector = f->vector;
	res->error = f->error_code;
	res->cr2 = pv_last_trap.cr2;
	pv_user_exit_asm(&user_kctx);
}
