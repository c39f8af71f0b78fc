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

	void *arch; /* entry/exit state owned by hv/arch/x86/pv */
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
};

#endif
