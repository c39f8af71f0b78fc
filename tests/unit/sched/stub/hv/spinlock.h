/*
 * Host-test stand-in for hv's spinlocks (same names as <hv/spinlock.h>): a lock is a boolean,
 * so that taking a lock already held (a deadlock on real hardware; the simulator runs every
 * pCPU on one thread) or releasing one not held stops the test at once.
 */
#ifndef SCHED_STUB_SPINLOCK_H
#define SCHED_STUB_SPINLOCK_H

#include <stdbool.h>
#include <hv/lib.h>

typedef struct {
	bool held;
} spinlock_t;

static inline void spin_lock_init(spinlock_t *l)
{
	l->held = false;
}

static inline void spin_lock(spinlock_t *l)
{
	ASSERT(!l->held);
	l->held = true;
}

static inline void spin_unlock(spinlock_t *l)
{
	ASSERT(l->held);
	l->held = false;
}

static inline bool spin_is_locked(const spinlock_t *l)
{
	return l->held;
}

#endif
