/*
 * How hv runs vCPUs on pCPUs: the glue between the scheduling policy (hv/common/sched/, a pure
 * module that only decides) and the machine (hv/common/schedule.c: per-pCPU softirq, one-shot
 * APIC timer, kicks, vCPU timers; hv/arch/x86/pv/context_switch.c: saving and loading a vCPU).
 *
 * Execution model. hv runs with interrupts off, except in the idle loop (hlt). A vCPU that is
 * not running keeps its registers in its struct vcpu_sched (the trap frame, FPU image, segment
 * state); a running vCPU's frame is at the top of its pCPU's stack. Every decision is taken
 * on the way out of hv (sched_softirq(), from pv_exit_to_guest() and from the idle loop):
 * the frame of the vCPU leaving is copied out, the next one's is copied in, and hv returns to
 * it with a fresh stack. So a hypercall that blocks simply returns (with its result already in
 * the frame) and the switch happens on the exit path, as in Xen.
 *
 * vCPU timers (single-shot, periodic, poll timeout) of a running vCPU are checked on its exits
 * and its pCPU's timer interrupt; a vCPU that leaves its pCPU with a timer armed goes on that
 * pCPU's timer list and is fired from there (wake-up included), wherever it runs next.
 *
 * Locking: every entry point here runs with interrupts disabled. The scheduler's own locks
 * (sched.h) come after the event-channel lock and after the PV lock; the timer lock is a leaf.
 */
#ifndef HV_SCHED_IF_H
#define HV_SCHED_IF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <asm/regs.h>
#include <hv/domain.h>
#include <hv/percpu.h>

#include "../../common/sched/sched.h"

/* Per-vCPU scheduling and switch state (struct vcpu.sched points here). */
struct vcpu_sched {
	struct sched_vcpu sv; /* the policy's view (sv.owner == the struct vcpu) */
	struct vcpu *v;

	/* Saved while the vCPU is not running (context_switch.c). */
	struct cpu_user_regs regs;
	uint8_t fpu[512] __attribute__((aligned(16))); /* FXSAVE image */
	uint16_t ds, es, fs, gs;                       /* data segment selectors */
	uint64_t fs_base, gs_base_active;              /* bases live in the MSRs */
	bool initialised; /* has a context (vCPU 0 from the builder, others VCPUOP_initialise) */
	volatile bool running;     /* its frame is on a pCPU's stack (curr_vcpu of some pCPU) */
	volatile unsigned int cpu; /* the pCPU it runs on / ran on last */

	/* Blocking: SCHEDOP_poll ports and timeout (system time, 0 = none). */
	volatile bool spinning; /* watching its wake condition before it blocks (no IPI needed) */
	bool polling;
	unsigned int nr_poll;
	uint32_t poll_ports[128];
	uint64_t poll_timeout;

	/* Timer list of pCPU timer_cpu (SCHED_NO_PCPU when on none); timer lock. */
	unsigned int timer_cpu;
	struct list_head timer_link;
	volatile bool firing; /* taken off a list by a pCPU that fires its timers now */
	bool dead;            /* being destroyed: never put on a list again */

	/* sched_debug: the vCPU has its own sched_dom (per-vCPU parameters for tests). */
	struct sched_dom own_dom;
};

/* Boot (pv_start, after pv_traps_init): the policy over the online pCPUs, timer and IPIs. */
void sched_hv_init(void);

/* Domain and vCPU lifecycle (domain_create and its undoing call these). */
void sched_domain_create(struct domain *d);
int sched_vcpu_create(struct vcpu *v, char *msg, size_t msglen);
int sched_vcpu_destroy(struct vcpu *v); /* -EBUSY while runnable, picked or running */
/* Both of the above for d and every vCPU it has (all offline); 0 or an error and msg. */
int sched_domain_attach(struct domain *d, char *msg, size_t msglen);
/* dom0's vCPU count: dom0_max_vcpus= (1..HV_MAX_VCPUS) when the scheduler is on, else 1. */
unsigned int sched_dom0_vcpus(void);

/*
 * The domain lifecycle (hv/common/domain.c) with the scheduler on. A vCPU's struct vcpu.on_cpu
 * follows its context (>= 0 while loaded on a pCPU), so waiting for on_cpu < 0 after pause or
 * shutdown waits for it to leave its pCPU.
 *   start     first unpause of a built domain: vCPUs into the scheduler (admission may refuse,
 *             -ENOSPC and msg), vCPU 0 from d->boot_rip/rsp/rsi, runnable
 *   pause     every vCPU offline (a running one leaves at its pCPU's next decision)
 *   unpause   every vCPU that is up runnable again
 *   destroy   every vCPU out of the scheduler (-EBUSY while one is still on a pCPU)
 */
int sched_domain_start(struct domain *d, char *msg, size_t msglen);
void sched_domain_pause(struct domain *d);
void sched_domain_unpause(struct domain *d);
int sched_domain_destroy(struct domain *d);
uint64_t sched_domain_cpu_time_ns(struct domain *d); /* running time of all its vCPUs */

/* The control interface: weight 1..65535, cap and reservation in percent of one pCPU. */
int sched_domain_set_params(struct domain *d, uint32_t weight, uint32_t cap, uint32_t reservation,
                            char *msg, size_t msglen);
void sched_domain_get_params(struct domain *d, uint32_t *weight, uint32_t *cap,
                             uint32_t *reservation);

/* State changes (v any vCPU; wake from any pCPU). */
void vcpu_wake(struct vcpu *v);          /* runnable (if online): event, unpause, up */
void vcpu_sleep_offline(struct vcpu *v); /* pause / down / dying */
void vcpu_yield(struct vcpu *v);
/* SCHEDOP_block (nr == 0, ports NULL, poll false) and SCHEDOP_poll, for the calling vCPU. */
void vcpu_block(struct vcpu *v, bool poll, const uint32_t *ports, unsigned int nr,
                uint64_t timeout);

/* Is the scheduler in charge (the default; sched=pinned on hv's command line turns it off)? */
bool sched_active(void);

/* Event hook: v has a new event (wake it if blocked, IPI its pCPU if it runs elsewhere). */
void sched_vcpu_kick(struct vcpu *v);

/*
 * hv's test operations (vcpu_op numbers outside Xen's range), accepted from the privileged
 * domain when hv's command line has sched_debug, which gives each vCPU its own parameters:
 *   VCPUOP_hv_sched_params    arg: struct {u32 weight, cap, reservation, pad} (admission as
 *                             for a domain; a refusal prints "sched: <reason>")
 *   VCPUOP_hv_sched_affinity  arg: u64 mask of pCPUs
 */
#define VCPUOP_hv_sched_params   0x7f00
#define VCPUOP_hv_sched_affinity 0x7f01

/* VCPUOP_initialise / up / down, and the test operations above, for target. */
long sched_vcpu_op(struct vcpu *v, unsigned int cmd, struct vcpu *target, uint64_t arg);

/*
 * The decision point on the way out of hv: may switch and then not return. IRQs off. regs is
 * the running vCPU's frame (saved if it is switched away), NULL in the idle loop. Every exit to
 * a guest comes here, so the test for "no decision due" is inline: one per-pCPU flag.
 */
void sched_do_softirq(struct cpu_user_regs *regs);
static inline void sched_softirq(struct cpu_user_regs *regs)
{
	if (this_cpu()->resched)
		sched_do_softirq(regs);
}

/* The calling vCPU v changed one of its timers: re-arm this pCPU's APIC if it is now earlier. */
void sched_vcpu_timer_changed(struct vcpu *v);

/* The calling pCPU's vCPU stopped for good (its domain died): run something else. */
void sched_leave_dead_vcpu(struct domain *d, struct vcpu *v) __attribute__((noreturn));

/* Starts vCPU v (fresh context already in v->sched->regs) and runs the scheduler. */
void sched_start_first_vcpu(struct vcpu *v) __attribute__((noreturn));

/* TLB flush of every other pCPU that may run a vCPU of d (IPI, waits for them). */
void sched_flush_tlb_domain(struct domain *d);

/* vCPU runstate for VCPUOP_get_runstate_info (Xen's layout: state, entry, time[4]). */
void sched_vcpu_runstate_info(struct vcpu *v, int32_t *state, uint64_t *entry, uint64_t time[4]);

/* context_switch.c */
void arch_vcpu_init_context(struct vcpu *v);
void arch_context_switch(struct vcpu *prev, struct vcpu *next, struct cpu_user_regs *regs)
    __attribute__((noreturn));
void arch_idle(void) __attribute__((noreturn));
void arch_update_runstate_area(struct vcpu *v);
long arch_vcpu_initialise(struct vcpu *caller, struct vcpu *target, uint64_t arg);

static inline struct vcpu_sched *vsched(struct vcpu *v)
{
	return v->sched;
}

#endif
