/*
 * The one interface between platform-independent kernel code and a platform, in the manner of
 * Linux's pv-ops: a table of operations the platform fills in before calling kernel_main().
 * Two platforms fill it in: "xen-pv" (arch/pv: the Xen PV ABI, on Xen or hv) and "native"
 * (arch/native: booted by multiboot on the bare machine, ring 0). The image carries both; the
 * way it was entered (Xen ENTRY note or multiboot header) picks one.
 *
 * Page tables (for processes): the kernel keeps x86-64 4-level tables whose entries name frames
 * through pte_make/pte_pfn (machine frames on PV, physical natively). A table page is filled with
 * plain stores while it is private, then pt_seal()ed (PV: made read-only so the hypervisor can
 * validate it) before it is hooked into a live tree; entries of live tables change only through
 * pt_write(), which the platform may queue (PV: mmu_update batches in one multicall) until
 * pt_commit(). Natively these are plain stores and no-ops.
 *
 * Contract: every operation may be called with events/interrupts masked or unmasked unless
 * stated; none may be called before the platform set `platform`.
 */
#ifndef GK_PLATFORM_H
#define GK_PLATFORM_H

#include <klib/compiler.h>

/* Shutdown reasons (numerically the Xen SHUTDOWN_* values, which the PV platform passes on). */
#define PLATFORM_POWEROFF 0
#define PLATFORM_REBOOT   1
#define PLATFORM_CRASH    3

/* One self-test case: a name printed in the result line and the function that runs it. */
struct selftest_case {
	const char *name;
	void (*run)(void);
};

/* One deliberately fatal action (the hypervisor must kill the domain and survive). */
struct fatal_case {
	const char *name;
	const char *what;
	void (*run)(void);
};

/* The register frame of a trap, exception, interrupt or system call (lowest address first). */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t iret_flags; /* PV: 0, or VGCF_in_syscall to return from a user syscall */
	uint64_t vector;
	uint64_t error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Why the platform hands a trap from user mode to the kernel (kernel_user_trap). */
#define TRAP_SYSCALL   0 /* rax = number, rdi, rsi, rdx, r10, r8 = arguments */
#define TRAP_EXCEPTION 1 /* f->vector, f->error_code; cr2 for #PF */
#define TRAP_IRQ       2 /* an interrupt/event was handled; a chance to reschedule */

/* Page-table entry bits the kernel uses (x86 layout; the platform adds what it needs). */
#define PTE_P   0x001ULL
#define PTE_W   0x002ULL
#define PTE_U   0x004ULL
#define PTE_A   0x020ULL
#define PTE_D   0x040ULL
#define PTE_COW 0x200ULL /* software bit: read-only because shared after fork */
#define PTE_NX  (1ULL << 63)

/* An address space: the kernel half is shared, the user half (L4 slot 0) is the process's. */
struct addr_space {
	uint64_t *l4;      /* root used in kernel mode (kernel slots + user slot 0) */
	uint64_t *l4_user; /* PV: root used in user mode (user slot 0 only); NULL natively */
	uint64_t *l3;      /* the user L3 under slot 0 */
};

struct platform_ops {
	const char *name;
	/* Write len bytes to the console. */
	void (*console_write)(const char *s, size_t len);
	/* Monotonic nanoseconds since an arbitrary epoch (the hypervisor's boot). */
	uint64_t (*time_ns)(void);
	/* Wall-clock time in nanoseconds since 1970 (0 if unknown). */
	uint64_t (*wallclock_ns)(void);
	/* Arm the one-shot timer for an absolute time_ns() deadline; kernel_timer_tick() follows.
	 */
	void (*timer_set)(uint64_t deadline_ns);
	/* Mask and unmask interrupts/events; irq_save returns the previous state for irq_restore.
	 */
	unsigned long (*irq_save)(void);
	void (*irq_restore)(unsigned long flags);
	/* Enable events and sleep until one has been handled; returns with events masked. */
	void (*idle)(void);
	/* Stop the machine or domain with a PLATFORM_* reason. */
	__noreturn void (*shutdown)(int reason);
	/* The kernel command line. */
	const char *cmdline;
	/* Read up to len bytes of console input without waiting; returns the count (0: none). */
	size_t (*console_read)(char *buf, size_t len);
	/* Find and connect the domain's devices before the shell starts (PV: XenStore's
	 * split-driver front ends); NULL when the platform has none. */
	void (*devices_init)(void);

	/* ---- page tables ---- */
	uint64_t (*pte_make)(uint64_t pfn, uint64_t flags);
	uint64_t (*pte_pfn)(uint64_t pte);
	/* Turn a filled private page into a table page / back into an ordinary page (queued). */
	void (*pt_seal)(void *table);
	void (*pt_unseal)(void *table);
	/* Write an entry of a live (sealed) table (queued); submit the queue. */
	void (*pt_write)(uint64_t *entry, uint64_t value);
	void (*pt_commit)(void);
	/* Set the L1 entry that maps va in the current address space and flush va, at once
	 * (PV: one update_va_mapping; the queue is committed first). */
	void (*pte_set_current)(uint64_t va, uint64_t *entry, uint64_t value);
	/* Build the roots of `as` around its sealed as->l3 and pin them (queued). */
	int (*as_create)(struct addr_space *as);
	/* Unpin and release the roots (queued); `as` must not be the current one. */
	void (*as_destroy)(struct addr_space *as);
	/* Load an address space (NULL: the kernel's own); flushes the user TLB entries. */
	void (*as_switch)(struct addr_space *as);
	/* Flush the current address space's TLB entries: all, or one page (queued on PV). */
	void (*tlb_flush)(void);
	void (*tlb_flush_page)(uint64_t va);

	/* ---- user mode ---- */
	/* Fill selectors and flags of a fresh user frame. */
	void (*user_frame_init)(struct trap_frame *f, uint64_t rip, uint64_t rsp);
	/* Leave the kernel's boot context for user mode with frame f (copied). */
	__noreturn void (*user_enter)(const struct trap_frame *f);

	/* Self-tests and fatal cases of this platform. */
	const struct selftest_case *selftests;
	size_t nr_selftests;
	const struct fatal_case *fatal_cases;
	size_t nr_fatal_cases;
};

extern const struct platform_ops *platform;

#endif
