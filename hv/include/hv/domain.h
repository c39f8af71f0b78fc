/*
 * Domains and virtual CPUs as the paravirtual core sees them.
 *
 * A domain owns machine frames (see hv/arch/x86/pv/mm.c for the reference model), a set of
 * vCPUs, event channels and a grant table. Everything here is mechanism: which domains exist
 * and how big they are is decided by the privileged domain (dom0) above hv.
 *
 * Locking: a domain's page-table state (frame types and counts of its frames, its vCPUs' base
 * pointers) is changed only with the domain's mm lock held; hypercall handlers take it around
 * a whole batch, so the workers in mm.c never lock.
 */
#ifndef HV_DOMAIN_H
#define HV_DOMAIN_H

#include <stdbool.h>
#include <stdint.h>

#define HV_MAX_VCPUS 32

struct domain;
struct evtchn;
struct shared_info;
struct vcpu_info;
struct vcpu_sched;
struct sched_dom;

struct vcpu {
	struct domain *domain;
	unsigned int vcpu_id;

	/* Page-table roots (MFNs, 0 = none). Each holds a general and an L4 type reference. */
	uint64_t guest_table;      /* kernel L4, loaded in guest kernel mode */
	uint64_t guest_table_user; /* user L4, loaded in guest user mode */

	/* GDT frames hold a general and a seg_desc type reference each. */
	uint64_t gdt_frames[14];
	unsigned int gdt_ents;
	uint64_t ldt_base;
	unsigned int ldt_ents;

	/* Events (hv/common/event_channel.c). */
	struct vcpu_info *vcpu_info; /* in shared_info, or where the guest registered it */
	uint32_t virq_to_evtchn[24]; /* NR_VIRQS; 0 = not bound */
	bool polling;                /* blocked in SCHEDOP_poll */

	/* Lifecycle (hv/common/domain.c): the CPU this vCPU runs on, -1 when on none. */
	volatile int on_cpu;
	bool parked; /* held in hv on its CPU while its domain is paused */

	void *arch; /* entry/exit state owned by hv/arch/x86/pv */

	/* Scheduling and switch state (hv/common/schedule.c, <hv/sched-if.h>); NULL until the
	 * scheduler takes the vCPU. */
	struct vcpu_sched *sched;
};

/* Lifecycle states (the control interface reports them; public/domctl.h HV_DOMSTATE_*). */
enum domain_state {
	DOMSTATE_CREATED = 0, /* exists, not built or never unpaused */
	DOMSTATE_RUNNING = 1,
	DOMSTATE_PAUSED = 2,
	DOMSTATE_SHUTDOWN = 3, /* shut itself down, reason in shutdown_reason */
	DOMSTATE_CRASHED = 4,
	DOMSTATE_DYING = 5,
};

struct domain {
	uint16_t domain_id;
	bool is_privileged; /* dom0: control interface, I/O ports and I/O memory */
	bool is_dying;
	unsigned long vm_assist; /* 1 << VMASST_TYPE_* for each assist enabled */

	uint64_t tot_pages; /* frames currently owned (allocated references) */
	uint64_t max_pages;

	struct shared_info *shared_info; /* hv mapping of the domain's shared_info frame */
	uint64_t shared_info_mfn;
	struct evtchn *evtchn; /* EVTCHN_2L_NR_CHANNELS entries */

	unsigned int max_vcpus;
	struct vcpu *vcpu[HV_MAX_VCPUS];

	void *arch; /* state owned by hv/arch/x86/pv */
	struct sched_dom *sched; /* the scheduler's view: weight, cap, reservation (schedule.c) */

	/* Lifecycle and control-plane data (hv/common/domain.c, hv/common/domctl.c). */
	volatile int state; /* enum domain_state */
	volatile unsigned int pause_count;
	unsigned int shutdown_code; /* SHUTDOWN_* when state is SHUTDOWN or CRASHED */
	uint8_t uuid[16];
	char name[64];
	uint64_t guarantee_pages; /* ballooning cannot go below this */
	uint64_t target_pages;    /* current memory asked by dom0 (populate, balloon target) */
	uint64_t boot_rip, boot_rsp, boot_rsi; /* vCPU 0's first frame, set by the builder */
	uint64_t console_mfn;                  /* domU console ring page (builder), 0 = none */
	uint32_t console_port;                 /* its unbound event channel towards dom0 */
	uint64_t store_mfn;                    /* domU XenStore ring page (builder), 0 = none */
	uint32_t store_port;                   /* its unbound event channel towards dom0 */
	bool built;
	int home_cpu; /* pCPU that runs vCPU 0 until the scheduler places vCPUs; -1 none */
	unsigned int max_evtchn_ports; /* ports 1..max-1 may be allocated; 0 = all 4096 */
};

/* Lifecycle (hv/common/domain.c). Callers hold no lock; the table has its own. */
#define HV_MAX_DOMAINS 128
struct domain *domain_lookup(uint16_t domid); /* any state but gone */
int domain_destroy(struct domain *d);         /* -EBUSY if a vCPU would not leave its CPU */
int domain_pause(struct domain *d);
int domain_unpause(struct domain *d);
void domain_request_shutdown(struct domain *d, unsigned int reason);
uint64_t domain_cpu_time_ns(struct domain *d);
/* Domains in id order: the first with id >= first, NULL when none. */
struct domain *domain_next(uint16_t first);
/* Called by an idle CPU (idle_loop) and by a vCPU's CPU at each tick and block: start a vCPU
 * placed here, hold a paused one, leave a dying one. */
void domain_cpu_check(void);

/* Building a domU (hv/common/domain_build.c): memory, then the image. */
int domain_populate(struct domain *d);
int domain_build(struct domain *d, const void *image, unsigned long len, const void *ramdisk,
                 unsigned long ramdisk_len, const char *cmdline, const char **why);

#endif
