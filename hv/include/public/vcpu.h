/*
 * Per-vCPU operations (hypercall #24, vcpu_op(cmd, vcpuid, arg)) and the full register state of a
 * vCPU (vcpu_guest_context, used by VCPUOP_initialise to start a secondary vCPU).
 *
 * Timer operations act only on the calling vCPU (-EINVAL otherwise). A vCPU that does not exist
 * gives -ENOENT.
 */
#ifndef __HV_PUBLIC_VCPU_H__
#define __HV_PUBLIC_VCPU_H__

#include "xen.h"

#define VCPUOP_initialise                     0  /* struct vcpu_guest_context */
#define VCPUOP_up                             1  /* NULL */
#define VCPUOP_down                           2  /* NULL */
#define VCPUOP_is_up                          3  /* NULL; returns 1 up, 0 down */
#define VCPUOP_get_runstate_info              4  /* struct vcpu_runstate_info */
#define VCPUOP_register_runstate_memory_area  5  /* struct vcpu_register_runstate_memory_area */
#define VCPUOP_set_periodic_timer             6  /* struct vcpu_set_periodic_timer */
#define VCPUOP_stop_periodic_timer            7  /* NULL */
#define VCPUOP_set_singleshot_timer           8  /* struct vcpu_set_singleshot_timer */
#define VCPUOP_stop_singleshot_timer          9  /* NULL */
#define VCPUOP_register_vcpu_info             10 /* struct vcpu_register_vcpu_info */
#define VCPUOP_send_nmi                       11 /* NULL */
#define VCPUOP_get_physid                     12 /* struct vcpu_get_physid */
#define VCPUOP_register_vcpu_time_memory_area 13 /* struct vcpu_register_time_memory_area */
#define VCPUOP_register_runstate_phys_area    14
#define VCPUOP_register_vcpu_time_phys_area   15

/* Runstate: where a vCPU has spent its time. */
#define RUNSTATE_running  0
#define RUNSTATE_runnable 1
#define RUNSTATE_blocked  2
#define RUNSTATE_offline  3

#define XEN_RUNSTATE_UPDATE (1ULL << 63) /* in state_entry_time while being updated */

struct vcpu_runstate_info {
	int32_t state; /* RUNSTATE_* */
	uint32_t pad;
	uint64_t state_entry_time; /* system time of the last state change */
	uint64_t time[4];          /* ns spent in each state */
};
typedef struct vcpu_runstate_info vcpu_runstate_info_t;

struct vcpu_register_runstate_memory_area {
	union {
		uint64_t v; /* guest VA of a vcpu_runstate_info */
		uint64_t p; /* guest physical address (phys_area variant) */
	} addr;
};

struct vcpu_set_periodic_timer {
	uint64_t period_ns;
};

#define VCPU_SSHOTTMR_future (1U << 0) /* -ETIME if the deadline has passed */
struct vcpu_set_singleshot_timer {
	uint64_t timeout_abs_ns; /* absolute system time */
	uint32_t flags;          /* VCPU_SSHOTTMR_* */
	uint32_t pad;
};

/* register_vcpu_info: move this vCPU's vcpu_info to <mfn, offset> (must not cross a page). */
struct vcpu_register_vcpu_info {
	uint64_t mfn;
	uint32_t offset;
	uint32_t rsvd;
};

struct vcpu_get_physid {
	uint64_t phys_id;
};

struct vcpu_register_time_memory_area {
	union {
		uint64_t v; /* guest VA of a vcpu_time_info */
		uint64_t p;
	} addr;
};

/* ------------------------------------------------------------------------------------------ */
/* Saved user registers, in the order and layout of the x86-64 PV ABI (200 bytes). */
struct cpu_user_regs {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	uint64_t rax, rcx, rdx, rsi, rdi;
	uint32_t error_code;
	uint32_t entry_vector;
	uint64_t rip;
	uint16_t cs, _pad0[1];
	uint8_t saved_upcall_mask;
	uint8_t _pad1[3];
	uint64_t rflags;
	uint64_t rsp;
	uint16_t ss, _pad2[3];
	uint16_t es, _pad3[3];
	uint16_t ds, _pad4[3];
	uint16_t fs, _pad5[3];
	uint16_t gs, _pad6[3];
};
typedef struct cpu_user_regs cpu_user_regs_t;

/* vcpu_guest_context.flags bits. */
#define VGCF_I387_VALID                (1U << 0)
#define VGCF_IN_KERNEL                 (1U << 2)
#define _VGCF_i387_valid               0
#define VGCF_i387_valid                (1U << _VGCF_i387_valid)
#define _VGCF_in_kernel                2
#define VGCF_in_kernel                 (1U << _VGCF_in_kernel)
#define _VGCF_failsafe_disables_events 3
#define VGCF_failsafe_disables_events  (1U << _VGCF_failsafe_disables_events)
#define _VGCF_syscall_disables_events  4
#define VGCF_syscall_disables_events   (1U << _VGCF_syscall_disables_events)
#define _VGCF_online                   5
#define VGCF_online                    (1U << _VGCF_online)

/* The complete state of a vCPU (5168 bytes). CR3 values go through xen_pfn_to_cr3(). */
struct vcpu_guest_context {
	uint8_t fpu_ctxt[512]; /* FXSAVE image */
	uint64_t flags;        /* VGCF_* */
	struct cpu_user_regs user_regs;
	struct trap_info trap_ctxt[256];   /* virtual IDT */
	uint64_t ldt_base, ldt_ents;       /* LDT (linear address, entries) */
	uint64_t gdt_frames[16], gdt_ents; /* GDT (machine frames, entries) */
	uint64_t kernel_ss, kernel_sp;     /* stack_switch */
	uint64_t ctrlreg[8];               /* [3] kernel L4, [1] user L4 */
	uint64_t debugreg[8];
	uint64_t event_callback_eip;
	uint64_t failsafe_callback_eip;
	uint64_t syscall_callback_eip;
	uint64_t vm_assist; /* VMASST_TYPE_* bitmap */
	uint64_t fs_base;
	uint64_t gs_base_kernel;
	uint64_t gs_base_user;
};
typedef struct vcpu_guest_context vcpu_guest_context_t;

#endif /* __HV_PUBLIC_VCPU_H__ */
