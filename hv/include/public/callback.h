/*
 * Guest entry points the hypervisor calls (hypercall #30, callback_op(cmd, arg)).
 *
 * Every callback is entered with a bounce frame (RCX, R11 first; see xen.h's iret_context for
 * the way back). Events are masked on entry to the event and NMI callbacks, and to the others if
 * registered with CALLBACKF_mask_events. Non-canonical address => -EINVAL; unknown type =>
 * -ENOSYS. Only the NMI callback can be unregistered (others => -EINVAL).
 */
#ifndef __HV_PUBLIC_CALLBACK_H__
#define __HV_PUBLIC_CALLBACK_H__

#include "xen.h"

#define CALLBACKTYPE_event               0 /* event-channel upcall */
#define CALLBACKTYPE_failsafe            1 /* segment reload failed on return to guest */
#define CALLBACKTYPE_syscall             2 /* 64-bit user-mode syscall */
#define CALLBACKTYPE_sysenter_deprecated 3
#define CALLBACKTYPE_nmi                 4 /* virtual NMI */
#define CALLBACKTYPE_sysenter            5 /* 32-bit user-mode sysenter */
#define CALLBACKTYPE_syscall32           7 /* 32-bit user-mode syscall */

#define _CALLBACKF_mask_events 0
#define CALLBACKF_mask_events  (1U << _CALLBACKF_mask_events)

#define CALLBACKOP_register   0
#define CALLBACKOP_unregister 1

struct callback_register {
	uint16_t type;  /* CALLBACKTYPE_* */
	uint16_t flags; /* CALLBACKF_* */
	uint32_t pad;
	uint64_t address; /* entry point */
};

struct callback_unregister {
	uint16_t type;
	uint16_t _unused;
};

#endif /* __HV_PUBLIC_CALLBACK_H__ */
