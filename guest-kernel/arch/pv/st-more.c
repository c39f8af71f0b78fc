/*
 * Self-tests of the remaining per-vCPU state hypercalls: the virtual CR0.TS (fpu_taskswitch),
 * debug registers, the virtual IOPL, the LDT, SCHEDOP_poll, the periodic and the cancelled
 * one-shot timer, the 32-bit entry callbacks and the pseudo-physical memory map.
 */
#include <public/vcpu.h>
#include <public/callback.h>
#include <public/physdev.h>
#include <public/memory.h>
#include "st.h"

/*
 * Probes: fpu_taskswitch(1) sets the virtual CR0.TS, so the next x87 instruction raises #NM
 * (vector 7) in the guest; fpu_taskswitch(0) clears it.
 * Expected: one #NM at the fnop while TS is set, none after clearing.
 */
void st_fpu_taskswitch(void)
{
	uint64_t count = pv_last_trap.count;

	st_check_rc(hypercall1(__HYPERVISOR_fpu_taskswitch, 1), 0);
	__asm__ __volatile__("1: fnop\n\t2:\n\t" EXTABLE(1b, 2b));
	st_check(pv_last_trap.count == count + 1);
	st_check_rc(pv_last_trap.vector, 7);
	st_check_rc(hypercall1(__HYPERVISOR_fpu_taskswitch, 0), 0);
	count = pv_last_trap.count;
	__asm__ __volatile__("1: fnop\n\t2:\n\t" EXTABLE(1b, 2b));
	st_check(pv_last_trap.count == count);
}

/*
 * Probes: debug registers through set_debugreg/get_debugreg.
 * Expected: DR7 reads 0x400 at rest; DR0 takes a canonical address and reads it back; DR0 with
 * a non-canonical or hypervisor address is refused (-EPERM); a register number that does not
 * exist is refused.
 */
void st_debugreg(void)
{
	long dr7 = hypercall1(__HYPERVISOR_get_debugreg, 7);

	st_check((dr7 & 0xffff) == 0x400);
	st_check_rc(hypercall2(__HYPERVISOR_set_debugreg, 0, 0x400000UL), 0);
	st_check_rc(hypercall1(__HYPERVISOR_get_debugreg, 0), 0x400000L);
	st_check_rc(hypercall2(__HYPERVISOR_set_debugreg, 0, 0x8000000000000000UL), -XEN_EPERM);
	st_check_rc(hypercall2(__HYPERVISOR_set_debugreg, 0, (unsigned long)ST_HV_PTR), -XEN_EPERM);
	st_check_rc(hypercall2(__HYPERVISOR_set_debugreg, 0, 0), 0);
	st_check(hypercall1(__HYPERVISOR_get_debugreg, 9) < 0);
	st_check(hypercall2(__HYPERVISOR_set_debugreg, 9, 0) < 0);
}

/*
 * Probes: PHYSDEVOP_set_iopl with a valid and an out-of-range level.
 * Expected: 0 for 1 and back to 0; -EINVAL for 4.
 */
void st_set_iopl(void)
{
	struct physdev_set_iopl iopl = {.iopl = 1};

	st_check_rc(HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, &iopl), 0);
	iopl.iopl = 4;
	st_check_rc(HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, &iopl), -XEN_EINVAL);
	iopl.iopl = 0;
	st_check_rc(HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, &iopl), 0);
}

/*
 * Probes: MMUEXT_SET_LDT: none (0 entries), a misaligned base, too many entries.
 * Expected: 0, -EINVAL, -EINVAL.
 */
void st_set_ldt(void)
{
	struct mmuext_op op = {.cmd = MMUEXT_SET_LDT, .arg1.linear_addr = 0, .arg2.nr_ents = 0};

	st_check_rc(HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF), 0);
	op.arg1.linear_addr = ST_SCRATCH_VA(10) + 8;
	op.arg2.nr_ents = 1;
	st_check_rc(HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF), -XEN_EINVAL);
	op.arg1.linear_addr = ST_SCRATCH_VA(10);
	op.arg2.nr_ents = 8193;
	st_check_rc(HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF), -XEN_EINVAL);
	op.arg1.linear_addr = 0;
	op.arg2.nr_ents = 0;
	st_check_rc(HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF), 0);
}

/*
 * Probes: SCHEDOP_poll: with a listed port already pending it returns at once; with no port
 * pending it returns when the absolute timeout passes; more than 128 ports is refused.
 * Expected: 0 immediately; 0 after at least the 2 ms timeout; -EINVAL.
 */
void st_sched_poll(void)
{
	struct evtchn_bind_ipi ipi = {.vcpu = 0};

	st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &ipi), 0);
	if (st_failures())
		return;
	static evtchn_port_t ports[1];
	ports[0] = ipi.port;
	struct sched_poll poll = {.ports = (uint64_t)ports, .nr_ports = 1, .timeout = 0};
	struct evtchn_send s = {.port = ipi.port};
	unsigned long f = pv_irq_save();

	st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_send, &s), 0); /* masked: stays pending */
	st_check_rc(HYPERVISOR_sched_op(SCHEDOP_poll, &poll), 0);
	__atomic_fetch_and(&pv_shared_info->evtchn_pending[ipi.port / 64],
	                   ~(1ULL << (ipi.port % 64)), __ATOMIC_SEQ_CST);
	uint64_t start = pv_time_ns();
	poll.timeout = start + 2000000ULL;
	st_check_rc(HYPERVISOR_sched_op(SCHEDOP_poll, &poll), 0);
	st_check(pv_time_ns() >= start + 2000000ULL);
	poll.nr_ports = 129;
	st_check_rc(HYPERVISOR_sched_op(SCHEDOP_poll, &poll), -XEN_EINVAL);
	pv_irq_restore(f);
	struct evtchn_close c = {.port = ipi.port};
	st_check_rc(HYPERVISOR_event_channel_op(EVTCHNOP_close, &c), 0);
}

/*
 * Probes: a periodic vCPU timer delivers VIRQ_TIMER repeatedly until stopped (periodic ticks
 * come only while the vCPU runs, so we spin with events enabled rather than block); a one-shot
 * timer cancelled with stop_singleshot_timer never fires.
 * Expected: at least 3 ticks at a 2 ms period within a second; no tick from the cancelled
 * one-shot over the following 10 ms.
 */
void st_timer_periodic_and_cancel(void)
{
	struct vcpu_set_periodic_timer per = {.period_ns = 2000000ULL};
	uint64_t before = pv_timer_events;

	st_check_rc(HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &per), 0);
	uint64_t give_up = pv_time_ns() + 1000000000ULL;
	while (pv_timer_events < before + 3 && pv_time_ns() < give_up)
		HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
	st_check(pv_timer_events >= before + 3);
	st_check_rc(HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0);
	unsigned long f = pv_irq_save();

	struct vcpu_set_singleshot_timer t = {.timeout_abs_ns = pv_time_ns() + 5000000ULL};
	st_check_rc(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t), 0);
	st_check_rc(HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 0, NULL), 0);
	before = pv_timer_events;
	uint64_t end = pv_time_ns() + 10000000ULL;
	while (pv_time_ns() < end)
		HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
	pv_irq_restore(f); /* a stray tick would be delivered here */
	st_check(pv_timer_events == before);
}

/*
 * Probes: registering the 32-bit entry callbacks (syscall32, sysenter), which 64-bit kernels
 * such as XTF register even where the CPU cannot use them.
 * Expected: 0 for both.
 */
void st_callbacks_compat(void)
{
	struct callback_register cb = {.type = CALLBACKTYPE_syscall32,
	                               .flags = CALLBACKF_mask_events,
	                               .address = (uint64_t)pv_syscall_entry};

	st_check_rc(HYPERVISOR_callback_op(CALLBACKOP_register, &cb), 0);
	cb.type = CALLBACKTYPE_sysenter;
	st_check_rc(HYPERVISOR_callback_op(CALLBACKOP_register, &cb), 0);
}

/*
 * Probes: XENMEM_memory_map (the pseudo-physical E820 a toolstack set for the domain).
 * Expected: either -ENOSYS (none set, e.g. a dom0 built by the hypervisor) or a map whose RAM
 * covers all of our pages; with a buffer in the hypervisor's range, -EFAULT or -ENOSYS.
 */
void st_memory_map(void)
{
	static struct xen_e820_entry map[16];
	struct xen_memory_map mm = {.nr_entries = 16, .buffer = (uint64_t)map};
	long rc = HYPERVISOR_memory_op(XENMEM_memory_map, &mm);

	if (rc == -XEN_ENOSYS)
		return;
	st_check_rc(rc, 0);
	uint64_t ram = 0;
	for (uint32_t i = 0; i < mm.nr_entries && i < 16; i++)
		if (map[i].type == XEN_E820_RAM)
			ram += map[i].size;
	st_check(ram >= pv_nr_pages * PAGE_SIZE);
}
