/*
 * The "resv" scheduling policy: reservations, weights and caps (DESIGN.md decision 7).
 *
 * Design. Each vCPU carries three numbers (sched_params): a weight, a cap and a reservation,
 * cap and reservation in percent of one pCPU. Every pCPU decides alone, from its own run
 * queue, in two passes:
 *
 *  1. Reservations (EDF over budget servers). A vCPU with reservation r owns a budget of
 *     r% of SCHED_PERIOD_NS (10 ms) per period, with the end of its period as deadline. Among
 *     the queued vCPUs that still have reserved budget, the one with the earliest deadline
 *     runs, at most until its budget or its period ends. Admission (sched_core.c) keeps the
 *     reservations on a pCPU at or below 95% in total, and with equal periods and deadlines at
 *     period ends EDF then meets every budget: a spinning vCPU with 50% gets 5 ms of every
 *     10 ms. A vCPU that wakes with more budget left than its rate allows until its deadline
 *     (left > (deadline - now) * r) starts a fresh period at now instead (the Constant
 *     Bandwidth Server's wake-up rule), so sleeping then waking late cannot let it take more
 *     than r% of any window, and cannot break the other reservations.
 *
 *  2. Weights (virtual time, as stride scheduling and Xen's credit2 / Linux's CFS). Each vCPU
 *     has a virtual runtime that advances by ran_ns * 65536 / weight for every ns it runs,
 *     reserved or not; when no reservation is due, the eligible vCPU with the smallest
 *     virtual runtime runs for one slice (SCHED_SLICE_NS, 5 ms). So runnable vCPUs share the
 *     pCPU in proportion to their weights, and a reservation is a floor, not an addition: a
 *     vCPU gets the larger of its reservation and its weighted share (VMware's reservation /
 *     shares model, which libvirt's parameters come from). Time a vCPU runs on its
 *     reservation counts against its weighted share, so reserved vCPUs do not also take
 *     "their" part of the spare time.
 *     Sleeper bound: a waking vCPU's virtual runtime is raised to at least the pCPU's
 *     min_vruntime minus one slice's worth at its weight, so a vCPU that slept cannot hoard
 *     credit and then monopolise the pCPU; it can be at most one slice ahead of the others.
 *     A waking vCPU preempts the running one when it has reserved budget and an earlier
 *     deadline (or the running one is not on its reservation), or when its virtual runtime is
 *     behind the running one's by more than 1 ms at its weight.
 *
 *  Caps. A capped vCPU has a budget of cap% of the period on a fixed 10 ms grid. Every ns it
 *  runs (in either pass) is charged; at zero it is parked (stays queued and RUNNABLE, but
 *  neither pass picks it) until its next period starts. A capped vCPU therefore never gets
 *  more than cap% of any period, even on an otherwise idle pCPU.
 *
 *  Time slices. The slice returned to the core always ends at the next event that could
 *  change the decision on this pCPU: the chosen vCPU's budget or period end, a reserved vCPU's
 *  replenishment, a parked vCPU's unparking. Every run thus falls inside one period of each
 *  budget it is charged to, and accounting is exact to the ns (no sampling, no ticks).
 *
 *  Multiple pCPUs. Each pCPU has its own run queue and min_vruntime (virtual runtimes are
 *  rebased from one pCPU's min_vruntime to the other's when a vCPU moves). An unreserved vCPU
 *  wakes on the least loaded pCPU of its affinity (its own when that is idle or tied); a pCPU
 *  that is about to idle pulls a queued vCPU from the busiest other pCPU at once, an idle
 *  pCPU tries again on every tick, and a busy one every SCHED_BALANCE_NS when another pCPU
 *  has at least two more runnable vCPUs than it has; and when a decision leaves vCPUs queued
 *  that an idle pCPU could run, that pCPU is kicked and pulls one at once (so no pCPU idles
 *  while work it may run waits, beyond an IPI's delay). Reserved vCPUs stay where admission put
 *  them (their budget is accounted there).
 *  Load is the count of runnable vCPUs, which balancing equalises; when the count does not
 *  divide (5 vCPUs on 2 pCPUs), the 3 on one pCPU would get 33% and the 2 on the other 50%.
 *  So every SCHED_SWAP_NS a pCPU with one runnable vCPU fewer than another swaps its most
 *  served vCPU for the other's least served one, when the first is ahead by more than a
 *  slice. "Service" is weighted CPU time that, unlike vruntime, is never rebased, so it
 *  compares across pCPUs; it has the same sleeper bound as vruntime (a vCPU back from a pause
 *  cannot claim the less crowded pCPU to catch up). The most served vCPUs thus take turns on
 *  the crowded pCPU, and each gets its average share (40% each). Shares by weight are exact
 *  on one pCPU; across pCPUs with unequal weights they depend on how the counts split.
 *
 * Locking. All state here lives in sched_vcpu.priv and sched_pcpu.priv and is guarded by the
 * owning pCPU's lock, which the core holds around every hook, except:
 *  - pick_cpu() and the first half of balance() run with no lock and read other pCPUs'
 *    nr_queued and curr only as hints (never dereferencing another pCPU's curr); balance()
 *    then takes both pCPU locks (sched_lock_pair: lower pCPU number first) and checks again.
 *  - resv_pcpu.next_balance and next_swap are read and written only by their own pCPU.
 *  - swap() may mark the running vCPU of another pCPU (->migrate_to, under both locks) and
 *    kick that pCPU; the core finishes the move once it stops running the vCPU.
 * No hook allocates, sleeps or takes sched_admit_lock; do_schedule() may call sched_kick()
 * for another pCPU (an IPI; it takes no scheduler lock).
 */
#include "sched.h"

#define VT_SCALE         65536ull   /* virtual runtime units per ns at weight 1 */
#define WAKE_GRAN_NS     1000000ull /* a waking vCPU must be this far behind to preempt */
#define SCHED_BALANCE_NS 10000000ull
#define SCHED_SWAP_NS    20000000ull
/*
 * Most overrun a cap carries as debt: 10 periods. A late timer interrupt overruns by
 * microseconds; a stall of the machine itself (a virtual CPU its host did not run for a while)
 * by tens of milliseconds, which the capped vCPU then pays back over the next periods. A
 * reservation carries at most one period: a stall that hits other vCPUs makes it miss whole
 * periods, which nothing gives back, so it keeps part of what a stall gave it.
 */
#define MAX_DEBT_NS (10 * SCHED_PERIOD_NS)

struct resv_vcpu {
	uint64_t vruntime;       /* weighted service, VT units; wraps, compare by difference */
	uint64_t resv_deadline;  /* end of the reservation's current period: its EDF deadline */
	uint64_t resv_left;      /* reserved ns left before resv_deadline */
	uint64_t cap_period_end; /* end of the cap's current period (fixed grid) */
	uint64_t cap_left;       /* ns the cap still allows before cap_period_end */
	uint64_t service;        /* weighted service, VT units, never rebased: across pCPUs */
	uint64_t resv_debt;      /* ns run past the reserved budget: taken from the next ones */
	uint64_t cap_debt;       /* ns run past the cap's budget: taken from the next periods */
	uint32_t ran_reserved;   /* the current run is charged to the reservation */
	uint32_t yielded;        /* asked to let others run at the next decision */
};

struct resv_pcpu {
	uint64_t min_vruntime; /* never decreases (modulo wrap): a floor for waking vCPUs */
	uint64_t next_balance; /* own pCPU only */
	uint64_t next_swap;    /* own pCPU only */
};

_Static_assert(sizeof(struct resv_vcpu) <= sizeof(((struct sched_vcpu *)0)->priv),
               "struct resv_vcpu must fit in sched_vcpu.priv");
_Static_assert(sizeof(struct resv_pcpu) <= sizeof(((struct sched_pcpu *)0)->priv),
               "struct resv_pcpu must fit in sched_pcpu.priv");

static struct resv_vcpu *rv(struct sched_vcpu *sv)
{
	return (struct resv_vcpu *)sv->priv;
}

static struct resv_pcpu *rp(struct sched_pcpu *pc)
{
	return (struct resv_pcpu *)pc->priv;
}

static bool vt_before(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) < 0;
}

static uint64_t budget_ns(uint32_t pct)
{
	return SCHED_PERIOD_NS * pct / 100;
}

static uint64_t vt_of(uint64_t ns, uint32_t weight)
{
	return ns * VT_SCALE / weight;
}

static bool parked(struct sched_vcpu *sv)
{
	return sv->params.cap != 0 && rv(sv)->cap_left == 0;
}

static bool has_reserved_budget(struct sched_vcpu *sv)
{
	return sv->params.reservation != 0 && rv(sv)->resv_left > 0 && !parked(sv);
}

/*
 * A fresh budget of pct% of a period, less what earlier runs took beyond their budget. On a
 * real machine a slice ends when the timer interrupt is taken, a little after the budget ran
 * out; without the debt that lateness would add to every period and a cap of 20% would give
 * 20% plus the interrupt latency. With it, the average over periods is exact.
 */
static uint64_t budget_less_debt(uint32_t pct, uint64_t *debt)
{
	uint64_t b = budget_ns(pct), pay = *debt < b ? *debt : b;

	*debt -= pay;
	return b - pay;
}

/* Starts new periods that are due at now. */
static void refill(struct sched_vcpu *sv, uint64_t now)
{
	struct resv_vcpu *r = rv(sv);

	if (now >= r->cap_period_end) {
		r->cap_period_end +=
		    ((now - r->cap_period_end) / SCHED_PERIOD_NS + 1) * SCHED_PERIOD_NS;
		r->cap_left = budget_less_debt(sv->params.cap, &r->cap_debt);
	}
	if (now >= r->resv_deadline) {
		r->resv_deadline += SCHED_PERIOD_NS;
		if (r->resv_deadline <= now)
			r->resv_deadline = now + SCHED_PERIOD_NS;
		r->resv_left = budget_less_debt(sv->params.reservation, &r->resv_debt);
	}
}

static void restart_periods(struct sched_vcpu *sv, uint64_t now)
{
	struct resv_vcpu *r = rv(sv);

	r->cap_period_end = now + SCHED_PERIOD_NS;
	r->cap_left = budget_ns(sv->params.cap);
	r->resv_deadline = now + SCHED_PERIOD_NS;
	r->resv_left = budget_ns(sv->params.reservation);
	r->resv_debt = 0;
	r->cap_debt = 0;
}

static void resv_init_pcpu(struct sched_pcpu *pc)
{
	rp(pc)->min_vruntime = 0;
	rp(pc)->next_balance = 0;
	rp(pc)->next_swap = 0;
}

static void resv_insert(struct sched_pcpu *pc, struct sched_vcpu *sv, uint64_t now)
{
	rv(sv)->vruntime = rp(pc)->min_vruntime;
	restart_periods(sv, now);
}

static void resv_remove(struct sched_pcpu *pc, struct sched_vcpu *sv)
{
}

/*
 * The same bound for the cross-pCPU service that swap() compares: a vCPU that slept (or is
 * new) starts at most one slice behind the least served vCPU runnable on pc, so it cannot
 * claim the less crowded pCPU for long to catch up.
 */
static void bound_service(struct sched_pcpu *pc, struct sched_vcpu *sv)
{
	struct sched_vcpu *curr = pc->curr;
	uint64_t min = 0, floor;
	bool any = false;
	struct list_head *l;

	list_for_each(l, &pc->runq)
	{
		struct sched_vcpu *o = container_of(l, struct sched_vcpu, rq_link);

		if (o != sv && (!any || vt_before(rv(o)->service, min))) {
			min = rv(o)->service;
			any = true;
		}
	}
	if (curr && curr != sv && curr->state == SCHED_RUNNING &&
	    (!any || vt_before(rv(curr)->service, min))) {
		min = rv(curr)->service;
		any = true;
	}
	floor = min - vt_of(SCHED_SLICE_NS, sv->params.weight);
	if (any && vt_before(rv(sv)->service, floor))
		rv(sv)->service = floor;
}

static bool resv_wake(struct sched_pcpu *pc, struct sched_vcpu *sv, uint64_t now)
{
	struct resv_vcpu *r = rv(sv);
	struct sched_vcpu *curr = pc->curr;
	uint64_t floor, curr_vt;

	refill(sv, now);
	if (sv->params.reservation != 0 &&
	    r->resv_left * 100 > (r->resv_deadline - now) * sv->params.reservation) {
		r->resv_deadline = now + SCHED_PERIOD_NS; /* CBS wake-up rule */
		r->resv_left = budget_less_debt(sv->params.reservation, &r->resv_debt);
	}
	floor = rp(pc)->min_vruntime - vt_of(SCHED_SLICE_NS, sv->params.weight);
	if (vt_before(r->vruntime, floor))
		r->vruntime = floor;
	bound_service(pc, sv);

	if (curr == NULL || curr->state != SCHED_RUNNING)
		return true;
	if (has_reserved_budget(sv))
		return !rv(curr)->ran_reserved ||
		       (int64_t)(r->resv_deadline - rv(curr)->resv_deadline) < 0;
	if (rv(curr)->ran_reserved || parked(sv))
		return false;
	curr_vt = rv(curr)->vruntime + vt_of(now - pc->curr_start, curr->params.weight);
	return vt_before(r->vruntime + vt_of(WAKE_GRAN_NS, sv->params.weight), curr_vt);
}

static void resv_sleep(struct sched_pcpu *pc, struct sched_vcpu *sv, uint64_t now)
{
	rv(sv)->yielded = 0;
}

static void resv_yield(struct sched_pcpu *pc, struct sched_vcpu *sv)
{
	rv(sv)->yielded = 1;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Charges prev's run of ran ns to its budgets and its virtual runtime. */
static void charge(struct sched_vcpu *sv, uint64_t ran)
{
	struct resv_vcpu *r = rv(sv);

	if (r->ran_reserved) {
		if (ran > r->resv_left)
			r->resv_debt = min_u64(r->resv_debt + ran - r->resv_left, SCHED_PERIOD_NS);
		r->resv_left -= ran < r->resv_left ? ran : r->resv_left;
	}
	if (sv->params.cap != 0) {
		if (ran > r->cap_left)
			r->cap_debt = min_u64(r->cap_debt + ran - r->cap_left, MAX_DEBT_NS);
		r->cap_left -= ran < r->cap_left ? ran : r->cap_left;
	}
	r->vruntime += vt_of(ran, sv->params.weight);
	r->service += vt_of(ran, sv->params.weight);
	r->ran_reserved = 0;
}

/* The two passes of the design comment, ignoring skip; *reserved tells which one chose. */
static struct sched_vcpu *pick(struct sched_pcpu *pc, struct sched_vcpu *skip, bool *reserved)
{
	struct sched_vcpu *best = NULL;
	struct list_head *l;

	list_for_each(l, &pc->runq)
	{
		struct sched_vcpu *sv = container_of(l, struct sched_vcpu, rq_link);

		if (sv == skip || !has_reserved_budget(sv))
			continue;
		if (!best || (int64_t)(rv(sv)->resv_deadline - rv(best)->resv_deadline) < 0)
			best = sv;
	}
	*reserved = best != NULL;
	if (best)
		return best;
	list_for_each(l, &pc->runq)
	{
		struct sched_vcpu *sv = container_of(l, struct sched_vcpu, rq_link);

		if (sv == skip || parked(sv))
			continue;
		if (!best || vt_before(rv(sv)->vruntime, rv(best)->vruntime))
			best = sv;
	}
	return best;
}

/* Runnable vCPUs on pc, as a hint (pc may be another pCPU: its curr is not dereferenced). */
static unsigned int load_hint(struct sched_pcpu *pc)
{
	return READ_ONCE(pc->nr_queued) + (READ_ONCE(pc->curr) != NULL);
}

/*
 * Work conservation: when vCPUs stay queued on pc after a decision (a preempted one, say)
 * while another pCPU they may run on idles, kick that pCPU; its next decision pulls one
 * (resv_balance). Without this it would only notice on its next tick.
 */
static void kick_idle_helper(struct sched_pcpu *pc, struct sched_vcpu *next)
{
	uint64_t kicked = 1ull << pc->id;
	struct list_head *l;

	list_for_each(l, &pc->runq)
	{
		struct sched_vcpu *sv = container_of(l, struct sched_vcpu, rq_link);

		if (sv == next || sv->params.reservation != 0 || parked(sv))
			continue;
		for (unsigned int i = 0; i < sched_nr_pcpus(); i++) {
			if (!((kicked >> i) & 1) && sched_vcpu_allowed(sv, i) &&
			    READ_ONCE(sched_pcpu(i)->curr) == NULL) {
				kicked |= 1ull << i; /* one idle pCPU per waiting vCPU */
				sched_kick(i);
				break;
			}
		}
	}
}

/* Runnable vCPUs on pc that could run now: running, or queued and not parked. Lock held. */
static unsigned int eligible_load(struct sched_pcpu *pc)
{
	unsigned int n = pc->curr && pc->curr->state == SCHED_RUNNING;
	struct list_head *l;

	list_for_each(l, &pc->runq)
	{
		n += !parked(container_of(l, struct sched_vcpu, rq_link));
	}
	return n;
}

static struct sched_vcpu *resv_do_schedule(struct sched_pcpu *pc, struct sched_vcpu *prev,
                                           uint64_t ran, uint64_t now, uint64_t *run_ns)
{
	struct sched_vcpu *yielder = NULL, *next;
	uint64_t slice, min_vt = 0;
	bool reserved, any = false;
	struct list_head *l;

	if (prev) {
		charge(prev, ran);
		if (rv(prev)->yielded && prev->state == SCHED_RUNNABLE)
			yielder = prev;
		rv(prev)->yielded = 0;
	}

	list_for_each(l, &pc->runq)
	{
		struct sched_vcpu *sv = container_of(l, struct sched_vcpu, rq_link);

		refill(sv, now);
		if (!parked(sv) && (!any || vt_before(rv(sv)->vruntime, min_vt))) {
			min_vt = rv(sv)->vruntime;
			any = true;
		}
	}
	if (any && vt_before(rp(pc)->min_vruntime, min_vt))
		rp(pc)->min_vruntime = min_vt;

	next = pick(pc, yielder, &reserved);
	if (!next && yielder)
		next = pick(pc, NULL, &reserved); /* nobody else wants the pCPU */

	/* The slice ends at the first event that could change this decision. */
	slice = SCHED_SLICE_NS;
	if (next) {
		struct resv_vcpu *r = rv(next);

		if (reserved) {
			r->ran_reserved = 1;
			slice = min_u64(r->resv_left, r->resv_deadline - now);
		}
		if (next->params.cap != 0)
			slice = min_u64(slice, min_u64(r->cap_left, r->cap_period_end - now));
	}
	list_for_each(l, &pc->runq)
	{
		struct sched_vcpu *sv = container_of(l, struct sched_vcpu, rq_link);
		struct resv_vcpu *r = rv(sv);

		if (sv->params.reservation != 0 && (r->resv_left == 0 || parked(sv)))
			slice = min_u64(slice, r->resv_deadline - now);
		if (parked(sv))
			slice = min_u64(slice, r->cap_period_end - now);
	}
	ASSERT(slice > 0);
	*run_ns = slice;
	kick_idle_helper(pc, next);
	return next;
}

static unsigned int resv_pick_cpu(struct sched_vcpu *sv, uint64_t now)
{
	unsigned int cur = READ_ONCE(sv->pcpu), best = cur, best_load;
	uint64_t aff = READ_ONCE(sv->affinity);

	if (READ_ONCE(sv->params.reservation) != 0 || !((aff >> cur) & 1))
		return cur;
	best_load = load_hint(sched_pcpu(cur));
	for (unsigned int i = 0; i < sched_nr_pcpus() && best_load > 0; i++) {
		unsigned int l;

		if (!((aff >> i) & 1) || i == cur)
			continue;
		l = load_hint(sched_pcpu(i));
		if (l < best_load) {
			best = i;
			best_load = l;
		}
	}
	return best;
}

static void resv_migrate(struct sched_vcpu *sv, struct sched_pcpu *from, struct sched_pcpu *to)
{
	rv(sv)->vruntime = rv(sv)->vruntime - rp(from)->min_vruntime + rp(to)->min_vruntime;
}

static void resv_params_changed(struct sched_pcpu *pc, struct sched_vcpu *sv, uint64_t now)
{
	struct resv_vcpu *r = rv(sv);
	uint64_t min = rp(pc)->min_vruntime, slack = vt_of(SCHED_SLICE_NS, sv->params.weight);

	/* Start afresh: no debt or credit carries over from the old params. */
	restart_periods(sv, now);
	if (vt_before(r->vruntime, min - slack))
		r->vruntime = min - slack;
	if (vt_before(min + slack, r->vruntime))
		r->vruntime = min + slack;
}

/* May sv go from where it is to pc? Unreserved, allowed there, not parked, not moving. */
static bool may_move(struct sched_vcpu *sv, struct sched_pcpu *pc)
{
	return sv->params.reservation == 0 && sched_vcpu_allowed(sv, pc->id) && !parked(sv) &&
	       sv->migrate_to == SCHED_NO_PCPU;
}

/* The queued vCPU on from that pc may take: unreserved, allowed on pc, not parked. */
static struct sched_vcpu *movable(struct sched_pcpu *from, struct sched_pcpu *pc)
{
	struct list_head *l;

	list_for_each(l, &from->runq)
	{
		struct sched_vcpu *sv = container_of(l, struct sched_vcpu, rq_link);

		if (may_move(sv, pc))
			return sv;
	}
	return NULL;
}

static void swap(struct sched_pcpu *pc);

/* Whether pc runs a vCPU, as pc itself sees it (its own curr cannot go away under it). */
static unsigned int own_running(struct sched_pcpu *pc)
{
	struct sched_vcpu *curr = READ_ONCE(pc->curr);

	return curr && curr->state == SCHED_RUNNING;
}

/*
 * Pulls one vCPU to pc from the most loaded pCPU that has one pc may take and at least two
 * more runnable vCPUs than pc (so a move never just swaps the imbalance). The loads are
 * hints; each candidate is checked again under both locks.
 */
static void resv_balance(struct sched_pcpu *pc, uint64_t now, bool idle)
{
	uint64_t tried = 1ull << pc->id;

	if (!idle) {
		if (now < rp(pc)->next_balance)
			return;
		rp(pc)->next_balance = now + SCHED_BALANCE_NS;
	}

	for (;;) {
		struct sched_pcpu *busiest = NULL;
		unsigned int mine = own_running(pc), most = 0, theirs;
		struct sched_vcpu *sv;

		/* Hints, counting parked vCPUs; the exact counts are taken under the locks. */
		for (unsigned int i = 0; i < sched_nr_pcpus(); i++) {
			struct sched_pcpu *other = sched_pcpu(i);
			unsigned int l = load_hint(other);

			if (!((tried >> i) & 1) && READ_ONCE(other->nr_queued) > 0 &&
			    l >= mine + 2 && l > most) {
				busiest = other;
				most = l;
			}
		}
		if (!busiest)
			break;
		tried |= 1ull << busiest->id;

		sched_lock_pair(pc, busiest);
		mine = eligible_load(pc);
		theirs = eligible_load(busiest);
		sv = theirs >= mine + 2 ? movable(busiest, pc) : NULL;
		if (sv)
			sched_move_vcpu(sv, busiest, pc);
		sched_unlock_pair(pc, busiest);
		if (sv)
			return;
	}
	if (!idle && now >= rp(pc)->next_swap) {
		rp(pc)->next_swap = now + SCHED_SWAP_NS;
		swap(pc);
	}
}

/*
 * The runnable vCPU on from that may go to to with the most service (most == true; queued or
 * running) or the least (queued only: it then runs on to at once, leaving no gap while a
 * running one would still be on its way). Both locks held.
 */
static struct sched_vcpu *extreme(struct sched_pcpu *from, struct sched_pcpu *to, bool most)
{
	struct sched_vcpu *best = NULL, *curr = from->curr;
	struct list_head *l;

	list_for_each(l, &from->runq)
	{
		struct sched_vcpu *sv = container_of(l, struct sched_vcpu, rq_link);

		if (may_move(sv, to) &&
		    (!best || (most ? vt_before(rv(best)->service, rv(sv)->service)
		                    : vt_before(rv(sv)->service, rv(best)->service))))
			best = sv;
	}
	if (curr && curr->state == SCHED_RUNNING && may_move(curr, to) &&
	    (!best || (most ? vt_before(rv(best)->service, rv(curr)->service)
	                    : vt_before(rv(curr)->service, rv(best)->service))))
		best = curr;
	return best;
}

/* Sends sv to to: at once if queued, else (running) at its pCPU's next decision. */
static unsigned int send(struct sched_vcpu *sv, struct sched_pcpu *from, struct sched_pcpu *to)
{
	if (from->curr == sv) {
		sv->migrate_to = to->id;
		return from->id;
	}
	sched_move_vcpu(sv, from, to);
	return SCHED_NO_PCPU;
}

/*
 * Counts balanced, shares not: with 5 vCPUs on 2 pCPUs, the 3 on the crowded one get 33%
 * and the 2 others 50%. So every SCHED_SWAP_NS, pc looks for a pCPU with exactly one
 * runnable vCPU more than it has, and swaps its most served vCPU with that pCPU's least
 * served one when the first is ahead by more than a slice: the most served vCPUs thus sit
 * on the crowded pCPUs, in turn, and each gets its average share over time (40% each).
 */
static void swap(struct sched_pcpu *pc)
{
	/* Trading is for fully busy machines: while a pCPU idles, pulling work is what counts. */
	for (unsigned int i = 0; i < sched_nr_pcpus(); i++)
		if (READ_ONCE(sched_pcpu(i)->curr) == NULL)
			return;
	for (unsigned int i = 0; i < sched_nr_pcpus(); i++) {
		struct sched_pcpu *other = sched_pcpu(i);
		struct sched_vcpu *hi, *lo;
		unsigned int k1 = SCHED_NO_PCPU, k2 = SCHED_NO_PCPU;
		bool done = false;

		if (other == pc || load_hint(other) < 2)
			continue;
		sched_lock_pair(pc, other);
		hi = extreme(pc, other, true);
		lo = extreme(other, pc, false);
		if (hi && lo && eligible_load(other) == eligible_load(pc) + 1 &&
		    vt_before(rv(lo)->service + vt_of(SCHED_SLICE_NS, lo->params.weight),
		              rv(hi)->service)) {
			k1 = send(hi, pc, other);
			k2 = send(lo, other, pc);
			done = true;
		}
		sched_unlock_pair(pc, other);
		if (k1 != SCHED_NO_PCPU)
			sched_kick(k1);
		if (k2 != SCHED_NO_PCPU)
			sched_kick(k2);
		if (done)
			return;
	}
}

const struct sched_ops sched_resv_ops = {
    .name = "resv",
    .init_pcpu = resv_init_pcpu,
    .insert = resv_insert,
    .remove = resv_remove,
    .wake = resv_wake,
    .sleep = resv_sleep,
    .yield = resv_yield,
    .do_schedule = resv_do_schedule,
    .pick_cpu = resv_pick_cpu,
    .migrate = resv_migrate,
    .params_changed = resv_params_changed,
    .balance = resv_balance,
};
