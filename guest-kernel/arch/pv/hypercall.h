/*
 * Hypercalls of the Xen PV ABI, issued inline with `syscall` from guest kernel mode (the
 * post-XSA-466 way: no hypercall page needed). RAX = number, arguments in RDI, RSI, RDX, R10,
 * R8; result in RAX. SYSCALL destroys RCX and R11, and the argument registers are clobbered.
 */
#ifndef GK_PV_HYPERCALL_H
#define GK_PV_HYPERCALL_H

#include <klib/compiler.h>
#include <public/xen.h>

static inline long hypercall5(unsigned int nr, unsigned long a1, unsigned long a2, unsigned long a3,
                              unsigned long a4, unsigned long a5)
{
	register long rax __asm__("rax") = nr;
	register unsigned long rdi __asm__("rdi") = a1;
	register unsigned long rsi __asm__("rsi") = a2;
	register unsigned long rdx __asm__("rdx") = a3;
	register unsigned long r10 __asm__("r10") = a4;
	register unsigned long r8 __asm__("r8") = a5;

	__asm__ __volatile__("syscall"
	                     : "+r"(rax), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "+r"(r8)
	                     :
	                     : "rcx", "r11", "memory");
	return rax;
}

#define hypercall0(nr)       hypercall5(nr, 0, 0, 0, 0, 0)
#define hypercall1(nr, a)    hypercall5(nr, (unsigned long)(a), 0, 0, 0, 0)
#define hypercall2(nr, a, b) hypercall5(nr, (unsigned long)(a), (unsigned long)(b), 0, 0, 0)
#define hypercall3(nr, a, b, c)                                                                    \
	hypercall5(nr, (unsigned long)(a), (unsigned long)(b), (unsigned long)(c), 0, 0)
#define hypercall4(nr, a, b, c, d)                                                                 \
	hypercall5(nr, (unsigned long)(a), (unsigned long)(b), (unsigned long)(c),                 \
	           (unsigned long)(d), 0)

static inline long HYPERVISOR_console_io(unsigned int cmd, unsigned int count, const char *buf)
{
	return hypercall3(__HYPERVISOR_console_io, cmd, count, buf);
}

static inline long HYPERVISOR_set_trap_table(const void *table)
{
	return hypercall1(__HYPERVISOR_set_trap_table, table);
}

static inline long HYPERVISOR_mmu_update(const struct mmu_update *req, unsigned int count,
                                         unsigned int *done, unsigned int foreigndom)
{
	return hypercall4(__HYPERVISOR_mmu_update, req, count, done, foreigndom);
}

static inline long HYPERVISOR_mmuext_op(const struct mmuext_op *op, unsigned int count,
                                        unsigned int *done, unsigned int foreigndom)
{
	return hypercall4(__HYPERVISOR_mmuext_op, op, count, done, foreigndom);
}

static inline long HYPERVISOR_update_va_mapping(unsigned long va, uint64_t pte, unsigned long flags)
{
	return hypercall3(__HYPERVISOR_update_va_mapping, va, pte, flags);
}

static inline long HYPERVISOR_set_gdt(const uint64_t *frames, unsigned int entries)
{
	return hypercall2(__HYPERVISOR_set_gdt, frames, entries);
}

static inline long HYPERVISOR_stack_switch(unsigned long ss, unsigned long sp)
{
	return hypercall2(__HYPERVISOR_stack_switch, ss, sp);
}

static inline long HYPERVISOR_callback_op(int cmd, const void *arg)
{
	return hypercall2(__HYPERVISOR_callback_op, cmd, arg);
}

static inline long HYPERVISOR_event_channel_op(int cmd, void *arg)
{
	return hypercall2(__HYPERVISOR_event_channel_op, cmd, arg);
}

static inline long HYPERVISOR_sched_op(int cmd, void *arg)
{
	return hypercall2(__HYPERVISOR_sched_op, cmd, arg);
}

static inline long HYPERVISOR_vcpu_op(int cmd, unsigned int vcpu, void *arg)
{
	return hypercall3(__HYPERVISOR_vcpu_op, cmd, vcpu, arg);
}

static inline long HYPERVISOR_set_timer_op(uint64_t deadline_ns)
{
	return hypercall1(__HYPERVISOR_set_timer_op, deadline_ns);
}

static inline long HYPERVISOR_xen_version(int cmd, void *arg)
{
	return hypercall2(__HYPERVISOR_xen_version, cmd, arg);
}

static inline long HYPERVISOR_vm_assist(unsigned int cmd, unsigned int type)
{
	return hypercall2(__HYPERVISOR_vm_assist, cmd, type);
}

static inline long HYPERVISOR_memory_op(unsigned int cmd, void *arg)
{
	return hypercall2(__HYPERVISOR_memory_op, cmd, arg);
}

static inline long HYPERVISOR_grant_table_op(unsigned int cmd, void *args, unsigned int count)
{
	return hypercall3(__HYPERVISOR_grant_table_op, cmd, args, count);
}

static inline long HYPERVISOR_multicall(void *list, unsigned long nr)
{
	return hypercall2(__HYPERVISOR_multicall, list, nr);
}

static inline long HYPERVISOR_set_segment_base(unsigned int which, unsigned long base)
{
	return hypercall2(__HYPERVISOR_set_segment_base, which, base);
}

static inline long HYPERVISOR_physdev_op(int cmd, void *arg)
{
	return hypercall2(__HYPERVISOR_physdev_op, cmd, arg);
}

#endif
