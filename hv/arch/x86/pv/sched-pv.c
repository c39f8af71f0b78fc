/*
 * Scheduling and vCPU hypercalls: sched_op (yield, block, shutdown, poll), the legacy
 * sched_op_compat, set_timer_op and vcpu_op (up/down status, timers, runstate area,
 * vcpu_info placement). With one vCPU per physical CPU, "blocking" waits in hv with
 * interrupts on (pv_vcpu_block) until the vCPU has something to do.
 */
#include <hv/event.h>
#include <hv/lib.h>
#include <hv/mm.h>

#include "guest-access.h"
#include "mm.h"
#include "pv.h"

#include <hv/sched-if.h>

/* public/vcpu.h has its own struct cpu_user_regs (the ABI's); keep it apart from hv's. */
#define cpu_user_regs guest_cpu_user_regs
#include <public/vcpu.h>
#undef cpu_user_regs

#define MILLISECS(n) ((uint64_t)(n)*1000000ULL)

static void runstate_set(struct vcpu *v, int state)
{
	struct pv_vcpu *p = pv(v);
	uint64_t now = pv_system_time();

	if (p->runstate.state >= 0 && p->runstate.state < 4)
		p->runstate.time[p->runstate.state] += now - p->runstate.state_entry_time;
	p->runstate.state = state;
	p->runstate.state_entry_time = now;
	if (sched_active()) { /* the scheduler keeps the runstate */
		if (p->runstate_gva && v == current_vcpu())
			arch_update_runstate_area(v);
		return;
	}
	if (p->runstate_gva) {
		struct vcpu_runstate_info ri = {.state = state, .state_entry_time = now};
		memcpy(ri.time, p->runstate.time, sizeof(ri.time));
		copy_to_guest(p->runstate_gva, &ri,
		              sizeof(ri)); /* a bad area is the guest's loss */
	}
}

static void block(struct vcpu *v, bool poll, const uint32_t *ports, unsigned int nr,
                  uint64_t timeout)
{
	if (sched_active()) { /* returns at once; the exit path switches away if it blocked */
		vcpu_block(v, poll, ports, nr, timeout);
		return;
	}
	runstate_set(v, RUNSTATE_blocked);
	pv_vcpu_block(v, poll, ports, nr, timeout);
	runstate_set(v, RUNSTATE_running);
}

static long do_poll(struct vcpu *v, uint64_t arg)
{
	struct sched_poll sp;
	uint32_t ports[128];

	if (copy_from_guest(&sp, arg, sizeof(sp)))
		return -EFAULT;
	if (sp.nr_ports > 128)
		return -EINVAL;
	if (copy_from_guest(ports, sp.ports, sp.nr_ports * sizeof(uint32_t)))
		return -EFAULT;
	for (unsigned int i = 0; i < sp.nr_ports; i++)
		if (ports[i] >= EVTCHN_2L_NR_CHANNELS)
			return -EINVAL;
	block(v, true, ports, sp.nr_ports, sp.timeout);
	return 0;
}

static long do_sched_op(struct vcpu *v, unsigned int cmd, uint64_t arg, bool compat)
{
	struct sched_shutdown sd;

	switch (cmd) {
	case SCHEDOP_yield:
		pv_timers_check(v);
		if (sched_active())
			vcpu_yield(v);
		return 0;
	case SCHEDOP_block:
		v->vcpu_info->evtchn_upcall_mask = 0;
		block(v, false, NULL, 0, 0);
		return 0;
	case SCHEDOP_shutdown:
		if (compat)
			sd.reason = (uint32_t)arg;
		else if (copy_from_guest(&sd, arg, sizeof(sd)))
			return -EFAULT;
		domain_shutdown(v->domain, sd.reason);
	case SCHEDOP_poll:
		if (compat)
			return -ENOSYS;
		return do_poll(v, arg);
	case SCHEDOP_shutdown_code:
		if (copy_from_guest(&sd, arg, sizeof(sd)))
			return -EFAULT;
		pvd(v->domain)->shutdown_reason = sd.reason;
		return 0;
	case SCHEDOP_remote_shutdown: {
		struct sched_remote_shutdown rs;

		if (!v->domain->is_privileged)
			return -EPERM;
		if (copy_from_guest(&rs, arg, sizeof(rs)))
			return -EFAULT;
		if (rs.domain_id != v->domain->domain_id)
			return -ESRCH;
		domain_shutdown(v->domain, rs.reason);
	}
	default:
		return -ENOSYS;
	}
}

/* A deadline further away than this (or "negative") is taken as 100 ms from now. */
static uint64_t sane_deadline(uint64_t deadline)
{
	uint64_t now = pv_system_time();

	if ((int64_t)deadline < 0 || deadline > now + 13ULL * 86400 * 1000000000ULL)
		return now + MILLISECS(100);
	return deadline ? deadline : 1;
}

static long do_vcpu_op(struct vcpu *v, unsigned int cmd, unsigned int id, uint64_t arg)
{
	struct domain *d = v->domain;
	struct pv_vcpu *p = pv(v);
	struct vcpu *target;

	if (id >= d->max_vcpus || !d->vcpu[id])
		return -ENOENT;
	target = d->vcpu[id];
	switch (cmd) {
	case VCPUOP_initialise:
	case VCPUOP_up:
	case VCPUOP_down:
		if (!sched_active() || !target->sched)
			return -ENOSYS;
		return sched_vcpu_op(v, cmd, target, arg);
	case VCPUOP_is_up:
		return pv(target)->online ? 1 : 0;
	case VCPUOP_get_runstate_info: {
		struct vcpu_runstate_info ri = {.state = pv(target)->runstate.state,
		                                .state_entry_time =
		                                    pv(target)->runstate.state_entry_time};
		memcpy(ri.time, pv(target)->runstate.time, sizeof(ri.time));
		if (sched_active() && target->sched)
			sched_vcpu_runstate_info(target, &ri.state, &ri.state_entry_time, ri.time);
		return copy_to_guest(arg, &ri, sizeof(ri)) ? -EFAULT : 0;
	}
	case VCPUOP_register_runstate_memory_area: {
		struct vcpu_register_runstate_memory_area area;

		if (copy_from_guest(&area, arg, sizeof(area)))
			return -EFAULT;
		if (!guest_range_ok(area.addr.v, sizeof(struct vcpu_runstate_info)))
			return -EINVAL;
		pv(target)->runstate_gva = area.addr.v;
		if (area.addr.v)
			runstate_set(target, pv(target)->runstate.state);
		return 0;
	}
	case VCPUOP_register_vcpu_info: {
		struct vcpu_register_vcpu_info info;
		struct vcpu_info *vi;

		if (copy_from_guest(&info, arg, sizeof(info)))
			return -EFAULT;
		if (info.offset > PAGE_SIZE - sizeof(struct vcpu_info) || (info.offset & 7))
			return -EINVAL;
		if (pv(target)->vcpu_info_registered)
			return -EBUSY;
		pv_lock();
		if (get_page_and_type(info.mfn, d, PGT_writable)) {
			pv_unlock();
			return -EINVAL;
		}
		pv_unlock();
		vi = (struct vcpu_info *)((uint8_t *)pv_frame_map(info.mfn) + info.offset);
		memcpy(vi, target->vcpu_info, sizeof(*vi));
		vi->evtchn_pending_sel = ~0UL; /* a deliberate rescan */
		vi->evtchn_upcall_pending = 1;
		target->vcpu_info = vi;
		pv(target)->vcpu_info_registered = true;
		pv_update_vcpu_time(target);
		return 0;
	}
	}
	/* hv's own test operations on a vCPU's scheduling (schedule.c, sched_debug only). */
	if (cmd == VCPUOP_hv_sched_params || cmd == VCPUOP_hv_sched_affinity)
		return sched_active() && target->sched ? sched_vcpu_op(v, cmd, target, arg)
		                                       : -ENOSYS;
	/* Timer operations act on the calling vCPU only. */
	if (target != v)
		return -EINVAL;
	switch (cmd) {
	case VCPUOP_set_periodic_timer: {
		struct vcpu_set_periodic_timer t;

		if (copy_from_guest(&t, arg, sizeof(t)))
			return -EFAULT;
		if (t.period_ns < MILLISECS(1))
			return -EINVAL;
		p->periodic_period = t.period_ns;
		p->periodic_next = pv_system_time() + t.period_ns;
		sched_vcpu_timer_changed(v);
		return 0;
	}
	case VCPUOP_stop_periodic_timer:
		p->periodic_period = 0;
		return 0;
	case VCPUOP_set_singleshot_timer: {
		struct vcpu_set_singleshot_timer t;

		if (copy_from_guest(&t, arg, sizeof(t)))
			return -EFAULT;
		if ((t.flags & VCPU_SSHOTTMR_future) && t.timeout_abs_ns < pv_system_time())
			return -ETIME;
		p->singleshot = sane_deadline(t.timeout_abs_ns);
		sched_vcpu_timer_changed(v);
		return 0;
	}
	case VCPUOP_stop_singleshot_timer:
		p->singleshot = 0;
		return 0;
	default:
		return -ENOSYS;
	}
}

long pv_sched_hypercall(struct vcpu *v, unsigned long nr, const unsigned long *a)
{
	switch (nr) {
	case __HYPERVISOR_sched_op:
		return do_sched_op(v, a[0], a[1], false);
	case __HYPERVISOR_sched_op_compat:
		return do_sched_op(v, a[0], a[1], true);
	case __HYPERVISOR_set_timer_op:
		pv(v)->singleshot = a[0] ? sane_deadline(a[0]) : 0;
		sched_vcpu_timer_changed(v);
		return 0;
	case __HYPERVISOR_vcpu_op:
		return do_vcpu_op(v, a[0], a[1], a[2]);
	default:
		return -ENOSYS;
	}
}
