/*
 * Scheduler operations (hypercall #29, sched_op(cmd, arg)) and shutdown reasons.
 *
 * SCHEDOP_block clears the caller's upcall mask and sleeps until an event is deliverable (it
 * returns 0 at once if one already is); the upcall is delivered on the way back. SCHEDOP_poll
 * blocks until one of the listed ports is pending, regardless of masks, or the absolute timeout
 * (0 = none) passes. Legacy sched_op_compat (#6) takes (cmd, reason) directly.
 */
#ifndef __HV_PUBLIC_SCHED_H__
#define __HV_PUBLIC_SCHED_H__

#include "xen.h"

#define SCHEDOP_yield           0 /* arg NULL */
#define SCHEDOP_block           1 /* arg NULL */
#define SCHEDOP_shutdown        2 /* struct sched_shutdown */
#define SCHEDOP_poll            3 /* struct sched_poll */
#define SCHEDOP_remote_shutdown 4 /* struct sched_remote_shutdown, privileged */
#define SCHEDOP_shutdown_code   5 /* struct sched_shutdown: latch a reason */
#define SCHEDOP_watchdog        6 /* struct sched_watchdog */
#define SCHEDOP_pin_override    7 /* struct sched_pin_override, hardware domain */

#define SHUTDOWN_poweroff   0
#define SHUTDOWN_reboot     1
#define SHUTDOWN_suspend    2 /* start_info MFN in the third argument */
#define SHUTDOWN_crash      3
#define SHUTDOWN_watchdog   4
#define SHUTDOWN_soft_reset 5

struct sched_shutdown {
	uint32_t reason; /* SHUTDOWN_* */
};

struct sched_poll {
	uint64_t ports;    /* guest VA of an evtchn_port_t array */
	uint32_t nr_ports; /* at most 128 */
	uint64_t timeout;  /* absolute system time in ns, 0 = none */
};

struct sched_remote_shutdown {
	domid_t domain_id;
	uint32_t reason;
};

struct sched_watchdog {
	uint32_t id;      /* 0 = allocate a new watchdog */
	uint32_t timeout; /* seconds, 0 = destroy */
};

struct sched_pin_override {
	int32_t pcpu;
};

#endif /* __HV_PUBLIC_SCHED_H__ */
