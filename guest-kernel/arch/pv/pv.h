/*
 * Internal interface of the Xen-PV platform (arch/pv). Nothing outside arch/pv includes this.
 *
 * State kept here: the start_info the builder handed over, the mapped shared_info page, the
 * P2M list (PFN -> MFN) and the last exception the trap code saw (for self-tests).
 */
#ifndef GK_PV_H
#define GK_PV_H

#include <klib/compiler.h>
#include <public/xen.h>
#include <public/event_channel.h>
#include <public/sched.h>
#include <public/errno.h>
#include <platform.h>
#include "hypercall.h"

/* ---- setup.c ---- */
extern start_info_t *pv_start_info;
extern shared_info_t *pv_shared_info;

static inline struct vcpu_info *pv_vcpu(void)
{
	return &pv_shared_info->vcpu_info[0];
}

/* ---- console.c ---- */
void pv_console_write(const char *s, size_t len);
/* A domU's console ring (start_info.console.domU) joins console_io; after events are up. */
void pv_console_init(void);
size_t pv_console_read(char *buf, size_t len);

/* ---- traps.c / entry.S ---- */

/* Pseudo-vectors for the callbacks, which enter through the same frame path as exceptions. */
#define VEC_EVENT    256
#define VEC_FAILSAFE 257
#define VEC_SYSCALL  258

/* struct trap_frame (platform.h) is what the entry code saves; offsets are used by entry.S. */

/* The last exception delivered to the kernel (filled before any fixup is applied). */
struct trap_record {
	uint64_t count;
	uint64_t vector;
	uint64_t error_code;
	uint64_t rip;
	uint64_t cs;
	uint64_t cr2;
	uint64_t rflags;
};
extern volatile struct trap_record pv_last_trap;

/*
 * Exception fixups: an instruction at `from` that faults resumes at `to`. For traps that report
 * the address after the instruction (int3), list that address as `from`.
 */
#define EXTABLE(from, to)                                                                          \
	".pushsection __ex_table, \"a\"\n\t.balign 8\n\t.quad " #from ", " #to "\n\t."             \
	"popsection\n\t"

void pv_traps_init(void);
void pv_trap_dispatch(struct trap_frame *f);
void pv_trap_table_install(void);
extern const struct trap_info pv_trap_table[];

/* Entry points in entry.S. */
extern char pv_event_entry[], pv_failsafe_entry[], pv_syscall_entry[];
void pv_exception_entry_0(void); /* first of the per-vector stubs */
extern const uint64_t pv_exception_entries[32];

/* ---- events.c ---- */
typedef void (*evtchn_handler_t)(evtchn_port_t port);
void pv_events_init(void);
void pv_evtchn_do_upcall(void);
int pv_evtchn_bind(evtchn_port_t port, evtchn_handler_t handler);
void pv_evtchn_unbind(evtchn_port_t port);
long pv_evtchn_unmask(evtchn_port_t port);
void pv_evtchn_mask(evtchn_port_t port);
unsigned long pv_irq_save(void);
void pv_irq_restore(unsigned long flags);
void pv_irq_enable(void);
void pv_idle(void);
extern volatile uint64_t pv_stray_events;

/* ---- time.c ---- */
void pv_time_init(void);
uint64_t pv_time_ns(void);
uint64_t pv_wallclock_ns(void);
void pv_timer_set(uint64_t deadline_ns);
extern evtchn_port_t pv_timer_port;
extern volatile uint64_t pv_timer_events;

/* ---- mmu.c ---- */
#define L1_PROT    (XEN_PTE_PRESENT | XEN_PTE_RW | XEN_PTE_ACCESSED | XEN_PTE_DIRTY)
#define L1_PROT_RO (XEN_PTE_PRESENT | XEN_PTE_ACCESSED)
#define TABLE_PROT (XEN_PTE_PRESENT | XEN_PTE_RW | XEN_PTE_USER | XEN_PTE_ACCESSED | XEN_PTE_DIRTY)

extern uint64_t *pv_p2m;           /* PFN -> MFN, start_info.mfn_list */
extern uint64_t pv_nr_pages;       /* pseudo-physical pages of the domain */
extern uint64_t *pv_kernel_l4;     /* the kernel L4 built by pv_mmu_init (pinned) */
extern uint64_t pv_mapped_end_pfn; /* first PFN not mapped by the builder */

static inline const uint64_t *pv_m2p(void)
{
	return (const uint64_t *)MACH2PHYS_VIRT_START;
}
uint64_t pv_virt_to_mfn(const void *va);
uint64_t pv_virt_to_maddr(const void *va);
void pv_mmu_init(void);
/* Change the kernel mapping of a direct-mapped page (RO for page tables, RW to reuse). */
long pv_set_page_ro(void *va);
long pv_set_page_rw(void *va);
/* Allocate a zeroed page, turn it read-only and pin it as a level-`level` table (1..4). */
void *pv_alloc_pinned_table(int level, long *rc);
long pv_pin(int level, void *va);
long pv_unpin(void *va);
/* Unpin, make writable and free a table from pv_alloc_pinned_table. */
void pv_free_pinned_table(void *va);
/* The L1 entry that maps `va` in the kernel page tables (NULL if none); its machine address. */
uint64_t *pv_l1e_of(unsigned long va);
/* The same in the tree under another L4 (e.g. the user L4). */
uint64_t *pv_l1e_in(uint64_t *l4, unsigned long va);
long pv_flush_tlb(void);
long pv_invlpg(unsigned long va);

/* A scratch area of the kernel address space (L4 slot 510) for tests, with one L3, L2, L1. */
#define PV_SCRATCH_BASE 0xffffff0000000000UL
extern uint64_t *pv_scratch_l3, *pv_scratch_l2, *pv_scratch_l1;

/* ---- user.c ---- */
#define USER_CODE_VA   0x400000UL
#define USER_STACK_TOP 0x403000UL
#define SYS_exit       0
#define SYS_add        1 /* returns rdi + rsi */

/* What ended a run in user mode. */
struct user_result {
	int faulted;       /* 1 if an exception ended it, 0 if SYS_exit */
	uint64_t value;    /* SYS_exit argument */
	uint64_t vector;   /* exception vector if faulted */
	uint64_t error;    /* its error code */
	uint64_t cr2;      /* its CR2 (page faults) */
	uint64_t syscalls; /* system calls served during the run */
	uint64_t user_cs;  /* CS seen in the last syscall frame */
};
extern uint64_t *pv_user_l4;
long pv_user_init(void);
/* Run the user program at `entry` (an offset into the user code page) until it exits. */
void pv_user_run(unsigned long entry, uint64_t arg, struct user_result *res);
void pv_user_syscall(struct trap_frame *f);
bool pv_user_run_active(void);
__noreturn void pv_user_fault(struct trap_frame *f);

/* Offsets of user programs inside the user code page (entry.S user_code blob). */
extern char user_code_start[], user_code_end[];
extern char user_prog_syscall[], user_prog_fault[], user_prog_cs[], user_prog_read_kernel[];

/* Kernel context saved around a run in user mode (entry.S). */
struct kctx {
	uint64_t rbx, rbp, r12, r13, r14, r15, rsp;
};
void pv_user_enter_asm(uint64_t rip, uint64_t rsp, struct kctx *save);
__noreturn void pv_user_exit_asm(struct kctx *save);

/* ---- proc.c: what processes need (page tables, address spaces, user entry) ---- */
void pv_proc_ops_init(struct platform_ops *ops);

/* ---- selftests, fatal cases ---- */
extern const struct selftest_case pv_selftests[];
extern const size_t pv_nr_selftests;
extern const struct fatal_case pv_fatal_cases[];
extern const size_t pv_nr_fatal_cases;

/* Kernel stack for user->kernel transitions (stack_switch). */
extern char pv_kernel_stack_top[];

/* Hypercall page (filled by the builder if it honours the HYPERCALL_PAGE note). */
extern char hypercall_page[];

#endif
