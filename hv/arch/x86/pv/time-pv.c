/*
 * Guest time: system time (ns since hv booted, from the TSC), the per-vCPU vcpu_time_info
 * records guests extrapolate from, the wallclock in shared_info (from the CMOS RTC at boot),
 * and the vCPU timers that raise VIRQ_TIMER (single-shot and periodic), driven by hv's tick.
 *
 * One scale (tsc_to_system_mul, tsc_shift; reference §6.1) serves hv and every guest, so a
 * guest's extrapolation and hv's timer deadlines agree. Records are written with the version
 * protocol: odd while being updated, even when consistent.
 */
#include <hv/console_input.h>
#include <hv/event.h>
#include <hv/spinlock.h>
#include <hv/time.h>
#include <asm/apic.h>
#include <asm/processor.h>

#include "pv.h"
#include "time-scale.h"

static uint32_t tsc_mul;
static int8_t tsc_shift;
static uint64_t wallclock_at_boot; /* UTC seconds at system time 0 */
static uint32_t wallclock_nsec;

static uint64_t scale_delta(uint64_t delta)
{
	return pv_scale_delta(delta, tsc_mul, tsc_shift);
}

uint64_t pv_system_time(void)
{
	return scale_delta(rdtsc() - boot_tsc);
}

static uint8_t cmos_read(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static unsigned int bcd(uint8_t v, bool is_bcd)
{
	return is_bcd ? (v & 15) + (v >> 4) * 10 : v;
}

static uint64_t rtc_seconds(void)
{
	uint8_t sec, min, hour, day, mon, year, status_b;
	bool is_bcd;

	while (cmos_read(0x0a) & 0x80) /* update in progress */
		cpu_relax();
	sec = cmos_read(0x00);
	min = cmos_read(0x02);
	hour = cmos_read(0x04);
	day = cmos_read(0x07);
	mon = cmos_read(0x08);
	year = cmos_read(0x09);
	status_b = cmos_read(0x0b);
	is_bcd = !(status_b & 4);
	return (uint64_t)pv_days_from_civil(2000 + bcd(year, is_bcd), bcd(mon, is_bcd),
	                                    bcd(day, is_bcd)) *
	           86400 +
	       bcd(hour & 0x7f, is_bcd) * 3600 + bcd(min, is_bcd) * 60 + bcd(sec, is_bcd);
}

void pv_time_init(void)
{
	uint64_t now;

	pv_time_scale(tsc_khz * 1000, &tsc_mul, &tsc_shift);
	now = pv_system_time();
	wallclock_at_boot = rtc_seconds() - now / 1000000000ULL;
	wallclock_nsec = 0;
	printk("pv: time scale mul %u shift %d, wallclock %lu\n", tsc_mul, tsc_shift,
	       (unsigned long)(wallclock_at_boot + now / 1000000000ULL));
}

void pv_update_vcpu_time(struct vcpu *v)
{
	struct vcpu_time_info *t = &v->vcpu_info->time;
	uint64_t tsc = rdtsc();

	t->version++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	t->tsc_timestamp = tsc;
	t->system_time = scale_delta(tsc - boot_tsc);
	t->tsc_to_system_mul = tsc_mul;
	t->tsc_shift = tsc_shift;
	t->flags = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	t->version++;
}

void pv_set_wallclock(struct domain *d)
{
	struct shared_info *s = d->shared_info;

	s->wc_version++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	s->wc_sec = (uint32_t)wallclock_at_boot;
	s->wc_sec_hi = (uint32_t)(wallclock_at_boot >> 32);
	s->wc_nsec = wallclock_nsec;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	s->wc_version++;
}

/* Fire the vCPU's timers that are due. */
void pv_timers_check(struct vcpu *v)
{
	struct pv_vcpu *p = pv(v);
	uint64_t now;

	if (!p->singleshot && !p->periodic_period)
		return; /* nothing armed: every exit comes here, do not read the clock */
	now = pv_system_time();
	if (p->singleshot && now >= p->singleshot) {
		p->singleshot = 0;
		send_guest_vcpu_virq(v, VIRQ_TIMER);
	}
	if (p->periodic_period && now >= p->periodic_next) {
		while (p->periodic_next <= now)
			p->periodic_next += p->periodic_period;
		send_guest_vcpu_virq(v, VIRQ_TIMER);
	}
}

/* hv's periodic tick (replaces the APIC driver's handler, which only counted ticks). */
void pv_tick(struct cpu_user_regs *regs)
{
	struct vcpu *v = current_vcpu();

	this_cpu()->ticks++;
	apic_eoi();
	console_input_poll();
	if (!v)
		return;
	pv_update_vcpu_time(v);
	pv_timers_check(v);
	if (guest_mode(regs)) {
		domain_cpu_check(); /* paused, shut down or dying: hold or leave (domain.c) */
		pv_exit_to_guest(regs);
	}
}
