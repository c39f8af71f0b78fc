/*
 * Running vCPUs on pCPUs with the scheduler of hv/common/sched/ (see <hv/sched-if.h> for the
 * execution model): per-pCPU decision points ("softirq" flag + the exit path), the one-shot
 * APIC timer programmed to the end of the slice the policy returns (or an earlier vCPU timer),
 * kicks between pCPUs (one IPI vector, which also carries TLB-flush requests), blocking and
 * waking, the per-pCPU lists of vCPU timers, VCPUOP up/down, and the control path for weight,
 * cap and reservation.
 *
 * Invariants:
 *  - percpu_of[c]->resched set means pCPU c calls sched_schedule() at its next exit or idle
 *    check; a kick of another pCPU always sets it before the IPI is sent. It is the only thing
 *    an exit to the guest looks at (sched_softirq() in <hv/sched-if.h>): a vCPU that arms an
 *    earlier timer re-arms the APIC in the hypercall (sched_vcpu_timer_changed()).
 *  - A vCPU is on a timer list only while it is not running; it is taken off before its
 *    frame is loaded, wherever that happens (so its timers follow it across pCPUs).
 *  - The APIC of every pCPU in the scheduler is armed (one-shot) for at most SCHED_TICK_NS
 *    ahead, and never later than the end of the running vCPU's slice or the earliest timer
 *    of the vCPUs parked on its list.
 *
 * On by default (`sched=resv`). `sched=pinned` keeps hv's older model instead: one vCPU per
 * pCPU, blocking inside hv (hv/common/domain.c places the vCPUs), and dom0 with one vCPU.
 */
#include <hv/cmdline.h>
#include <hv/console_input.h>
#include <hv/event.h>
#include <hv/lib.h>
#include <hv/mm.h>
#include <hv/percpu.h>
#include <hv/sched-if.h>
#include <hv/smp.h>
#include <hv/spinlock.h>
#include <hv/time.h>
#include <asm/apic.h>
#include <asm/processor.h>
#include <asm/traps.h>

#include "../arch/x86/pv/guest-access.h"
#include "../arch/x86/pv/pv.h"

#define SCHED_TICK_NS       10000000ull /* at least one decision point per 10 ms */
#define SCHED_IDLE_TICK_NS  2000000ull  /* an idle pCPU looks for work every 2 ms */
#define SCHED_MIN_TIMER_NS  20000ull    /* shortest one-shot we program */
#define SCHED_BLOCK_SPIN_US 20          /* how long a blocking vCPU first watches for its event */

struct sched_cpu {
	bool started;                /* this pCPU can run guests (pv_cpu_init done) */
	uint64_t slice_end;          /* when the current decision expires */
	uint64_t armed;              /* deadline the APIC is programmed for */
	struct list_head timers;     /* parked vCPUs with a timer armed (timer_lock) */
	volatile uint32_t flush_req; /* another pCPU asks for a TLB flush */
};

static struct sched_cpu cpus[NR_CPUS];
static DEFINE_SPINLOCK(timer_lock);
static bool sched_on;
static bool per_vcpu_params; /* sched_debug: each vCPU has its own parameters (tests) */
static unsigned int nr_sched_cpus;

bool sched_active(void);
bool sched_active(void)
{
	return sched_on;
}

static unsigned int me(void)
{
	return smp_processor_id();
}

/* ---- the APIC timer and kicks -------------------------------------------------------------- */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The earliest armed timer of v (0 = none): single-shot, periodic, poll timeout. */
static uint64_t vcpu_deadline(struct vcpu *v)
{
	struct pv_vcpu *p = pv(v);
	uint64_t d = ~0ull;

	if (p->singleshot)
		d = p->singleshot;
	if (p->periodic_period)
		d = min_u64(d, p->periodic_next);
	if (v->sched->polling && v->sched->poll_timeout)
		d = min_u64(d, v->sched->poll_timeout);
	return d == ~0ull ? 0 : d;
}

/* Earliest timer on this pCPU's list; timer_lock held. */
static uint64_t list_deadline(struct sched_cpu *sc)
{
	uint64_t d = ~0ull;
	struct list_head *l;

	list_for_each(l, &sc->timers)
	{
		struct vcpu_sched *vs = container_of(l, struct vcpu_sched, timer_link);
		uint64_t t = vcpu_deadline(vs->v);

		if (t)
			d = min_u64(d, t);
	}
	return d;
}

static void arm(struct sched_cpu *sc, uint64_t now, uint64_t deadline)
{
	uint64_t ns = deadline > now ? deadline - now : 0;

	if (ns < SCHED_MIN_TIMER_NS)
		ns = SCHED_MIN_TIMER_NS;
	sc->armed = now + ns;
	apic_timer_oneshot_ns(ns);
}

/* Programs this pCPU's timer for the next event that matters to it. */
static void program_timer(uint64_t now)
{
	struct sched_cpu *sc = &cpus[me()];
	struct vcpu *curr = current_vcpu();
	uint64_t d = now + (curr ? SCHED_TICK_NS : SCHED_IDLE_TICK_NS), t;

	if (curr)
		d = min_u64(d, sc->slice_end);
	if (curr && (t = vcpu_deadline(curr)) != 0)
		d = min_u64(d, t);
	spin_lock(&timer_lock);
	d = min_u64(d, list_deadline(sc));
	spin_unlock(&timer_lock);
	arm(sc, now, d);
}

void sched_kick(unsigned int cpu)
{
	struct percpu *pc = percpu_of[cpu];

	if (!pc)
		return;
	pc->resched = true;
	if (cpu != me())
		apic_send_ipi_vector(pc->apic_id, SCHED_IPI_VECTOR);
}

/* The running vCPU v set or moved a timer (set_timer_op, VCPUOP_*_timer): an earlier one than
 * the APIC is armed for re-arms it now, since exits do not look at timers. */
void sched_vcpu_timer_changed(struct vcpu *v)
{
	struct sched_cpu *sc = &cpus[me()];
	uint64_t t;

	if (!sched_on || v != current_vcpu())
		return;
	t = vcpu_deadline(v);
	if (t && t < sc->armed)
		arm(sc, pv_system_time(), t);
}

/* ---- vCPU timers ----------------------------------------------------------------------------- */

/* v leaves this pCPU: with a timer armed it goes on this pCPU's list. */
static void timer_park(struct vcpu *v)
{
	struct vcpu_sched *vs = v->sched;

	spin_lock(&timer_lock);
	if (vs->timer_cpu == SCHED_NO_PCPU && vcpu_deadline(v)) {
		vs->timer_cpu = me();
		list_add_tail(&vs->timer_link, &cpus[me()].timers);
	}
	spin_unlock(&timer_lock);
}

static void timer_unpark(struct vcpu *v)
{
	struct vcpu_sched *vs = v->sched;

	spin_lock(&timer_lock);
	if (vs->timer_cpu != SCHED_NO_PCPU) {
		list_del(&vs->timer_link);
		vs->timer_cpu = SCHED_NO_PCPU;
	}
	spin_unlock(&timer_lock);
}

static bool poll_hit(struct vcpu *v);

/* Fires the due timers of the vCPUs parked here (VIRQ_TIMER wakes them through vcpu_kick). */
static void fire_parked_timers(uint64_t now)
{
	struct sched_cpu *sc = &cpus[me()];
	struct vcpu *due[64];
	unsigned int n = 0;
	struct list_head *l, *next;

	spin_lock(&timer_lock);
	for (l = sc->timers.next; l != &sc->timers && n < 64; l = next) {
		struct vcpu_sched *vs = container_of(l, struct vcpu_sched, timer_link);
		uint64_t t = vcpu_deadline(vs->v);

		next = l->next;
		if (t && t > now)
			continue;
		list_del(&vs->timer_link);
		vs->timer_cpu = SCHED_NO_PCPU;
		vs->firing = true; /* sched_vcpu_destroy waits for this to clear */
		due[n++] = vs->v;
	}
	spin_unlock(&timer_lock);
	for (unsigned int i = 0; i < n; i++) {
		struct vcpu *v = due[i];
		struct vcpu_sched *vs = v->sched;

		pv_timers_check(v); /* VIRQ_TIMER; an event wakes a blocked vCPU */
		if (vs->polling && vs->poll_timeout && now >= vs->poll_timeout)
			sched_vcpu_unblock(&vs->sv, now);
		spin_lock(&timer_lock);
		if (!vs->running && !vs->dead && vs->timer_cpu == SCHED_NO_PCPU &&
		    vcpu_deadline(v)) {
			vs->timer_cpu = me();
			list_add_tail(&vs->timer_link, &sc->timers);
		}
		__atomic_store_n(&vs->firing, false, __ATOMIC_RELEASE);
		spin_unlock(&timer_lock);
	}
}

/* ---- the decision point ---------------------------------------------------------------------- */

static void cpu_start(void)
{
	struct sched_cpu *sc = &cpus[me()];

	if (sc->started)
		return;
	pv_cpu_init();
	sc->started = true;
}

/*
 * The decision on this pCPU, when one is due; regs is the running vCPU's frame (or NULL when
 * idle). Switching never returns: the next vCPU's frame is loaded on a fresh stack.
 */
static void do_softirq(struct cpu_user_regs *regs)
{
	struct sched_cpu *sc = &cpus[me()];
	struct vcpu *prev = current_vcpu(), *next;
	struct sched_vcpu *sv;
	uint64_t now, run_ns;

	if (!sched_on || !this_cpu()->resched)
		return;
	now = pv_system_time();
	this_cpu()->resched = false;
	sv = sched_schedule(me(), now, &run_ns);
	next = sv ? sv->owner : NULL;
	sc->slice_end = now + run_ns;
	if (next == prev) {
		if (prev) {
			prev->sched->polling = false; /* it runs on: any poll is over */
			prev->polling = false;
		}
		program_timer(now);
		return;
	}
	if (prev)
		timer_park(prev); /* a blocked or preempted vCPU's timers fire from here */
	if (next) {
		cpu_start();
		timer_unpark(next);
	}
	this_cpu()->curr_vcpu = next;
	program_timer(now);
	arch_context_switch(prev, next, regs);
}

void sched_do_softirq(struct cpu_user_regs *regs)
{
	do_softirq(regs);
}

/* An interrupt that came while this pCPU idled in hv: run the decision there. */
static void idle_check(struct cpu_user_regs *regs)
{
	if (!guest_mode(regs) && current_vcpu() == NULL)
		do_softirq(NULL);
}

static void sched_ipi_interrupt(struct cpu_user_regs *regs)
{
	struct sched_cpu *sc = &cpus[me()];

	apic_eoi();
	if (__atomic_load_n(&sc->flush_req, __ATOMIC_ACQUIRE)) {
		flush_tlb_all_local();
		__atomic_store_n(&sc->flush_req, 0, __ATOMIC_RELEASE);
	}
	if (guest_mode(regs))
		pv_exit_to_guest(regs); /* events and the decision */
	else
		idle_check(regs);
}

static void sched_timer_interrupt(struct cpu_user_regs *regs)
{
	struct sched_cpu *sc = &cpus[me()];
	struct vcpu *curr = current_vcpu();
	uint64_t now;

	this_cpu()->ticks++;
	apic_eoi();
	console_input_poll();
	if (!sched_on)
		return;
	cpu_start();
	now = pv_system_time();
	fire_parked_timers(now);
	if (curr) {
		pv_update_vcpu_time(curr);
		pv_timers_check(curr);
		if (now >= sc->slice_end)
			this_cpu()->resched = true;
	}
	if (sched_tick(me(), now))
		this_cpu()->resched = true;
	program_timer(now);
	if (guest_mode(regs))
		pv_exit_to_guest(regs);
	else
		idle_check(regs);
}

/* ---- boot ---------------------------------------------------------------------------------- */

void sched_hv_init(void)
{
	const char *mode = cmdline_get("sched");

	sched_on = true;
	if (mode && strcmp(mode, "pinned") == 0) {
		sched_on = false;
		printk("sched: off (sched=pinned): one vCPU per pCPU, dom0 has one vCPU\n");
		if (cmdline_get("dom0_max_vcpus"))
			printk(KERN_WARN "sched: dom0_max_vcpus needs the scheduler; ignored\n");
		return;
	}
	if (mode && strcmp(mode, "resv") != 0)
		printk(KERN_WARN "sched: unknown sched=%s (resv or pinned); using resv\n", mode);
	per_vcpu_params = cmdline_get("sched_debug") != NULL;
	nr_sched_cpus = 0;
	for (unsigned int c = 0; c < NR_CPUS && percpu_of[c] && percpu_of[c]->online; c++)
		nr_sched_cpus = c + 1;
	if (nr_sched_cpus == 0 || nr_sched_cpus > SCHED_MAX_PCPUS)
		nr_sched_cpus = 1;
	for (unsigned int c = 0; c < NR_CPUS; c++) {
		list_init(&cpus[c].timers);
		cpus[c].slice_end = 0;
	}
	sched_init(nr_sched_cpus, &sched_resv_ops);
	set_trap_handler(APIC_TIMER_VECTOR, sched_timer_interrupt);
	set_trap_handler(SCHED_IPI_VECTOR, sched_ipi_interrupt);
	printk("sched: %s on %u pCPUs%s\n", sched_resv_ops.name, nr_sched_cpus,
	       per_vcpu_params ? ", per-vCPU parameters (sched_debug)" : "");
}

/* ---- domains and vCPUs ----------------------------------------------------------------------- */

static unsigned int order_for(size_t bytes)
{
	unsigned int order = 0;

	while ((PAGE_SIZE << order) < bytes)
		order++;
	return order;
}

void sched_domain_create(struct domain *d)
{
	if (d->sched)
		return;
	d->sched = alloc_pages_virt(order_for(sizeof(struct sched_dom)));
	if (!d->sched)
		panic("sched: no memory for domain %u", d->domain_id);
	sched_dom_init(d->sched, d->domain_id);
}

int sched_vcpu_create(struct vcpu *v, char *msg, size_t msglen)
{
	struct vcpu_sched *vs = alloc_pages_virt(order_for(sizeof(struct vcpu_sched)));
	struct sched_dom *sd;
	int rc;

	if (!vs)
		return -ENOMEM;
	vs->v = v;
	vs->timer_cpu = SCHED_NO_PCPU;
	list_init(&vs->timer_link);
	list_init(&vs->sv.rq_link);
	vs->cpu = 0;
	sd = v->domain->sched;
	if (per_vcpu_params) {
		sched_dom_init(&vs->own_dom, v->domain->domain_id);
		sd = &vs->own_dom;
	}
	rc = sched_vcpu_insert(sd, &vs->sv, v->vcpu_id, v, ~0ull, pv_system_time(), msg, msglen);
	if (rc) {
		free_pages_virt(vs, order_for(sizeof(struct vcpu_sched)));
		return rc;
	}
	v->sched = vs;
	arch_vcpu_init_context(v);
	return 0;
}

int sched_domain_attach(struct domain *d, char *msg, size_t msglen)
{
	sched_domain_create(d);
	for (unsigned int i = 0; i < d->max_vcpus; i++) {
		int rc;

		if (!d->vcpu[i] || d->vcpu[i]->sched)
			continue;
		rc = sched_vcpu_create(d->vcpu[i], msg, msglen);
		if (rc)
			return rc;
	}
	return 0;
}

unsigned int sched_dom0_vcpus(void)
{
	const char *s = cmdline_get("dom0_max_vcpus");
	unsigned int n = 0;

	if (!sched_on || !s)
		return 1;
	for (; *s >= '0' && *s <= '9' && n <= HV_MAX_VCPUS; s++)
		n = n * 10 + (unsigned int)(*s - '0');
	if (n == 0 || n > HV_MAX_VCPUS) {
		printk(KERN_WARN "sched: dom0_max_vcpus must be 1..%u; using 1\n", HV_MAX_VCPUS);
		return 1;
	}
	return n;
}

/*
 * Takes v out of the scheduler and frees its state. Invariant: a vCPU's memory (v->sched here,
 * its struct vcpu and its domain's frames after domain.c's destroy) is freed only once no pCPU
 * can touch it: none runs it, none has picked it and is about to load it, none is still saving
 * it, none holds it in a run queue or on a timer list, none is firing its timer.
 *
 * - Run queue, picked, running: sched_vcpu_remove() refuses (-EBUSY, nothing changed, the
 *   caller retries) while v is runnable, queued, moving, or any pCPU's curr, which it is from
 *   the moment sched_schedule() picks it, before load() sets `running`. Once it succeeds, no
 *   pCPU can pick v again.
 * - Saving: a pCPU that has just switched away from v is no longer its curr, yet from
 *   sched_schedule() to the end of save() it still writes v's timer link, frame, FPU image and
 *   runstate area; `running` (dropped last in save()) covers that stretch. It is waited for
 *   only after the removal. Tested before it (as it once was), a vCPU picked but not yet
 *   loaded passed the test, was loaded, ran and was switched away from before the removal,
 *   and was freed while its pCPU saved it: a #PF in save() on v->sched == NULL, seen in the
 *   create/destroy loop. That pCPU has interrupts off and needs no lock we hold: short wait.
 * - Timers: dead is set and v is unlinked from its timer list in one critical section, so
 *   fire_parked_timers() can no longer take it (nor put it back); one already firing it is
 *   waited for.
 */
int sched_vcpu_destroy(struct vcpu *v)
{
	struct vcpu_sched *vs = v->sched;
	int rc;

	if (!vs)
		return 0;
	rc = sched_vcpu_remove(&vs->sv);
	if (rc)
		return rc;
	while (__atomic_load_n(&vs->running, __ATOMIC_ACQUIRE))
		cpu_relax(); /* its last pCPU is still saving it */
	spin_lock(&timer_lock);
	vs->dead = true;
	if (vs->timer_cpu != SCHED_NO_PCPU) {
		list_del(&vs->timer_link);
		vs->timer_cpu = SCHED_NO_PCPU;
	}
	spin_unlock(&timer_lock);
	while (__atomic_load_n(&vs->firing, __ATOMIC_ACQUIRE))
		cpu_relax(); /* another pCPU is firing its timer right now */
	evtchn_lock();       /* event senders (vcpu_kick) hold it while they look at v->sched */
	v->sched = NULL;
	evtchn_unlock();
	free_pages_virt(vs, order_for(sizeof(struct vcpu_sched)));
	return 0;
}

int sched_domain_set_params(struct domain *d, uint32_t weight, uint32_t cap, uint32_t reservation,
                            char *msg, size_t msglen)
{
	struct sched_params p = {.weight = weight, .cap = cap, .reservation = reservation};
	int rc;

	msg[0] = 0;
	if (!sched_on) {
		snprintf(msg, msglen,
		         "hv runs without its scheduler (sched=pinned on its command line)");
		return -ENOSYS;
	}
	/* The vCPUs join the scheduler now (offline), so that admission sees them. */
	rc = sched_domain_attach(d, msg, msglen);
	if (rc)
		return rc;
	if (per_vcpu_params) {
		for (unsigned int i = 0; i < d->max_vcpus; i++) {
			if (!d->vcpu[i] || !d->vcpu[i]->sched)
				continue;
			rc = sched_dom_set_params(&d->vcpu[i]->sched->own_dom, &p, pv_system_time(),
			                          msg, msglen);
			if (rc)
				return rc;
		}
		d->sched->params = p;
		return 0;
	}
	return sched_dom_set_params(d->sched, &p, pv_system_time(), msg, msglen);
}

void sched_domain_get_params(struct domain *d, uint32_t *weight, uint32_t *cap,
                             uint32_t *reservation)
{
	*weight = SCHED_WEIGHT_DEFAULT;
	*cap = *reservation = 0;
	if (!sched_on)
		return;
	if (!d->sched)
		sched_domain_create(d);
	*weight = d->sched->params.weight;
	*cap = d->sched->params.cap;
	*reservation = d->sched->params.reservation;
}

/* ---- state changes --------------------------------------------------------------------------- */

void vcpu_wake(struct vcpu *v)
{
	if (v->sched && pv(v)->online)
		sched_vcpu_wake(&v->sched->sv, pv_system_time());
}

void vcpu_sleep_offline(struct vcpu *v)
{
	if (v->sched)
		sched_vcpu_sleep(&v->sched->sv, SCHED_OFFLINE, pv_system_time());
}

void vcpu_yield(struct vcpu *v)
{
	sched_vcpu_yield(&v->sched->sv, pv_system_time());
}

static bool poll_hit(struct vcpu *v)
{
	struct vcpu_sched *vs = v->sched;

	for (unsigned int i = 0; i < vs->nr_poll; i++)
		if (evtchn_2l_is_pending(v->domain, vs->poll_ports[i]))
			return true;
	return false;
}

/* Should a blocked (or polling) v run again? */
static bool wake_condition(struct vcpu *v)
{
	struct vcpu_info *vi = v->vcpu_info;
	struct vcpu_sched *vs = v->sched;

	if (vs->polling)
		return poll_hit(v) || (vi->evtchn_upcall_pending && !vi->evtchn_upcall_mask) ||
		       (vs->poll_timeout && pv_system_time() >= vs->poll_timeout);
	return vi->evtchn_upcall_pending != 0;
}

/*
 * Before blocking, a vCPU whose pCPU has nothing else queued watches its wake condition for up
 * to SCHED_BLOCK_SPIN_US (interrupts stay off; TLB-flush requests are served meanwhile). An
 * answer from a vCPU on another pCPU (an event-channel ping-pong, a Linux IPI) then costs no
 * switch to idle and back and no IPI: a sender sees `spinning` and does not interrupt. With
 * one pCPU, or work queued here, it does not wait. True when the vCPU need not block.
 */
static bool block_spin(struct vcpu *v)
{
	struct vcpu_sched *vs = v->sched;
	struct sched_cpu *sc = &cpus[me()];
	uint64_t start;
	bool hit;

	if (nr_sched_cpus < 2 || READ_ONCE(sched_pcpu(me())->nr_queued))
		return false; /* vcpu_block looks again once the vCPU is marked blocked */
	WRITE_ONCE(vs->spinning, true);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	start = rdtsc();
	while (!(hit = wake_condition(v)) && !this_cpu()->resched &&
	       tsc_elapsed_us(start) < SCHED_BLOCK_SPIN_US) {
		if (__atomic_load_n(&sc->flush_req, __ATOMIC_ACQUIRE)) {
			flush_tlb_all_local();
			__atomic_store_n(&sc->flush_req, 0, __ATOMIC_RELEASE);
		}
		cpu_relax();
	}
	WRITE_ONCE(vs->spinning, false);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return hit;
}

void vcpu_block(struct vcpu *v, bool poll, const uint32_t *ports, unsigned int nr, uint64_t timeout)
{
	struct vcpu_sched *vs = v->sched;

	pv_timers_check(v);
	vs->nr_poll = poll ? nr : 0;
	for (unsigned int i = 0; i < vs->nr_poll; i++)
		vs->poll_ports[i] = ports[i];
	vs->poll_timeout = poll ? timeout : 0;
	vs->polling = poll;
	v->polling = poll;
	if (block_spin(v)) { /* its event came: it runs on, and any poll is over */
		vs->polling = false;
		v->polling = false;
		return;
	}
	sched_vcpu_sleep(&vs->sv, SCHED_BLOCKED, pv_system_time());
	/* An event raised before we were marked blocked found us running: look again. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (wake_condition(v))
		sched_vcpu_unblock(&vs->sv, pv_system_time());
}

/* Event-channel hook (hv/common/event_2l.c): v has a new event. Any pCPU, evtchn lock held. */
void sched_vcpu_kick(struct vcpu *v)
{
	struct vcpu_sched *vs = v->sched;

	if (!sched_on || !vs || vs->dead)
		return;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (READ_ONCE(vs->sv.state) == SCHED_BLOCKED && wake_condition(v))
		sched_vcpu_unblock(&vs->sv, pv_system_time());
	else if (vs->running && vs->cpu != me() && percpu_of[vs->cpu] && !READ_ONCE(vs->spinning))
		apic_send_ipi_vector(percpu_of[vs->cpu]->apic_id, SCHED_IPI_VECTOR);
}

void sched_vcpu_runstate_info(struct vcpu *v, int32_t *state, uint64_t *entry, uint64_t time[4])
{
	struct sched_runstate_info ri;

	sched_vcpu_runstate(&v->sched->sv, &ri);
	*state = (int32_t)ri.state;
	*entry = ri.state_entry_time;
	for (unsigned int i = 0; i < 4; i++)
		time[i] = ri.time[i];
}

/* ---- starting and stopping ---------------------------------------------------------------- */

void sched_start_first_vcpu(struct vcpu *v)
{
	local_irq_disable();
	pv(v)->online = true;
	v->sched->initialised = true;
	vcpu_wake(v);
	this_cpu()->resched = true;
	do_softirq(NULL);
	arch_idle(); /* something else got this pCPU first: v runs elsewhere */
}

void sched_leave_dead_vcpu(struct domain *d, struct vcpu *v)
{
	for (unsigned int i = 0; i < d->max_vcpus; i++)
		if (d->vcpu[i]) {
			pv(d->vcpu[i])->online = false;
			vcpu_sleep_offline(d->vcpu[i]);
		}
	this_cpu()->curr_vcpu = v;
	this_cpu()->resched = true;
	do_softirq(NULL); /* v is offline: something else, or idle */
	arch_idle();
}

/* ---- domains: start, pause, unpause, destroy (the lifecycle in domain.c calls these) ---- */

int sched_domain_start(struct domain *d, char *msg, size_t msglen)
{
	struct vcpu *v = d->vcpu[0];
	int rc = sched_domain_attach(d, msg, msglen);

	if (rc)
		return rc;
	memset(&v->sched->regs, 0, sizeof(v->sched->regs));
	v->sched->regs.rip = d->boot_rip;
	v->sched->regs.rsp = d->boot_rsp;
	v->sched->regs.rsi = d->boot_rsi;
	v->sched->regs.cs = FLAT_KERNEL_CS;
	v->sched->regs.ss = FLAT_KERNEL_SS;
	v->sched->regs.rflags = 0x202;
	v->sched->initialised = true;
	pv(v)->online = true;
	vcpu_wake(v);
	return 0;
}

void sched_domain_pause(struct domain *d)
{
	for (unsigned int i = 0; i < d->max_vcpus; i++)
		if (d->vcpu[i] && d->vcpu[i]->sched)
			vcpu_sleep_offline(d->vcpu[i]);
}

void sched_domain_unpause(struct domain *d)
{
	for (unsigned int i = 0; i < d->max_vcpus; i++)
		if (d->vcpu[i] && d->vcpu[i]->sched)
			vcpu_wake(d->vcpu[i]); /* only the vCPUs that are up */
}

int sched_domain_destroy(struct domain *d)
{
	for (unsigned int i = 0; i < HV_MAX_VCPUS; i++) {
		int rc;

		if (!d->vcpu[i] || !d->vcpu[i]->sched)
			continue;
		vcpu_sleep_offline(d->vcpu[i]);
		rc = sched_vcpu_destroy(d->vcpu[i]);
		if (rc)
			return rc;
	}
	if (d->sched) {
		free_pages_virt(d->sched, order_for(sizeof(struct sched_dom)));
		d->sched = NULL;
	}
	return 0;
}

uint64_t sched_domain_cpu_time_ns(struct domain *d)
{
	uint64_t total = 0, now = pv_system_time();

	for (unsigned int i = 0; i < d->max_vcpus; i++) {
		int32_t state;
		uint64_t entry, time[4];

		if (!d->vcpu[i] || !d->vcpu[i]->sched)
			continue;
		sched_vcpu_runstate_info(d->vcpu[i], &state, &entry, time);
		total += time[SCHED_RUNNING];
		if (state == SCHED_RUNNING && now > entry)
			total += now - entry;
	}
	return total;
}

/* ---- TLB flushes on other pCPUs ------------------------------------------------------------ */

void sched_flush_tlb_domain(struct domain *d)
{
	uint64_t waiting = 0;

	if (!sched_on)
		return;
	for (unsigned int c = 0; c < nr_sched_cpus; c++) {
		struct vcpu *cv;

		if (c == me() || !percpu_of[c])
			continue;
		cv = READ_ONCE(percpu_of[c]->curr_vcpu);
		if (!cv || cv->domain != d)
			continue; /* a vCPU switched in later flushes its TLB anyway */
		__atomic_store_n(&cpus[c].flush_req, 1, __ATOMIC_RELEASE);
		apic_send_ipi_vector(percpu_of[c]->apic_id, SCHED_IPI_VECTOR);
		waiting |= 1ull << c;
	}
	while (waiting) {
		struct sched_cpu *mine = &cpus[me()];

		/* Serve requests aimed at us meanwhile: two pCPUs may flush each other. */
		if (__atomic_load_n(&mine->flush_req, __ATOMIC_ACQUIRE)) {
			flush_tlb_all_local();
			__atomic_store_n(&mine->flush_req, 0, __ATOMIC_RELEASE);
		}
		for (unsigned int c = 0; c < nr_sched_cpus; c++)
			if (((waiting >> c) & 1) &&
			    !__atomic_load_n(&cpus[c].flush_req, __ATOMIC_ACQUIRE))
				waiting &= ~(1ull << c);
		cpu_relax();
	}
}

/* ---- VCPUOP up / down, and the sched_debug parameters ------------------------------------- */

long sched_vcpu_op(struct vcpu *v, unsigned int cmd, struct vcpu *target, uint64_t arg);
long sched_vcpu_op(struct vcpu *v, unsigned int cmd, struct vcpu *target, uint64_t arg)
{
	switch (cmd) {
	case 0: /* VCPUOP_initialise */
		return arch_vcpu_initialise(v, target, arg);
	case 1: /* VCPUOP_up */
		if (!target->sched->initialised)
			return -EINVAL;
		pv(target)->online = true;
		vcpu_wake(target);
		return 0;
	case 2: /* VCPUOP_down */
		pv(target)->online = false;
		vcpu_sleep_offline(target);
		return 0;
	case VCPUOP_hv_sched_params: {
		struct {
			uint32_t weight, cap, reservation, pad;
		} a;
		struct sched_params p;
		char msg[160];
		int rc;

		if (!per_vcpu_params || !v->domain->is_privileged)
			return -EPERM;
		if (copy_from_guest(&a, arg, sizeof(a)))
			return -EFAULT;
		p = (struct sched_params){a.weight, a.cap, a.reservation};
		msg[0] = 0;
		rc = sched_dom_set_params(&target->sched->own_dom, &p, pv_system_time(), msg,
		                          sizeof(msg));
		if (rc)
			printk("sched: %s\n", msg);
		return rc;
	}
	case VCPUOP_hv_sched_affinity: {
		uint64_t mask;
		char msg[160];
		int rc;

		if (!per_vcpu_params || !v->domain->is_privileged)
			return -EPERM;
		if (copy_from_guest(&mask, arg, sizeof(mask)))
			return -EFAULT;
		msg[0] = 0;
		rc = sched_vcpu_set_affinity(&target->sched->sv, mask, pv_system_time(), msg,
		                             sizeof(msg));
		if (rc)
			printk("sched: %s\n", msg);
		return rc;
	}
	}
	return -ENOSYS;
}
