/*
 * Compiler helpers shared by every freestanding file (hv and guest-kernel) and by host tests.
 * Nothing here emits code on its own; these are names for attributes and small expressions.
 */
#ifndef KLIB_COMPILER_H
#define KLIB_COMPILER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define __packed       __attribute__((packed))
#define __aligned(n)   __attribute__((aligned(n)))
#define __noreturn     __attribute__((noreturn))
#define __unused       __attribute__((unused))
#define __section(s)   __attribute__((section(s)))
#define __printf(a, b) __attribute__((format(printf, a, b)))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The structure that contains @ptr as its field @member. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* @a must be a power of two. */
#define ALIGN_UP(x, a)   (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a)-1)) == 0)

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define BUILD_BUG_ON(cond) _Static_assert(!(cond), #cond)

/* Compiler barrier: stops the compiler from reordering memory accesses across it. */
#define barrier() __asm__ __volatile__("" ::: "memory")

/* Single, untorn accesses to shared variables. */
#define READ_ONCE(x)     (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

#endif
