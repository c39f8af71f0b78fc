/*
 * The paravirtual core's private interface: per-vCPU architectural state of a PV guest and the
 * functions the pieces of hv/arch/x86/pv call on each other.
 *
 * Execution model: a running vCPU's registers live in the trap frame at the top of its CPU's
 * stack (guest_regs()), where every entry from ring 3 (SYSCALL, exceptions, interrupts) saves
 * them; hv runs with interrupts off except while a blocked vCPU waits (hlt). Guest kernel and
 * guest user both run at CPL 3; `kernel_mode` says which one the vCPU is in, and CR3 and the
 * GS bases follow it. While hv runs, MSR_KERNEL_GS_BASE holds the guest's active GS base (the
 * exit path's swapgs puts it back).
 */
#ifndef HV_PV_PV_H
#define HV_PV_PV_H

#include <hv/domain.h>
#include <hv/lib.h>
#include <hv/percpu.h>
#include <asm/regs.h>

#include "xen-public.h"

#include "pv-errno.h"

/*
 * hv is position-independent with hidden symbols: declarations must say so too, or taking
 * the address of a function from another file goes through the GOT, which a static link at
 * hv's address cannot resolve.
 */
#pragma GCC visibility push(hidden)

/* Callback slots (CALLBACKTYPE_* numbering). */
#define NR_CALLBACKS 8

struct pv_vcpu {
	bool kernel_mode;
	struct trap_info trap_ctxt[256];
	uint64_t callback[NR_CALLBACKS];
	bool callback_masks[NR_CALLBACKS]; /* CALLBACKF_mask_events */
	uint64_t kernel_ss, kernel_sp;     /* stack_switch */
	uint64_t fs_base, gs_base_kernel, gs_base_user;
	unsigned int iopl; /* virtual IOPL (physdev set_iopl) */
	bool fpu_ts;       /* virtual CR0.TS */
	uint64_t cr2;
	uint64_t dr[8];        /* virtual debug registers (0-3 and 7 are live in hardware) */
	bool nmi_pending_hold; /* NMI/#MC delivered, held off until HYPERVISOR_iret */

	/* Timers (system time in ns; 0 = off). */
	uint64_t singleshot;
	uint64_t periodic_period, periodic_next;

	uint64_t runstate_gva; /* VCPUOP_register_runstate_memory_area, 0 = none */
	struct { /* struct vcpu_runstate_info (public/vcpu.h clashes with asm/regs.h) */
		int32_t state;
		uint64_t state_entry_time;
		uint64_t time[4];
	} runstate;
	bool vcpu_info_registered;
	bool online;
};

/* One grant this domain has mapped (GNTTABOP_map_grant_ref); the handle is the index. */
struct grant_map {
	bool in_use;
	bool host;   /* a PTE maps it (l1_mfn, idx) */
	bool device; /* a device mapping holds references on the frame */
	bool rw;
	uint16_t dom; /* granter */
	uint32_t ref;
	uint64_t l1_mfn; /* where the PTE is */
	unsigned int idx;
	uint64_t mfn; /* the granted frame */
	uint64_t va;  /* host_addr as given (0 for GNTMAP_contains_pte) */
};

#define MAX_GRANT_MAPS 256

struct pv_domain {
	bool dying;
	unsigned int shutdown_reason;
	uint64_t *frames; /* MFN of each PFN (the builder's allocation), nr_frames entries */
	uint64_t nr_frames;
	uint64_t extra_frames[64]; /* hv-heap frames shared with the domain (grant table) */
	unsigned int nr_grant_frames;
	char console_line[160]; /* console_io: the domain's unfinished line */
	unsigned int console_used;
	uint32_t grant_version;
	struct grant_map maptrack[MAX_GRANT_MAPS];
};

static inline struct pv_vcpu *pv(struct vcpu *v)
{
	return v->arch;
}

static inline struct pv_domain *pvd(struct domain *d)
{
	return d->arch;
}

static inline struct vcpu *current_vcpu(void)
{
	return this_cpu()->curr_vcpu;
}

/* entry-pv.S */
void pv_syscall_entry(void);
void pv_db_entry(void);
void pv_enter_frame(const struct cpu_user_regs *regs) __noreturn;
long pv_copy_raw(void *dst, const void *src, size_t n); /* 0 or bytes not copied */
extern const char pv_copy_insn[], pv_copy_fixup[], pv_copy_tail_insn[], pv_copy_tail_fixup[];

/* mm-hypercall.c: the per-CPU GDT windows */
void pv_gdt_init(void);
void pv_install_gdt(struct vcpu *v);

/* mm-glue.c */
void pv_mm_init(void);
uint64_t pv_current_cr3(struct vcpu *v);
uint64_t pv_m2p_mfn(void);

/* traps-pv.c */
void pv_traps_init(void);
void pv_cpu_init(void);
void pv_exit_to_guest(struct cpu_user_regs *regs);
void pv_inject_trap(struct vcpu *v, struct cpu_user_regs *regs, unsigned int vector, bool has_error,
                    uint32_t error);
void pv_toggle_mode(struct vcpu *v, bool kernel);
bool pv_bounce(struct vcpu *v, struct cpu_user_regs *regs, uint64_t handler, bool mask_events,
               bool has_error, uint32_t error, const char *what);

/* emulate.c */
long pv_set_debugreg(struct vcpu *v, unsigned int reg, uint64_t value);
long pv_get_debugreg(struct vcpu *v, unsigned int reg, uint64_t *value);
bool pv_emulate_gp(struct vcpu *v, struct cpu_user_regs *regs);
bool pv_emulate_ud(struct vcpu *v, struct cpu_user_regs *regs);
bool pv_fetch_insn(struct cpu_user_regs *regs, uint8_t *buf, size_t *len);

/* hypercall.c */
void pv_do_syscall(struct cpu_user_regs *regs);
long pv_do_hypercall(struct vcpu *v, struct cpu_user_regs *regs, unsigned long nr,
                     const unsigned long args[5]);

/* ptwr.c */
bool pv_ptwr_fault(struct vcpu *v, struct cpu_user_regs *regs, uint64_t cr2);

/* time-pv.c */
void pv_time_init(void);
uint64_t pv_system_time(void);
void pv_update_vcpu_time(struct vcpu *v);
void pv_set_wallclock(struct domain *d);
void pv_timers_check(struct vcpu *v);
void pv_tick(struct cpu_user_regs *regs);

/* domain lifecycle (hv/common/domain.c) */
struct domain *domain_create(uint16_t id, bool privileged, unsigned int max_vcpus);
void domain_crash(struct domain *d, const char *fmt, ...) __printf(2, 3) __noreturn;
void domain_shutdown(struct domain *d, unsigned int reason) __noreturn;
void pv_vcpu_block(struct vcpu *v, bool poll, const uint32_t *ports, unsigned int nr,
                   uint64_t timeout);

/* dom0.c: build dom0 from boot module 0 and run it (returns only if there is none). */
void pv_dom0_start(void);

/* The hv-wide PV lock: page tables, grant tables and domain state. Events have their own. */
void pv_lock(void);
void pv_unlock(void);

#pragma GCC visibility pop

#endif
