/*
 * Exceptions of the PV kernel: the virtual IDT handed to the hypervisor (set_trap_table), the
 * callbacks (event, failsafe, syscall) and the C side of every entry.
 *
 * Policy for an exception in kernel mode: record it in pv_last_trap, then resume at the fixup
 * of the faulting instruction if the exception table has one (self-tests probe with these);
 * otherwise it is a kernel bug and we panic. An exception in user mode ends the user run.
 */
#include <kernel.h>
#include <public/callback.h>
#include "pv.h"

volatile struct trap_record pv_last_trap;

extern const uint64_t __start_ex_table[], __stop_ex_table[];

static uint64_t fixup_for(uint64_t rip)
{
	for (const uint64_t *p = __start_ex_table; p < __stop_ex_table; p += 2)
		if (p[0] == rip)
			return p[1];
	return 0;
}

/* Trap table: all 32 exception vectors; events masked on entry (flag 4) as with an interrupt
 * gate. int3 and into may be raised from any mode (DPL 3). */
static struct trap_info trap_table[33];

void pv_trap_table_install(void)
{
	long rc = HYPERVISOR_set_trap_table(trap_table);
	if (rc)
		panic("set_trap_table failed: %ld", rc);
}

void pv_traps_init(void)
{
	for (unsigned int v = 0; v < 32; v++) {
		trap_table[v].vector = (uint8_t)v;
		trap_table[v].flags = (uint8_t)(4 | ((v == 3 || v == 4) ? 3 : 0));
		trap_table[v].cs = FLAT_KERNEL_CS;
		trap_table[v].address = pv_exception_entries[v];
	}
	trap_table[32].address = 0; /* terminator */
	pv_trap_table_install();

	struct callback_register cb[] = {
	    {.type = CALLBACKTYPE_event, .address = (uint64_t)pv_event_entry},
	    {.type = CALLBACKTYPE_failsafe,
	     .flags = CALLBACKF_mask_events,
	     .address = (uint64_t)pv_failsafe_entry},
	    {.type = CALLBACKTYPE_syscall,
	     .flags = CALLBACKF_mask_events,
	     .address = (uint64_t)pv_syscall_entry},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cb); i++) {
		long rc = HYPERVISOR_callback_op(CALLBACKOP_register, &cb[i]);
		if (rc)
			panic("callback_op(register, type %u) failed: %ld", cb[i].type, rc);
	}

	long rc = HYPERVISOR_stack_switch(FLAT_KERNEL_SS, (unsigned long)pv_kernel_stack_top);
	if (rc)
		panic("stack_switch failed: %ld", rc);
}

static const char *const vector_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#09", "#TS",
    "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

void pv_trap_dispatch(struct trap_frame *f)
{
	/* Processes (kernel/proc.c) own user mode unless a self-test run is using it. */
	bool process = (f->cs & 3) == 3 && !pv_user_run_active();

	switch (f->vector) {
	case VEC_EVENT:
		pv_evtchn_do_upcall();
		if (process)
			f->iret_flags = kernel_user_trap(f, TRAP_IRQ, 0) ? VGCF_in_syscall : 0;
		return;
	case VEC_SYSCALL:
		if (!pv_user_run_active()) {
			f->iret_flags = kernel_user_trap(f, TRAP_SYSCALL, 0) ? VGCF_in_syscall : 0;
			return;
		}
		pv_user_syscall(f);
		return;
	case VEC_FAILSAFE:
		panic("failsafe callback: rip %#llx cs %#llx", (unsigned long long)f->rip,
		      (unsigned long long)f->cs);
	}

	pv_last_trap.vector = f->vector;
	pv_last_trap.error_code = f->error_code;
	pv_last_trap.rip = f->rip;
	pv_last_trap.cs = f->cs;
	pv_last_trap.rflags = f->rflags;
	pv_last_trap.cr2 = (f->vector == 14 && pv_shared_info) ? pv_vcpu()->arch.cr2 : 0;
	pv_last_trap.count++;

	if (process) {
		f->iret_flags =
		    kernel_user_trap(f, TRAP_EXCEPTION, pv_last_trap.cr2) ? VGCF_in_syscall : 0;
		return;
	}
	if ((f->cs & 3) == 3)
		pv_user_fault(f);

	uint64_t fix = fixup_for(f->rip);
	if (fix) {
		f->rip = fix;
		return;
	}

	const char *name =
	    f->vector < 32 && vector_names[f->vector] ? vector_names[f->vector] : "?";
	printk("exception %llu (%s) error %#llx at rip %#llx cs %#llx rflags %#llx rsp %#llx cr2 "
	       "%#llx\n",
	       (unsigned long long)f->vector, name, (unsigned long long)f->error_code,
	       (unsigned long long)f->rip, (unsigned long long)f->cs, (unsigned long long)f->rflags,
	       (unsigned long long)f->rsp, (unsigned long long)pv_last_trap.cr2);
	panic("unhandled exception in kernel mode");
}
