/*
 * Time on the PV platform: system time from the hypervisor's per-vCPU record (vcpu_time_info,
 * extrapolated with the TSC), wall-clock time from shared_info, and a one-shot timer that raises
 * VIRQ_TIMER. The periodic default timer is stopped so that only our deadlines produce ticks.
 */
#include <kernel.h>
#include <public/vcpu.h>
#include <x86.h>
#include "pv.h"

evtchn_port_t pv_timer_port;
volatile uint64_t pv_timer_events;

uint64_t pv_time_ns(void)
{
	const volatile struct vcpu_time_info *t = &pv_vcpu()->time;
	uint32_t version, mul;
	uint64_t tsc_stamp, system_time, delta;
	int8_t shift;

	do {
		version = t->version;
		rmb();
		tsc_stamp = t->tsc_timestamp;
		system_time = t->system_time;
		mul = t->tsc_to_system_mul;
		shift = t->tsc_shift;
		delta = rdtsc();
		rmb();
	} while ((version & 1) || version != t->version);

	delta -= tsc_stamp;
	if (shift >= 0)
		delta <<= shift;
	else
		delta >>= -shift;
	return system_time + (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

uint64_t pv_wallclock_ns(void)
{
	const volatile shared_info_t *s = pv_shared_info;
	uint32_t version, sec_lo, sec_hi, nsec;

	do {
		version = s->wc_version;
		rmb();
		sec_lo = s->wc_sec;
		sec_hi = s->wc_sec_hi;
		nsec = s->wc_nsec;
		rmb();
	} while ((version & 1) || version != s->wc_version);

	uint64_t base = (((uint64_t)sec_hi << 32) | sec_lo) * 1000000000ULL + nsec;
	return base + pv_time_ns();
}

void pv_timer_set(uint64_t deadline_ns)
{
	struct vcpu_set_singleshot_timer t = {.timeout_abs_ns = deadline_ns, .flags = 0};

	if (HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t) != 0 &&
	    HYPERVISOR_set_timer_op(deadline_ns) != 0)
		panic("cannot arm the timer");
}

static void timer_event(evtchn_port_t port)
{
	pv_timer_events++;
	kernel_timer_tick();
}

void pv_time_init(void)
{
	struct evtchn_bind_virq bind = {.virq = VIRQ_TIMER, .vcpu = 0};
	long rc;

	rc = HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL);
	if (rc)
		printk("pv: stop_periodic_timer failed: %ld (ticks may come unasked)\n", rc);
	rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bind);
	if (rc)
		panic("bind_virq(VIRQ_TIMER) failed: %ld", rc);
	pv_timer_port = bind.port;
	pv_evtchn_bind(bind.port, timer_event);
	rc = pv_evtchn_unmask(bind.port);
	if (rc)
		panic("unmask of the timer port failed: %ld", rc);
}
