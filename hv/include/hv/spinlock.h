/*
 * Ticket spinlocks: FIFO-fair, so no CPU starves when several contend (the console and the frame
 * allocator are shared by all CPUs). A lock is two 16-bit counters: `next` (the ticket the next
 * arriving CPU takes) and `owner` (the ticket now being served); the lock is free when they are
 * equal.
 *
 * Plain spin_lock() does not touch the interrupt flag: a lock that an interrupt handler also
 * takes must be taken with spin_lock_irqsave() everywhere else, or the CPU can deadlock on itself.
 */
#ifndef HV_SPINLOCK_H
#define HV_SPINLOCK_H

#include <klib/compiler.h>

typedef struct {
	uint16_t owner;
	uint16_t next;
} spinlock_t;

#define SPINLOCK_INIT                                                                              \
	{                                                                                          \
		0, 0                                                                               \
	}
#define DEFINE_SPINLOCK(name) spinlock_t name = SPINLOCK_INIT

static inline void cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

static inline void spin_lock_init(spinlock_t *lock)
{
	lock->owner = 0;
	lock->next = 0;
}

static inline void spin_lock(spinlock_t *lock)
{
	uint16_t ticket = __atomic_fetch_add(&lock->next, 1, __ATOMIC_RELAXED);

	while (__atomic_load_n(&lock->owner, __ATOMIC_ACQUIRE) != ticket)
		cpu_relax();
}

static inline bool spin_trylock(spinlock_t *lock)
{
	spinlock_t old = {__atomic_load_n(&lock->owner, __ATOMIC_RELAXED),
	                  __atomic_load_n(&lock->next, __ATOMIC_RELAXED)};
	uint32_t expect, want;

	if (old.owner != old.next)
		return false;
	expect = (uint32_t)old.owner | ((uint32_t)old.next << 16);
	want = (uint32_t)old.owner | ((uint32_t)(uint16_t)(old.next + 1) << 16);
	return __atomic_compare_exchange_n((uint32_t *)lock, &expect, want, false, __ATOMIC_ACQUIRE,
	                                   __ATOMIC_RELAXED);
}

static inline void spin_unlock(spinlock_t *lock)
{
	__atomic_store_n(&lock->owner, (uint16_t)(lock->owner + 1), __ATOMIC_RELEASE);
}

static inline bool spin_is_locked(const spinlock_t *lock)
{
	return READ_ONCE(lock->owner) != READ_ONCE(lock->next);
}

/* RFLAGS save/restore around a lock that interrupt handlers also take. */
static inline unsigned long irq_save(void)
{
	unsigned long flags;

	__asm__ __volatile__("pushfq; popq %0; cli" : "=r"(flags)::"memory");
	return flags;
}

static inline void irq_restore(unsigned long flags)
{
	__asm__ __volatile__("pushq %0; popfq" ::"r"(flags) : "memory", "cc");
}

#define spin_lock_irqsave(lock, flags)                                                             \
	do {                                                                                       \
		(flags) = irq_save();                                                              \
		spin_lock(lock);                                                                   \
	} while (0)

#define spin_unlock_irqrestore(lock, flags)                                                        \
	do {                                                                                       \
		spin_unlock(lock);                                                                 \
		irq_restore(flags);                                                                \
	} while (0)

#endif
