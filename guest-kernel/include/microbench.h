/*
 * Micro-benchmarks of the paravirtual core (command-line mode `microbench`): each platform
 * times the operations it has - the PV rows (hypercall, page-table updates, exception bounce,
 * user system call through the hypervisor) on the Xen-PV platform, the bare-machine operations
 * they are compared with (syscall/sysret, PTE store + invlpg, exception + iretq, CR3 write, a
 * ring round trip) natively - and prints one machine-readable line per row:
 *
 *     bench: <row> median_cycles=<n> min=<n> iters=<n>
 *
 * Each sample times MB_BATCH operations in a row; a row's figures are per operation: TSC ticks
 * minus the cost of the empty timer pair (the `empty` row), divided by MB_BATCH. Under QEMU
 * -icount shift=0 the TSC counts executed instructions, which `known_loop` lets a script check.
 * bench/pvcore/run boots both platforms and makes the table.
 *
 * Ring 3 in the benchmarks: both platforms run one small position-independent user program
 * (microbench-user.S, copied into a user page of its own address space) that times `syscall`
 * from user mode and hands each sample to the kernel in RDI of the next call. The kernel side
 * of that call is a minimal stub per platform (stores the sample, returns at once), so the
 * rows measure the transitions, not the kernel's system-call code.
 */
#ifndef GK_MICROBENCH_H
#define GK_MICROBENCH_H

/* System-call numbers of the benchmark's user program and ring-trip stub (in EAX). */
#define MB_SYS_SAMPLE 0x4d420001 /* RDI = the previous sample; returns at once */
#define MB_SYS_DONE   0x4d420002 /* the loop is over: back to the kernel that started it */
#define MB_SYS_RING   0x4d420003 /* native ring round trip: back to the ring-0 caller */

#define MB_MAX_ITERS 8192
#define MB_BATCH     8 /* operations per timed sample */

#ifndef __ASSEMBLY__

#include <klib/compiler.h>

/* Samples the user program hands in (MB_SYS_SAMPLE), filled by the platform's stub. */
extern uint64_t mb_user_samples[MB_MAX_ITERS];
extern uint32_t mb_user_count;

/* The user program (microbench-user.S): entered with RDI = iterations, RSP = a stack top. */
extern char mb_user_code_start[], mb_user_code_end[];
extern char mb_user_syscall_loop[], mb_user_ring_back[];

/* Where the benchmark's user pages are mapped (the user half, L4 slot 0). */
#define MB_USER_CODE_VA   0x600000UL
#define MB_USER_STACK_TOP 0x602000UL

/* TSC read, ordered after everything before it. */
static inline uint64_t mb_tsc(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

/*
 * Time `op` (a statement that may use the operation's index `k`) in `iters` samples of
 * MB_BATCH runs each, into samples[0..iters), after a warm-up of iters / 8 unrecorded samples
 * (under TCG the first runs translate the code). Batches make the TSC's granularity (10 ns on
 * some hosts) small against what is measured.
 */
#define MB_TIME(samples, iters, k, op)                                                             \
	do {                                                                                       \
		for (long s_ = -(long)((iters) / 8); s_ < (long)(iters); s_++) {                   \
			uint64_t t0_ = mb_tsc();                                                   \
			for (long k = s_ * MB_BATCH; k < (s_ + 1) * MB_BATCH; k++) {               \
				op;                                                                \
			}                                                                          \
			uint64_t t1_ = mb_tsc();                                                   \
			if (s_ >= 0)                                                               \
				(samples)[s_] = t1_ - t0_;                                         \
		}                                                                                  \
	} while (0)

/* Sort the samples, subtract the empty timer pair, divide by MB_BATCH and print the row. */
void mb_report(const char *row, uint64_t *samples, unsigned int n);

/* A user address space with the benchmark's user program mapped at MB_USER_CODE_VA. */
struct addr_space;
int mb_user_space_create(struct addr_space *as);
void mb_user_space_destroy(struct addr_space *as);

/* The user L1 of that address space (entry i maps MB_USER_CODE_VA-ish va 0x600000 + i pages),
 * for the native PTE benchmark. */
uint64_t *mb_user_l1(void);

/* The platform parts: run the rows with `iters` samples each. */
void microbench_native(unsigned int iters);
void microbench_pv(unsigned int iters);

/* The mode itself (kernel/main.c): run every row of this platform, print, power off. */
__noreturn void microbench_run(void);

#endif
#endif
