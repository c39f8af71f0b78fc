/*
 * Bit operations on arrays of unsigned long. The plain versions are not atomic (the caller holds
 * the lock that guards the bitmap); the atomic_* versions use locked x86 instructions through
 * GCC's __atomic builtins and may be used on shared bitmaps without a lock.
 */
#ifndef KLIB_BITOPS_H
#define KLIB_BITOPS_H

#include <klib/compiler.h>

#define BITS_PER_LONG    64
#define BITS_TO_LONGS(n) (((n) + BITS_PER_LONG - 1) / BITS_PER_LONG)
#define BIT(n)           (1UL << (n))
#define BIT_WORD(n)      ((n) / BITS_PER_LONG)
#define BIT_MASK(n)      (1UL << ((n) % BITS_PER_LONG))

static inline void set_bit(unsigned long nr, unsigned long *map)
{
	map[BIT_WORD(nr)] |= BIT_MASK(nr);
}

static inline void clear_bit(unsigned long nr, unsigned long *map)
{
	map[BIT_WORD(nr)] &= ~BIT_MASK(nr);
}

static inline bool test_bit(unsigned long nr, const unsigned long *map)
{
	return (map[BIT_WORD(nr)] & BIT_MASK(nr)) != 0;
}

static inline void atomic_set_bit(unsigned long nr, unsigned long *map)
{
	__atomic_fetch_or(&map[BIT_WORD(nr)], BIT_MASK(nr), __ATOMIC_SEQ_CST);
}

static inline void atomic_clear_bit(unsigned long nr, unsigned long *map)
{
	__atomic_fetch_and(&map[BIT_WORD(nr)], ~BIT_MASK(nr), __ATOMIC_SEQ_CST);
}

/* Returns the old value of the bit. */
static inline bool atomic_test_and_set_bit(unsigned long nr, unsigned long *map)
{
	return (__atomic_fetch_or(&map[BIT_WORD(nr)], BIT_MASK(nr), __ATOMIC_SEQ_CST) &
	        BIT_MASK(nr)) != 0;
}

static inline bool atomic_test_and_clear_bit(unsigned long nr, unsigned long *map)
{
	return (__atomic_fetch_and(&map[BIT_WORD(nr)], ~BIT_MASK(nr), __ATOMIC_SEQ_CST) &
	        BIT_MASK(nr)) != 0;
}

/* Index of the least significant set bit; @x must not be 0. */
static inline unsigned int ffs_nz(unsigned long x)
{
	return (unsigned int)__builtin_ctzl(x);
}

/* Index of the most significant set bit; @x must not be 0. */
static inline unsigned int fls_nz(unsigned long x)
{
	return BITS_PER_LONG - 1 - (unsigned int)__builtin_clzl(x);
}

/* First set bit at or after @start in a bitmap of @size bits; @size when there is none. */
static inline unsigned long find_next_bit(const unsigned long *map, unsigned long size,
                                          unsigned long start)
{
	while (start < size) {
		unsigned long word = map[BIT_WORD(start)] >> (start % BITS_PER_LONG);
		if (word) {
			start += ffs_nz(word);
			return start < size ? start : size;
		}
		start = ALIGN_DOWN(start, BITS_PER_LONG) + BITS_PER_LONG;
	}
	return size;
}

static inline unsigned long find_first_bit(const unsigned long *map, unsigned long size)
{
	return find_next_bit(map, size, 0);
}

/* First clear bit at or after @start; @size when there is none. */
static inline unsigned long find_next_zero_bit(const unsigned long *map, unsigned long size,
                                               unsigned long start)
{
	while (start < size) {
		unsigned long word = ~map[BIT_WORD(start)] >> (start % BITS_PER_LONG);
		if (word) {
			start += ffs_nz(word);
			return start < size ? start : size;
		}
		start = ALIGN_DOWN(start, BITS_PER_LONG) + BITS_PER_LONG;
	}
	return size;
}

#endif
