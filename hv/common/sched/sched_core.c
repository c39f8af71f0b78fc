/*
 * The policy-independent part of the scheduler: per-pCPU run queues, the runstate accounting
 * that fills Xen's vcpu_runstate_info, admission of reservations, and moving vCPUs between
 * pCPUs. The policy (sched_ops, see sched.h) only charges time and chooses.
 *
 * Invariants (each kept under the locks sched.h names):
 *  - A vCPU is on the runq of pCPU ->pcpu exactly when it is RUNNABLE, is not that pCPU's
 *    curr, and has no pending migration (->migrate_to). A running vCPU is the curr of its
 *    ->pcpu and of no other pCPU.
 *  - Runstate accounting is exact: for every inserted vCPU, the sum of time[] plus
 *    (now - state_entry_time) equals now minus its insert time. Every state change goes
 *    through runstate_set(), with times that never go backwards.
 *  - Admission: for every pCPU, resv_sum is the sum of the reservations of the vCPUs whose
 *    reservation lives there (->migrate_to if one is pending, else ->pcpu), and never exceeds
 *    SCHED_RESV_LIMIT_PCT. A change that would break this is refused before anything is
 *    written, so a refusal changes nothing. The limit is 95%, not 100%: the rest keeps every
 *    pCPU able to run unreserved vCPUs (dom0 among them) and absorbs timer and switch costs.
 *  - A vCPU with a reservation moves between pCPUs only through admission (set_params,
 *    set_affinity); wake-up placement and load balancing move only unreserved vCPUs, so a
 *    reservation always sits where it was admitted.
 *
 * A running vCPU is never moved directly: admission (or the policy's balancing) marks it with
 * ->migrate_to and kicks its pCPU; sched_schedule() on that pCPU finishes the move once it
 * has stopped running it.
 */
#include "sched.h"

#include <public/errno.h>

static struct sched_pcpu pcpus[SCHED_MAX_PCPUS];
static unsigned int nr_pcpus;
static uint64_t online_mask;
static const struct sched_ops *ops;
static spinlock_t sched_admit_lock;

int sched_init(unsigned int n, const struct sched_ops *policy)
{
	if (n == 0 || n > SCHED_MAX_PCPUS)
		return -XEN_EINVAL;
	ops = policy;
	nr_pcpus = n;
	online_mask = n == 64 ? ~0ull : (1ull << n) - 1;
	spin_lock_init(&sched_admit_lock);
	for (unsigned int i = 0; i < SCHED_MAX_PCPUS; i++) {
		struct sched_pcpu *pc = &pcpus[i];

		spin_lock_init(&pc->lock);
		pc->id = i;
		list_init(&pc->runq);
		pc->nr_queued = 0;
		pc->curr = NULL;
		pc->curr_start = 0;
		pc->resv_sum = 0;
		for (unsigned int w = 0; w < SCHED_PCPU_PRIV_WORDS; w++)
			pc->priv[w] = 0;
		if (i < n)
			ops->init_pcpu(pc);
	}
	return 0;
}

unsigned int sched_nr_pcpus(void)
{
	return nr_pcpus;
}

struct sched_pcpu *sched_pcpu(unsigned int cpu)
{
	ASSERT(cpu < nr_pcpus);
	return &pcpus[cpu];
}

void sched_dom_init(struct sched_dom *d, uint16_t domid)
{
	d->domid = domid;
	d->params.weight = SCHED_WEIGHT_DEFAULT;
	d->params.cap = 0;
	d->params.reservation = 0;
	list_init(&d->vcpus);
	d->nr_vcpus = 0;
}

/* ---- Locking helpers ---- */

struct sched_pcpu *sched_lock_vcpu(struct sched_vcpu *sv)
{
	for (;;) {
		struct sched_pcpu *pc = &pcpus[READ_ONCE(sv->pcpu)];

		spin_lock(&pc->lock);
		if (sv->pcpu == pc->id)
			return pc;
		spin_unlock(&pc->lock); /* moved while we waited */
	}
}

void sched_lock_pair(struct sched_pcpu *a, struct sched_pcpu *b)
{
	if (a == b) {
		spin_lock(&a->lock);
	} else if (a->id < b->id) {
		spin_lock(&a->lock);
		spin_lock(&b->lock);
	} else {
		spin_lock(&b->lock);
		spin_lock(&a->lock);
	}
}

void sched_unlock_pair(struct sched_pcpu *a, struct sched_pcpu *b)
{
	spin_unlock(&a->lock);
	if (a != b)
		spin_unlock(&b->lock);
}

/* Locks sv's pCPU together with other; returns sv's pCPU. */
static struct sched_pcpu *lock_vcpu_and(struct sched_vcpu *sv, struct sched_pcpu *other)
{
	for (;;) {
		struct sched_pcpu *pc = &pcpus[READ_ONCE(sv->pcpu)];

		sched_lock_pair(pc, other);
		if (sv->pcpu == pc->id)
			return pc;
		sched_unlock_pair(pc, other);
	}
}

/* ---- Run queue and runstate ---- */

static void enqueue(struct sched_pcpu *pc, struct sched_vcpu *sv)
{
	ASSERT(spin_is_locked(&pc->lock) && sv->pcpu == pc->id);
	ASSERT(sv->state == SCHED_RUNNABLE && sv->migrate_to == SCHED_NO_PCPU);
	ASSERT(!sched_queued(sv));
	list_add_tail(&sv->rq_link, &pc->runq);
	WRITE_ONCE(pc->nr_queued, pc->nr_queued + 1);
}

static void dequeue(struct sched_pcpu *pc, struct sched_vcpu *sv)
{
	ASSERT(spin_is_locked(&pc->lock) && sv->pcpu == pc->id && sched_queued(sv));
	list_del(&sv->rq_link);
	WRITE_ONCE(pc->nr_queued, pc->nr_queued - 1);
}

/*
 * Callers read the clock before they take the lock, so a change from another pCPU that took
 * the lock first may carry a later time: the later of the two is used (the accounting stays
 * exact; the state simply changes a few ns later than the caller read).
 */
static void runstate_set(struct sched_vcpu *sv, enum sched_runstate to, uint64_t now)
{
	if (now < sv->state_entry_time)
		now = sv->state_entry_time;
	sv->time[sv->state] += now - sv->state_entry_time;
	sv->state = to;
	sv->state_entry_time = now;
}

void sched_move_vcpu(struct sched_vcpu *sv, struct sched_pcpu *from, struct sched_pcpu *to)
{
	bool queued = sched_queued(sv);

	ASSERT(spin_is_locked(&from->lock) && spin_is_locked(&to->lock));
	ASSERT(sv->pcpu == from->id && from->curr != sv && sched_vcpu_allowed(sv, to->id));
	if (from == to)
		return;
	if (queued)
		dequeue(from, sv);
	ops->migrate(sv, from, to);
	WRITE_ONCE(sv->pcpu, to->id);
	if (queued)
		enqueue(to, sv);
}

/*
 * Completes a move that admission asked for while sv was running; called with no lock held
 * after sv's pCPU stopped running it.
 */
static void finish_migration(struct sched_vcpu *sv)
{
	for (;;) {
		unsigned int from_id = READ_ONCE(sv->pcpu), to_id = READ_ONCE(sv->migrate_to);
		struct sched_pcpu *from = &pcpus[from_id], *to;
		bool kick;

		if (to_id == SCHED_NO_PCPU)
			return;
		to = &pcpus[to_id];
		sched_lock_pair(from, to);
		if (sv->pcpu != from_id || sv->migrate_to != to_id) {
			sched_unlock_pair(from, to);
			continue; /* raced with another change: look again */
		}
		if (from->curr == sv) { /* running again here: its next deschedule finishes */
			sched_unlock_pair(from, to);
			return;
		}
		sv->migrate_to = SCHED_NO_PCPU;
		sched_move_vcpu(sv, from, to);
		kick = sv->state == SCHED_RUNNABLE;
		if (kick && !sched_queued(sv))
			enqueue(to, sv);
		sched_unlock_pair(from, to);
		if (kick)
			sched_kick(to_id);
		return;
	}
}

/* ---- State changes ---- */

static void wake(struct sched_vcpu *sv, uint64_t now, bool only_blocked)
{
	unsigned int target = ops->pick_cpu(sv, now);
	struct sched_pcpu *tpc = &pcpus[target < nr_pcpus ? target : 0];
	struct sched_pcpu *pc = lock_vcpu_and(sv, tpc);
	struct sched_pcpu *dest = pc;
	bool kick = false;

	if (sv->state == SCHED_RUNNING || sv->state == SCHED_RUNNABLE)
		goto out;
	if (only_blocked && sv->state != SCHED_BLOCKED)
		goto out;
	if (pc->curr == sv) {
		/* Blocked a moment ago and not yet switched away from: just keep running. */
		runstate_set(sv, SCHED_RUNNING, now);
		goto out;
	}
	if (tpc != pc && sv->params.reservation == 0 && sv->migrate_to == SCHED_NO_PCPU &&
	    sched_vcpu_allowed(sv, tpc->id)) {
		sched_move_vcpu(sv, pc, tpc);
		dest = tpc;
	}
	runstate_set(sv, SCHED_RUNNABLE, now);
	if (sv->migrate_to == SCHED_NO_PCPU) {
		enqueue(dest, sv);
		kick = ops->wake(dest, sv, now) || dest->curr == NULL;
	} /* else finish_migration() queues it where it goes */
out:
	sched_unlock_pair(pc, tpc);
	if (kick)
		sched_kick(dest->id);
}

void sched_vcpu_wake(struct sched_vcpu *sv, uint64_t now)
{
	wake(sv, now, false);
}

void sched_vcpu_unblock(struct sched_vcpu *sv, uint64_t now)
{
	wake(sv, now, true);
}

void sched_vcpu_sleep(struct sched_vcpu *sv, enum sched_runstate why, uint64_t now)
{
	struct sched_pcpu *pc = sched_lock_vcpu(sv);
	bool was_running = sv->state == SCHED_RUNNING;

	ASSERT(why == SCHED_BLOCKED || why == SCHED_OFFLINE);
	if (sv->state == SCHED_BLOCKED || sv->state == SCHED_OFFLINE) {
		if (sv->state != why)
			runstate_set(sv, why, now); /* e.g. paused while blocked */
		spin_unlock(&pc->lock);
		return;
	}
	if (sched_queued(sv))
		dequeue(pc, sv);
	runstate_set(sv, why, now);
	ops->sleep(pc, sv, now);
	spin_unlock(&pc->lock);
	if (was_running)
		sched_kick(pc->id);
}

void sched_vcpu_yield(struct sched_vcpu *sv, uint64_t now)
{
	struct sched_pcpu *pc = sched_lock_vcpu(sv);
	bool running = pc->curr == sv && sv->state == SCHED_RUNNING;

	if (running)
		ops->yield(pc, sv);
	spin_unlock(&pc->lock);
	if (running)
		sched_kick(pc->id);
}

struct sched_vcpu *sched_schedule(unsigned int cpu, uint64_t now, uint64_t *run_ns)
{
	struct sched_pcpu *pc = &pcpus[cpu];
	struct sched_vcpu *prev, *next;
	bool migrating = false;
	uint64_t ran;

	ASSERT(cpu < nr_pcpus);
	if (READ_ONCE(pc->nr_queued) == 0)
		ops->balance(pc, now, true); /* about to idle or to run prev alone: pull work */

	spin_lock(&pc->lock);
	prev = pc->curr;
	ran = prev ? now - pc->curr_start : 0;
	ASSERT(!prev || now >= pc->curr_start);
	if (prev && prev->state == SCHED_RUNNING) {
		runstate_set(prev, SCHED_RUNNABLE, now);
		if (prev->migrate_to == SCHED_NO_PCPU)
			enqueue(pc, prev);
		else
			migrating = true;
	} else if (prev && prev->migrate_to != SCHED_NO_PCPU) {
		migrating = true; /* blocked while a move was pending: move it asleep */
	}
	pc->curr = NULL;
	next = ops->do_schedule(pc, prev, ran, now, run_ns);
	ASSERT(*run_ns > 0);
	if (next) {
		ASSERT(next->pcpu == cpu && next->state == SCHED_RUNNABLE);
		dequeue(pc, next);
		runstate_set(next, SCHED_RUNNING, now);
	}
	pc->curr = next;
	pc->curr_start = now;
	spin_unlock(&pc->lock);

	if (migrating)
		finish_migration(prev);
	return next;
}

bool sched_tick(unsigned int cpu, uint64_t now)
{
	struct sched_pcpu *pc = &pcpus[cpu];
	bool resched;

	ASSERT(cpu < nr_pcpus);
	ops->balance(pc, now, READ_ONCE(pc->curr) == NULL);
	spin_lock(&pc->lock);
	resched = pc->curr == NULL && pc->nr_queued > 0;
	spin_unlock(&pc->lock);
	return resched;
}

void sched_vcpu_runstate(struct sched_vcpu *sv, struct sched_runstate_info *out)
{
	struct sched_pcpu *pc = sched_lock_vcpu(sv);

	out->state = sv->state;
	out->state_entry_time = sv->state_entry_time;
	for (unsigned int i = 0; i < SCHED_NR_RUNSTATES; i++)
		out->time[i] = sv->time[i];
	spin_unlock(&pc->lock);
}

/* ---- Admission ---- */

static int check_params(const struct sched_dom *d, const struct sched_params *p, char *msg,
                        size_t len)
{
	if (p->weight < SCHED_WEIGHT_MIN || p->weight > SCHED_WEIGHT_MAX) {
		snprintf(msg, len, "domain %u: weight %u is outside %u..%u.", d->domid, p->weight,
		         SCHED_WEIGHT_MIN, SCHED_WEIGHT_MAX);
		return -XEN_EINVAL;
	}
	if (p->reservation > 100 || p->cap > 100) {
		snprintf(msg, len,
		         "domain %u: cap %u%% and reservation %u%% must be at most 100%%.",
		         d->domid, p->cap, p->reservation);
		return -XEN_EINVAL;
	}
	if (p->cap != 0 && p->cap < p->reservation) {
		snprintf(msg, len, "domain %u: cap %u%% is below the reservation %u%%.", d->domid,
		         p->cap, p->reservation);
		return -XEN_EINVAL;
	}
	return 0;
}

/* The pCPU whose resv_sum holds sv's reservation. */
static unsigned int resv_home(const struct sched_vcpu *sv)
{
	return sv->migrate_to != SCHED_NO_PCPU ? sv->migrate_to : sv->pcpu;
}

/*
 * Where one vCPU would live with reservation resv and affinity aff, given the reserved sums
 * in sums[] (which it updates). cur is where it is now (SCHED_NO_PCPU for a new vCPU): it
 * stays there when it fits, otherwise it goes to the allowed pCPU with most room left.
 */
static int place_one(const struct sched_dom *d, unsigned int vcpu_id, uint32_t resv, uint64_t aff,
                     unsigned int cur, unsigned int sums[], unsigned int *where, char *msg,
                     size_t len)
{
	unsigned int best = SCHED_NO_PCPU, nr_allowed = 0;

	aff &= online_mask;
	if (aff == 0) {
		snprintf(msg, len, "domain %u vcpu %u: its affinity names no pCPU of this machine.",
		         d->domid, vcpu_id);
		return -XEN_EINVAL;
	}
	for (unsigned int i = 0; i < nr_pcpus; i++) {
		if (!((aff >> i) & 1))
			continue;
		nr_allowed++;
		if (best == SCHED_NO_PCPU || sums[i] < sums[best])
			best = i;
	}
	if (cur < nr_pcpus && ((aff >> cur) & 1) && sums[cur] + resv <= SCHED_RESV_LIMIT_PCT)
		best = cur;
	if (sums[best] + resv > SCHED_RESV_LIMIT_PCT) {
		unsigned int free = SCHED_RESV_LIMIT_PCT - sums[best];

		if (nr_allowed == 1)
			snprintf(msg, len,
			         "domain %u vcpu %u: reservation %u%% on pCPU %u exceeds the %u%% "
			         "still free (reservations may fill %u%% of a pCPU).",
			         d->domid, vcpu_id, resv, best, free, SCHED_RESV_LIMIT_PCT);
		else
			snprintf(
			    msg, len,
			    "domain %u vcpu %u: reservation %u%% fits on none of its %u pCPUs "
			    "(most free: %u%% on pCPU %u; reservations may fill %u%% of a pCPU).",
			    d->domid, vcpu_id, resv, nr_allowed, free, best, SCHED_RESV_LIMIT_PCT);
		return -XEN_ENOSPC;
	}
	sums[best] += resv;
	*where = best;
	return 0;
}

/*
 * Gives sv its new params and affinity and makes it live on target, in one critical section
 * under the locks of both its pCPU and target (so that finish_migration() never sees an
 * affinity and a pending move that disagree). A vCPU that is not running moves at once; a
 * running one is marked and moved by sched_schedule() once it stops. The pCPU concerned is
 * kicked so that a running slice is cut to the new budgets. Admit lock held.
 */
static void apply(struct sched_vcpu *sv, const struct sched_params *p, uint64_t aff,
                  unsigned int target, uint64_t now)
{
	struct sched_pcpu *to = &pcpus[target];
	struct sched_pcpu *from = lock_vcpu_and(sv, to);
	bool active = sv->state == SCHED_RUNNING || sv->state == SCHED_RUNNABLE;
	unsigned int kick = active ? from->id : SCHED_NO_PCPU;

	sv->params = *p;
	sv->affinity = aff;
	ops->params_changed(from, sv, now);
	if (from == to) {
		sv->migrate_to = SCHED_NO_PCPU; /* a pending move away is cancelled */
		if (sv->state == SCHED_RUNNABLE && from->curr != sv && !sched_queued(sv))
			enqueue(from, sv); /* it was between its pCPUs: keep it here */
	} else if (from->curr == sv) {
		sv->migrate_to = target;
	} else {
		sv->migrate_to = SCHED_NO_PCPU;
		sched_move_vcpu(sv, from, to);
		if (sv->state == SCHED_RUNNABLE && !sched_queued(sv))
			enqueue(to, sv);
		kick = active ? to->id : SCHED_NO_PCPU;
	}
	sched_unlock_pair(from, to);
	if (kick != SCHED_NO_PCPU)
		sched_kick(kick);
}

int sched_vcpu_insert(struct sched_dom *d, struct sched_vcpu *sv, unsigned int vcpu_id, void *owner,
                      uint64_t affinity, uint64_t now, char *msg, size_t msglen)
{
	unsigned int sums[SCHED_MAX_PCPUS], where;
	struct sched_pcpu *pc;
	int rc;

	spin_lock(&sched_admit_lock);
	ASSERT(!sv->inserted);
	if (d->nr_vcpus >= SCHED_MAX_DOM_VCPUS) {
		spin_unlock(&sched_admit_lock);
		snprintf(msg, msglen, "domain %u: the scheduler takes at most %u vcpus per domain.",
		         d->domid, SCHED_MAX_DOM_VCPUS);
		return -XEN_E2BIG;
	}
	for (unsigned int i = 0; i < nr_pcpus; i++)
		sums[i] = pcpus[i].resv_sum;
	rc = place_one(d, vcpu_id, d->params.reservation, affinity, SCHED_NO_PCPU, sums, &where,
	               msg, msglen);
	if (rc) {
		spin_unlock(&sched_admit_lock);
		return rc;
	}

	sv->dom = d;
	sv->vcpu_id = vcpu_id;
	sv->owner = owner;
	sv->affinity = affinity & online_mask;
	sv->params = d->params;
	sv->pcpu = where;
	sv->migrate_to = SCHED_NO_PCPU;
	list_init(&sv->rq_link);
	sv->state = SCHED_OFFLINE;
	sv->state_entry_time = now;
	for (unsigned int i = 0; i < SCHED_NR_RUNSTATES; i++)
		sv->time[i] = 0;
	for (unsigned int w = 0; w < SCHED_VCPU_PRIV_WORDS; w++)
		sv->priv[w] = 0;

	pc = &pcpus[where];
	pc->resv_sum += d->params.reservation;
	spin_lock(&pc->lock);
	ops->insert(pc, sv, now);
	spin_unlock(&pc->lock);

	list_add_tail(&sv->dom_link, &d->vcpus);
	d->nr_vcpus++;
	sv->inserted = true;
	spin_unlock(&sched_admit_lock);
	return 0;
}

int sched_vcpu_remove(struct sched_vcpu *sv)
{
	struct sched_pcpu *pc;

	spin_lock(&sched_admit_lock);
	ASSERT(sv->inserted);
	pc = sched_lock_vcpu(sv);
	if (sv->state == SCHED_RUNNING || sv->state == SCHED_RUNNABLE || pc->curr == sv ||
	    sv->migrate_to != SCHED_NO_PCPU) {
		spin_unlock(&pc->lock);
		spin_unlock(&sched_admit_lock);
		return -XEN_EBUSY;
	}
	ASSERT(!sched_queued(sv));
	ops->remove(pc, sv);
	ASSERT(pc->resv_sum >= sv->params.reservation);
	pc->resv_sum -= sv->params.reservation;
	spin_unlock(&pc->lock);

	list_del(&sv->dom_link);
	sv->dom->nr_vcpus--;
	sv->inserted = false;
	spin_unlock(&sched_admit_lock);
	return 0;
}

/*
 * The common path of set_params and set_affinity: plan every vCPU of d with params p (and,
 * for the one vCPU aff_vcpu, affinity new_aff) on a copy of the sums; only when all fit,
 * write the sums and apply. Admit lock held.
 */
static int readmit(struct sched_dom *d, const struct sched_params *p, struct sched_vcpu *aff_vcpu,
                   uint64_t new_aff, uint64_t now, char *msg, size_t len)
{
	unsigned int sums[SCHED_MAX_PCPUS], where[SCHED_MAX_DOM_VCPUS];
	struct list_head *l;
	unsigned int n = 0;
	int rc;

	ASSERT(d->nr_vcpus <= SCHED_MAX_DOM_VCPUS);
	for (unsigned int i = 0; i < nr_pcpus; i++)
		sums[i] = pcpus[i].resv_sum;
	list_for_each(l, &d->vcpus)
	{
		struct sched_vcpu *sv = container_of(l, struct sched_vcpu, dom_link);

		sums[resv_home(sv)] -= sv->params.reservation;
	}
	list_for_each(l, &d->vcpus)
	{
		struct sched_vcpu *sv = container_of(l, struct sched_vcpu, dom_link);
		uint64_t aff = sv == aff_vcpu ? new_aff : sv->affinity;

		rc = place_one(d, sv->vcpu_id, p->reservation, aff, resv_home(sv), sums,
		               &where[n++], msg, len);
		if (rc)
			return rc;
	}

	/* Everything fits: commit. */
	n = 0;
	list_for_each(l, &d->vcpus)
	{
		struct sched_vcpu *sv = container_of(l, struct sched_vcpu, dom_link);

		pcpus[resv_home(sv)].resv_sum -= sv->params.reservation;
		pcpus[where[n++]].resv_sum += p->reservation;
	}
	n = 0;
	list_for_each(l, &d->vcpus)
	{
		struct sched_vcpu *sv = container_of(l, struct sched_vcpu, dom_link);
		uint64_t aff = sv == aff_vcpu ? new_aff & online_mask : sv->affinity;

		apply(sv, p, aff, where[n++], now);
	}
	d->params = *p;
	return 0;
}

int sched_dom_set_params(struct sched_dom *d, const struct sched_params *p, uint64_t now, char *msg,
                         size_t msglen)
{
	int rc = check_params(d, p, msg, msglen);

	if (rc)
		return rc;
	spin_lock(&sched_admit_lock);
	rc = readmit(d, p, NULL, 0, now, msg, msglen);
	spin_unlock(&sched_admit_lock);
	return rc;
}

int sched_vcpu_set_affinity(struct sched_vcpu *sv, uint64_t mask, uint64_t now, char *msg,
                            size_t msglen)
{
	int rc;

	spin_lock(&sched_admit_lock);
	ASSERT(sv->inserted);
	rc = readmit(sv->dom, &sv->dom->params, sv, mask, now, msg, msglen);
	spin_unlock(&sched_admit_lock);
	return rc;
}
