/*
 * The scheduler's internal interface: what the rest of hv calls, the generic per-vCPU and
 * per-pCPU scheduling state, and the ops table a scheduling policy implements.
 *
 * Split (after Xen's sched/private.h): sched_core.c is the policy-independent part (per-pCPU
 * run queues, runstate accounting, admission of reservations, moving vCPUs between pCPUs);
 * one policy per file behind struct sched_ops (today only sched_resv.c: reservations, weights
 * and caps). The policy never touches hardware: the core asks it for the next vCPU and how
 * long that vCPU may run, and the caller programs the timer with that.
 *
 * Units: time is u64 nanoseconds of hv system time (monotonic, the same on every pCPU).
 * Weight is a relative share (1..65535, default 256, as Xen's credit scheduler). Cap and
 * reservation are percent of one pCPU and apply to each vCPU of the domain (a 2-vCPU domain
 * with reservation 30 is guaranteed 30% on each of two pCPUs); cap 0 means no cap.
 *
 * What hv provides (the host unit tests provide stubs, tests/unit/sched/stub/):
 *   <hv/spinlock.h>  spinlock_t, spin_lock_init, spin_lock, spin_unlock, spin_is_locked
 *   <hv/lib.h>       ASSERT(cond) (an hv invariant; never used on guest input), snprintf
 *                    (for the admission messages) and klib's lists
 *   sched_kick(cpu)  ask pCPU cpu to call sched_schedule() soon (an IPI, or a flag checked on
 *                    the way back to the guest when cpu is the calling pCPU)
 * Every entry point below is called with interrupts disabled (hypercall, timer or IPI
 * context), so the locks need not disable them.
 *
 * Locking (the order is: sched_admit_lock, then pCPU locks in increasing pCPU number):
 *   sched_admit_lock  every domain's params and vCPU list, each pCPU's resv_sum, each vCPU's
 *                     affinity and inserted flag. Held by insert, remove, set_params and
 *                     set_affinity, which are rare (control operations).
 *   pcpu->lock        that pCPU's runq, curr and curr_start, and the state, runstate
 *                     accounting, params copy and policy-private data of every vCPU whose
 *                     ->pcpu is that pCPU. A vCPU's ->pcpu changes only with both the old and
 *                     the new pCPU's locks held, so sched_lock_vcpu() can find it.
 *   Written under both sched_admit_lock and the vCPU's pCPU lock (readable under either):
 *   a vCPU's params and affinity.
 */
#ifndef HV_SCHED_H
#define HV_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hv/lib.h>
#include <hv/spinlock.h>

/* Single untorn accesses to fields read without their lock (as hints). */
#ifndef READ_ONCE
#define READ_ONCE(x)     (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#endif

#define SCHED_MAX_PCPUS     64  /* affinity is one u64 bit mask */
#define SCHED_MAX_DOM_VCPUS 128 /* admission plans a whole domain on the stack */
#define SCHED_NO_PCPU       0xffffffffu

#define SCHED_SLICE_NS       5000000ull  /* default time slice, 5 ms as in the paper */
#define SCHED_PERIOD_NS      10000000ull /* budget period of reservations and caps */
#define SCHED_RESV_LIMIT_PCT 95          /* most of a pCPU that reservations may take */

#define SCHED_WEIGHT_MIN     1
#define SCHED_WEIGHT_DEFAULT 256
#define SCHED_WEIGHT_MAX     65535

/* Runstates, numbered as Xen's RUNSTATE_* so that vcpu_runstate_info can be copied out. */
enum sched_runstate {
	SCHED_RUNNING = 0,  /* on a pCPU */
	SCHED_RUNNABLE = 1, /* wants a pCPU (including while parked by its cap) */
	SCHED_BLOCKED = 2,  /* waiting for an event */
	SCHED_OFFLINE = 3,  /* not yet started, paused, or down */
};
#define SCHED_NR_RUNSTATES 4

/* Is sv on a run queue? (Unlinked list nodes point to themselves, see klib/list.h.) */
#define sched_queued(sv) (!list_empty(&(sv)->rq_link))

/* What libvirt's weight, cap and reservation scheduler parameters set. */
struct sched_params {
	uint32_t weight;      /* SCHED_WEIGHT_MIN..SCHED_WEIGHT_MAX */
	uint32_t cap;         /* percent of one pCPU, 0 = none, else reservation..100 */
	uint32_t reservation; /* percent of one pCPU, 0..100 (admission may refuse) */
};

/* The scheduler's view of a domain; embedded in struct domain. */
struct sched_dom {
	uint16_t domid;
	struct sched_params params; /* admit lock */
	struct list_head vcpus;     /* admit lock: its inserted sched_vcpus */
	unsigned int nr_vcpus;      /* admit lock */
};

#define SCHED_VCPU_PRIV_WORDS 10
#define SCHED_PCPU_PRIV_WORDS 4

/* The scheduler's view of a vCPU; embedded in struct vcpu (owner points back to it). */
struct sched_vcpu {
	/* Set at insert. */
	struct sched_dom *dom;
	unsigned int vcpu_id;
	void *owner;

	/* Admit lock. */
	struct list_head dom_link;
	bool inserted;

	/* Both locks to write (see the top comment). */
	uint64_t affinity; /* pCPUs it may run on, bit n = pCPU n */
	struct sched_params params;

	/* The lock of pCPU ->pcpu. */
	unsigned int pcpu;        /* the run queue it belongs to */
	unsigned int migrate_to;  /* SCHED_NO_PCPU, or where to go once it stops running */
	struct list_head rq_link; /* on ->pcpu's runq iff runnable and not running */
	enum sched_runstate state;
	uint64_t state_entry_time;         /* when it entered ->state */
	uint64_t time[SCHED_NR_RUNSTATES]; /* ns spent in each state before that */

	uint64_t priv[SCHED_VCPU_PRIV_WORDS]; /* the policy's, see its struct */
};

/* One per physical CPU. */
struct sched_pcpu {
	spinlock_t lock;
	unsigned int id;

	/* pcpu lock. */
	struct list_head runq;   /* runnable vCPUs not running, in arrival order */
	unsigned int nr_queued;  /* entries on runq; read without the lock as a load hint */
	struct sched_vcpu *curr; /* running vCPU, NULL when idle */
	uint64_t curr_start;     /* when curr was picked */

	/* Admit lock. */
	unsigned int resv_sum; /* percent reserved by the vCPUs that live here */

	uint64_t priv[SCHED_PCPU_PRIV_WORDS]; /* the policy's */
};

/*
 * A scheduling policy. The core holds the named locks around each call; hooks must not
 * sleep, allocate or take other scheduler locks unless said so.
 */
struct sched_ops {
	const char *name;

	/* Set up pc->priv. No lock needed (boot, before any vCPU exists). */
	void (*init_pcpu)(struct sched_pcpu *pc);

	/* A new vCPU (state OFFLINE) on pc, or one leaving for good. pc lock held. */
	void (*insert)(struct sched_pcpu *pc, struct sched_vcpu *sv, uint64_t now);
	void (*remove)(struct sched_pcpu *pc, struct sched_vcpu *sv);

	/*
	 * sv became runnable and is queued on pc (pc lock held). Returns true when pc's current
	 * vCPU should be preempted for it (the core then kicks pc).
	 */
	bool (*wake)(struct sched_pcpu *pc, struct sched_vcpu *sv, uint64_t now);

	/* sv stopped being runnable (blocked or offline); already off the runq. pc lock held. */
	void (*sleep)(struct sched_pcpu *pc, struct sched_vcpu *sv, uint64_t now);

	/* sv (running on pc) gives its pCPU to any other runnable vCPU. pc lock held. */
	void (*yield)(struct sched_pcpu *pc, struct sched_vcpu *sv);

	/*
	 * The decision. prev (or NULL) has run for ran ns since pc->curr_start and is, if still
	 * runnable, back on pc's runq. Charge it, choose the vCPU to run next from pc's runq (the
	 * core dequeues it) or NULL for idle, and set *run_ns to how long it (or the idle pCPU)
	 * may go before the next decision; always > 0. pc lock held.
	 */
	struct sched_vcpu *(*do_schedule)(struct sched_pcpu *pc, struct sched_vcpu *prev,
	                                  uint64_t ran, uint64_t now, uint64_t *run_ns);

	/*
	 * Where sv (not reserved) should wake: a pCPU in its affinity. Called with no lock held:
	 * everything it reads (sv's affinity, every pCPU's load) is a hint, rechecked after.
	 */
	unsigned int (*pick_cpu)(struct sched_vcpu *sv, uint64_t now);

	/* sv (not running) moves from one pCPU to another; both locks held. */
	void (*migrate)(struct sched_vcpu *sv, struct sched_pcpu *from, struct sched_pcpu *to);

	/* sv's params changed (its pCPU lock held); refit budgets. */
	void (*params_changed)(struct sched_pcpu *pc, struct sched_vcpu *sv, uint64_t now);

	/*
	 * Load balancing, run on pCPU pc itself with no lock held: from sched_tick() (idle ==
	 * true when pc is idle) and from sched_schedule() when pc's runq is empty (idle ==
	 * true). May pull queued vCPUs from other pCPUs with sched_move_vcpu().
	 */
	void (*balance)(struct sched_pcpu *pc, uint64_t now, bool idle);
};

extern const struct sched_ops sched_resv_ops;

/* Provided by hv (and by the host simulator): see the top comment. */
void sched_kick(unsigned int cpu);

/* ---- Core entry points (sched_core.c) ---- */

/* Boot: nr_pcpus pCPUs (1..SCHED_MAX_PCPUS) driven by ops. */
int sched_init(unsigned int nr_pcpus, const struct sched_ops *ops);
unsigned int sched_nr_pcpus(void);
struct sched_pcpu *sched_pcpu(unsigned int cpu);

/* A new domain gets the default params: weight 256, no cap, no reservation. */
void sched_dom_init(struct sched_dom *d, uint16_t domid);

/*
 * Adds vCPU sv (zeroed, or removed before) to d, OFFLINE, allowed on the pCPUs in affinity
 * (masked to those that exist). With a reservation in d's params the vCPU must fit on one of
 * them: otherwise -XEN_ENOSPC and a sentence in msg; -XEN_EINVAL if affinity names no pCPU;
 * -XEN_E2BIG beyond SCHED_MAX_DOM_VCPUS. Nothing changes on failure.
 */
int sched_vcpu_insert(struct sched_dom *d, struct sched_vcpu *sv, unsigned int vcpu_id, void *owner,
                      uint64_t affinity, uint64_t now, char *msg, size_t msglen);

/*
 * Takes sv out for good; -XEN_EBUSY unless it is BLOCKED or OFFLINE and off every pCPU (after
 * sched_vcpu_sleep() of a running vCPU, retry once its pCPU has switched away).
 */
int sched_vcpu_remove(struct sched_vcpu *sv);

/*
 * Sets d's params on all its vCPUs, all or nothing: -XEN_EINVAL for out-of-range values,
 * -XEN_ENOSPC when the reservations would not fit (msg names the numbers).
 */
int sched_dom_set_params(struct sched_dom *d, const struct sched_params *p, uint64_t now, char *msg,
                         size_t msglen);

/* Pins sv to the pCPUs in mask; same errors and all-or-nothing rule as set_params. */
int sched_vcpu_set_affinity(struct sched_vcpu *sv, uint64_t mask, uint64_t now, char *msg,
                            size_t msglen);

/* State changes. sleep takes SCHED_BLOCKED or SCHED_OFFLINE. */
void sched_vcpu_wake(struct sched_vcpu *sv, uint64_t now);
/* As wake, but only a BLOCKED vCPU (an event must not start a paused or offline one). */
void sched_vcpu_unblock(struct sched_vcpu *sv, uint64_t now);
void sched_vcpu_sleep(struct sched_vcpu *sv, enum sched_runstate why, uint64_t now);
void sched_vcpu_yield(struct sched_vcpu *sv, uint64_t now);

/*
 * The decision for pCPU cpu (called on it from its timer, a kick, or a block): returns the
 * vCPU to run (NULL = idle) and in *run_ns when to decide again.
 */
struct sched_vcpu *sched_schedule(unsigned int cpu, uint64_t now, uint64_t *run_ns);

/* Periodic tick on cpu: balancing. True if cpu should call sched_schedule() now. */
bool sched_tick(unsigned int cpu, uint64_t now);

/* The numbers of Xen's vcpu_runstate_info for sv (times up to state_entry_time). */
struct sched_runstate_info {
	enum sched_runstate state;
	uint64_t state_entry_time;
	uint64_t time[SCHED_NR_RUNSTATES];
};
void sched_vcpu_runstate(struct sched_vcpu *sv, struct sched_runstate_info *out);

/*
 * For policies: lock helpers, and the one way a vCPU that is not running changes pCPU (both
 * locks held; a queued vCPU stays queued, on the new runq).
 */
struct sched_pcpu *sched_lock_vcpu(struct sched_vcpu *sv);
void sched_lock_pair(struct sched_pcpu *a, struct sched_pcpu *b);
void sched_unlock_pair(struct sched_pcpu *a, struct sched_pcpu *b);
void sched_move_vcpu(struct sched_vcpu *sv, struct sched_pcpu *from, struct sched_pcpu *to);

static inline bool sched_vcpu_allowed(const struct sched_vcpu *sv, unsigned int cpu)
{
	return cpu < SCHED_MAX_PCPUS && (sv->affinity >> cpu) & 1;
}

#endif
