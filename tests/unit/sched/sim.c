/*
 * The discrete-event simulator of sim.h. One loop: find the earliest next event (a slice end,
 * a tick, a burst end, a wake-up), move the clock there, apply every event due at that
 * instant, then let each pCPU that must reschedule call sched_schedule(), until none must.
 * Only then are the conditions measured (work conservation), so a state that lasts zero ns
 * within one instant never counts.
 */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct sim *current_sim;

/* The hv's IPI: here, the pCPU reschedules before the clock moves on. */
void sched_kick(unsigned int cpu)
{
	ASSERT(current_sim && cpu < current_sim->nr_pcpus);
	current_sim->pcpu[cpu].resched = true;
}

uint64_t sim_rand(struct sim *s, uint64_t lo, uint64_t hi)
{
	/* xorshift64: fixed seed, so every run takes the same path. */
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return hi <= lo ? lo : lo + s->rng % (hi - lo + 1);
}

void sim_init(struct sim *s, unsigned int nr_pcpus, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->nr_pcpus = nr_pcpus;
	s->tick_ns = 1 * MS;
	s->rng = seed ? seed : 88172645463325252ull;
	s->wc_since = SIM_NEVER;
	for (unsigned int i = 0; i < nr_pcpus; i++)
		s->pcpu[i].resched = true; /* every pCPU decides at once */
	current_sim = s;
	ASSERT(sched_init(nr_pcpus, &sched_resv_ops) == 0);
}

static struct sim_vcpu *of(struct sched_vcpu *sv)
{
	return container_of(sv, struct sim_vcpu, sv);
}

/* Brings v's measured CPU time up to now while it runs. */
static void account(struct sim *s, struct sim_vcpu *v)
{
	uint64_t ran = s->now - v->run_start;

	v->ran_ns += ran;
	if (v->kind == SIM_BURSTY)
		v->work_left -= ran < v->work_left ? ran : v->work_left;
	v->run_start = s->now;
}

void sim_sync(struct sim *s)
{
	for (unsigned int i = 0; i < s->nr_vcpus; i++)
		if (s->vcpus[i]->on_pcpu >= 0)
			account(s, s->vcpus[i]);
}

static void resched(struct sim *s, unsigned int cpu)
{
	struct sim_pcpu *p = &s->pcpu[cpu];
	struct sched_vcpu *next;
	uint64_t run_ns = 0;

	p->resched = false;
	if (p->curr) {
		account(s, p->curr);
		p->curr->on_pcpu = -1;
		p->curr = NULL;
	}
	next = sched_schedule(cpu, s->now, &run_ns);
	s->nr_decisions++;
	ASSERT(run_ns > 0);
	ASSERT(sched_pcpu(cpu)->curr == next);
	if (next) {
		struct sim_vcpu *v = of(next);

		ASSERT(v->on_pcpu == -1); /* never on two pCPUs at once */
		ASSERT(next->state == SCHED_RUNNING);
		ASSERT(v->kind == SIM_SPIN || v->work_left > 0);
		v->on_pcpu = (int)cpu;
		v->run_start = s->now;
		p->curr = v;
		if (v->waiting_run) {
			uint64_t lat = s->now - v->woke_at;

			v->waiting_run = false;
			v->lat_sum += lat;
			v->lat_n++;
			if (lat > v->lat_max)
				v->lat_max = lat;
		}
	}
	p->timer_at = s->now + run_ns;
}

static void settle(struct sim *s)
{
	bool again = true;

	while (again) {
		again = false;
		for (unsigned int i = 0; i < s->nr_pcpus; i++)
			if (s->pcpu[i].resched) {
				resched(s, i);
				again = true;
			}
	}
}

/* Is some pCPU idle while a queued, uncapped vCPU that may run there waits? */
static bool wasted(struct sim *s)
{
	for (unsigned int c = 0; c < s->nr_pcpus; c++) {
		if (s->pcpu[c].curr)
			continue;
		for (unsigned int i = 0; i < s->nr_vcpus; i++) {
			struct sched_vcpu *sv = &s->vcpus[i]->sv;

			if (sv->state == SCHED_RUNNABLE && sv->params.cap == 0 &&
			    sched_vcpu_allowed(sv, c))
				return true;
		}
	}
	return false;
}

static void measure(struct sim *s)
{
	if (wasted(s)) {
		if (s->wc_since == SIM_NEVER)
			s->wc_since = s->now;
	} else if (s->wc_since != SIM_NEVER) {
		uint64_t d = s->now - s->wc_since;

		s->wc_total += d;
		if (d > s->wc_max)
			s->wc_max = d;
		s->wc_since = SIM_NEVER;
	}
}

static void start_burst(struct sim *s, struct sim_vcpu *v)
{
	v->work_left = sim_rand(s, v->burst_min, v->burst_max);
	v->wake_at = SIM_NEVER;
	v->woke_at = s->now;
	v->waiting_run = true;
}

int sim_add(struct sim *s, struct sim_vcpu *v, struct sched_dom *d, unsigned int vcpu_id,
            uint64_t aff, bool start, char *msg, size_t msglen)
{
	int rc;

	ASSERT(s->nr_vcpus < SIM_MAX_VCPUS);
	v->on_pcpu = -1;
	v->wake_at = SIM_NEVER;
	v->insert_ns = s->now;
	rc = sched_vcpu_insert(d, &v->sv, vcpu_id, v, aff, s->now, msg, msglen);
	if (rc)
		return rc;
	s->vcpus[s->nr_vcpus++] = v;
	if (start)
		sim_unpause(s, v);
	return 0;
}

void sim_pause(struct sim *s, struct sim_vcpu *v)
{
	v->wake_at = SIM_NEVER;
	v->waiting_run = false;
	sched_vcpu_sleep(&v->sv, SCHED_OFFLINE, s->now);
	settle(s);
	ASSERT(v->on_pcpu == -1);
}

void sim_unpause(struct sim *s, struct sim_vcpu *v)
{
	if (v->kind == SIM_BURSTY)
		start_burst(s, v);
	else {
		v->woke_at = s->now;
		v->waiting_run = true;
	}
	sched_vcpu_wake(&v->sv, s->now);
	settle(s);
}

void sim_remove(struct sim *s, struct sim_vcpu *v)
{
	unsigned int i;

	sim_pause(s, v);
	ASSERT(sched_vcpu_remove(&v->sv) == 0);
	for (i = 0; i < s->nr_vcpus && s->vcpus[i] != v; i++)
		;
	ASSERT(i < s->nr_vcpus);
	s->vcpus[i] = s->vcpus[--s->nr_vcpus];
}

void sim_run_until(struct sim *s, uint64_t t)
{
	for (;;) {
		uint64_t next = t, tick;

		settle(s);
		measure(s);
		if (s->now >= t)
			break;

		tick = (s->now / s->tick_ns + 1) * s->tick_ns;
		if (tick < next)
			next = tick;
		for (unsigned int c = 0; c < s->nr_pcpus; c++)
			if (s->pcpu[c].timer_at < next)
				next = s->pcpu[c].timer_at;
		for (unsigned int i = 0; i < s->nr_vcpus; i++) {
			struct sim_vcpu *v = s->vcpus[i];

			if (v->kind != SIM_BURSTY)
				continue;
			if (v->on_pcpu >= 0 && v->run_start + v->work_left < next)
				next = v->run_start + v->work_left;
			if (v->wake_at < next)
				next = v->wake_at;
		}
		ASSERT(next > s->now);
		for (unsigned int c = 0; c < s->nr_pcpus; c++)
			if (!s->pcpu[c].curr)
				s->pcpu[c].idle_ns += next - s->now;
		s->now = next;

		/* Bursts that end now: the vCPU blocks (the hv's SCHEDOP_block). */
		for (unsigned int i = 0; i < s->nr_vcpus; i++) {
			struct sim_vcpu *v = s->vcpus[i];

			if (v->kind != SIM_BURSTY || v->on_pcpu < 0)
				continue;
			account(s, v);
			if (v->work_left == 0) {
				v->wake_at = s->now + sim_rand(s, v->sleep_min, v->sleep_max);
				sched_vcpu_sleep(&v->sv, SCHED_BLOCKED, s->now);
			}
		}
		/* Sleeps that end now: an event wakes the vCPU. */
		for (unsigned int i = 0; i < s->nr_vcpus; i++) {
			struct sim_vcpu *v = s->vcpus[i];

			if (v->wake_at == s->now && v->sv.state == SCHED_BLOCKED) {
				start_burst(s, v);
				sched_vcpu_wake(&v->sv, s->now);
			}
		}
		if (s->now % s->tick_ns == 0)
			for (unsigned int c = 0; c < s->nr_pcpus; c++)
				if (sched_tick(c, s->now))
					s->pcpu[c].resched = true;
		for (unsigned int c = 0; c < s->nr_pcpus; c++)
			if (s->pcpu[c].timer_at <= s->now)
				s->pcpu[c].resched = true;
	}
}
