/*
 * Small x86-64 helpers usable on every platform (unprivileged instructions only).
 */
#ifndef GK_X86_H
#define GK_X86_H

#include <klib/compiler.h>

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

#define mb()  __asm__ __volatile__("mfence" ::: "memory")
#define rmb() __asm__ __volatile__("lfence" ::: "memory")
#define wmb() __asm__ __volatile__("sfence" ::: "memory")

static inline uint16_t read_cs(void)
{
	uint16_t cs;
	__asm__ __volatile__("mov %%cs, %0" : "=r"(cs));
	return cs;
}

#endif
