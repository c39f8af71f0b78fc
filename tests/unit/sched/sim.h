/*
 * A discrete-event simulator of pCPUs around the real scheduler (hv/common/sched/), for the
 * host tests in test_sched.c.
 *
 * The simulated machine has nr_pcpus pCPUs, a shared clock in ns, and a timer tick every
 * tick_ns on every pCPU (sched_tick()). Each pCPU runs what sched_schedule() chose until the
 * slice it returned expires, a kick arrives (sched_kick(), i.e. an IPI) or its vCPU blocks.
 * vCPUs either spin (always runnable) or alternate CPU bursts and sleeps with lengths drawn
 * uniformly from ranges by a seeded generator, so each run is deterministic.
 *
 * The simulator measures on its own what each vCPU got (ran_ns), the wake-to-run latency,
 * and how long any pCPU idled while a vCPU allowed on it waited in a queue, so the tests
 * compare the scheduler's claims with independent numbers.
 */
#ifndef SCHED_SIM_H
#define SCHED_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "sched.h"

#define SIM_MAX_VCPUS 256
#define SIM_NEVER     UINT64_MAX
#define MS            1000000ull
#define SEC           1000000000ull

enum sim_kind {
	SIM_SPIN,   /* always runnable */
	SIM_BURSTY, /* runs a burst, blocks, wakes after a sleep, again */
};

struct sim_vcpu {
	struct sched_vcpu sv; /* what the scheduler sees */
	enum sim_kind kind;
	uint64_t burst_min, burst_max, sleep_min, sleep_max;

	uint64_t work_left; /* BURSTY: CPU ns left of the current burst */
	uint64_t wake_at;   /* BURSTY and blocked: when it wakes; else SIM_NEVER */
	int on_pcpu;        /* -1 unless running */
	uint64_t run_start; /* when ran_ns was last brought up to date while running */

	uint64_t ran_ns;    /* CPU time received, measured by the simulator */
	uint64_t insert_ns; /* when it was inserted */
	uint64_t woke_at;   /* last wake, while waiting_run */
	bool waiting_run;   /* woke and has not run since */
	uint64_t lat_max, lat_sum, lat_n;
};

struct sim_pcpu {
	struct sim_vcpu *curr;
	uint64_t timer_at; /* end of the slice sched_schedule() returned */
	bool resched;      /* kicked, or its vCPU blocked */
	uint64_t idle_ns;
};

struct sim {
	uint64_t now;
	unsigned int nr_pcpus;
	uint64_t tick_ns;
	struct sim_pcpu pcpu[SCHED_MAX_PCPUS];
	struct sim_vcpu *vcpus[SIM_MAX_VCPUS];
	unsigned int nr_vcpus;
	uint64_t rng;

	/* Work conservation: some pCPU idle while a vCPU allowed on it waits in a queue. */
	uint64_t wc_since; /* SIM_NEVER when the condition does not hold */
	uint64_t wc_max, wc_total;
	uint64_t nr_decisions;
};

/* A fresh scheduler (sched_init with the resv policy) and simulator; clock at 0. */
void sim_init(struct sim *s, unsigned int nr_pcpus, uint64_t seed);

/*
 * Inserts v (zeroed by the caller, kind and ranges set) into d with affinity aff and wakes it
 * (unless start is false: it stays OFFLINE). Returns the sched_vcpu_insert() result.
 */
int sim_add(struct sim *s, struct sim_vcpu *v, struct sched_dom *d, unsigned int vcpu_id,
            uint64_t aff, bool start, char *msg, size_t msglen);

/* Takes v offline, lets its pCPU switch away, removes it from the scheduler and the sim. */
void sim_remove(struct sim *s, struct sim_vcpu *v);

/* Pause / unpause as the hv would (offline / wake), with the resulting reschedules. */
void sim_pause(struct sim *s, struct sim_vcpu *v);
void sim_unpause(struct sim *s, struct sim_vcpu *v);

/* Runs the machine until the clock reaches t. */
void sim_run_until(struct sim *s, uint64_t t);

/* Brings every running vCPU's ran_ns up to now (for measurements mid-run). */
void sim_sync(struct sim *s);

uint64_t sim_rand(struct sim *s, uint64_t lo, uint64_t hi);

#endif
