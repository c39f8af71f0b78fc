/*
 * Event channels (hypercall #32, event_channel_op(cmd, arg)), 2-level ABI.
 *
 * A port is a numbered endpoint in a domain; raising it sets its bit in
 * shared_info.evtchn_pending and, unless masked, the selector bit and upcall_pending of the
 * vCPU it is bound to. Port 0 is never allocated. IN fields are the caller's, OUT the reply.
 */
#ifndef __HV_PUBLIC_EVENT_CHANNEL_H__
#define __HV_PUBLIC_EVENT_CHANNEL_H__

#include "xen.h"

#define EVTCHNOP_bind_interdomain 0
#define EVTCHNOP_bind_virq        1
#define EVTCHNOP_bind_pirq        2
#define EVTCHNOP_close            3
#define EVTCHNOP_send             4
#define EVTCHNOP_status           5
#define EVTCHNOP_alloc_unbound    6
#define EVTCHNOP_bind_ipi         7
#define EVTCHNOP_bind_vcpu        8
#define EVTCHNOP_unmask           9
#define EVTCHNOP_reset            10
#define EVTCHNOP_init_control     11
#define EVTCHNOP_expand_array     12
#define EVTCHNOP_set_priority     13

/*
 * alloc_unbound: new port in dom (DOMID_SELF unless privileged) that remote_dom may connect to
 * with bind_interdomain. remote_dom may be DOMID_SELF (loopback).
 */
struct evtchn_alloc_unbound {
	domid_t dom, remote_dom; /* IN */
	evtchn_port_t port;      /* OUT */
};

/*
 * bind_interdomain: connect a new local port to remote_port of remote_dom, which must be
 * unbound and accept the caller. The new local port is set pending.
 */
struct evtchn_bind_interdomain {
	domid_t remote_dom;        /* IN */
	evtchn_port_t remote_port; /* IN */
	evtchn_port_t local_port;  /* OUT */
};

/* bind_virq: bind a VIRQ_* on vcpu (global VIRQs only on vCPU 0). Already bound => -EEXIST. */
struct evtchn_bind_virq {
	uint32_t virq;      /* IN */
	uint32_t vcpu;      /* IN */
	evtchn_port_t port; /* OUT */
};

/* bind_pirq: physical IRQ (privileged). */
#define BIND_PIRQ__WILL_SHARE 1
struct evtchn_bind_pirq {
	uint32_t pirq;      /* IN */
	uint32_t flags;     /* IN: BIND_PIRQ__* */
	evtchn_port_t port; /* OUT */
};

/* bind_ipi: a port that notifies vcpu of the caller's own domain. */
struct evtchn_bind_ipi {
	uint32_t vcpu;      /* IN */
	evtchn_port_t port; /* OUT */
};

/* close: an interdomain peer becomes unbound again (accepting us). */
struct evtchn_close {
	evtchn_port_t port; /* IN */
};

/* send: interdomain => peer raised; IPI => own port raised; unbound => dropped; else -EINVAL. */
struct evtchn_send {
	evtchn_port_t port; /* IN */
};

/* status of <dom, port>. */
#define EVTCHNSTAT_closed      0
#define EVTCHNSTAT_unbound     1
#define EVTCHNSTAT_interdomain 2
#define EVTCHNSTAT_pirq        3
#define EVTCHNSTAT_virq        4
#define EVTCHNSTAT_ipi         5
struct evtchn_status {
	domid_t dom;        /* IN */
	evtchn_port_t port; /* IN */
	uint32_t status;    /* OUT: EVTCHNSTAT_* */
	uint32_t vcpu;      /* OUT: vCPU the port notifies */
	union {
		struct {
			domid_t dom;
		} unbound; /* EVTCHNSTAT_unbound */
		struct {
			domid_t dom;
			evtchn_port_t port;
		} interdomain; /* EVTCHNSTAT_interdomain */
		uint32_t pirq; /* EVTCHNSTAT_pirq */
		uint32_t virq; /* EVTCHNSTAT_virq */
	} u;
};

/* bind_vcpu: retarget an interdomain/unbound/pirq/global-virq port. */
struct evtchn_bind_vcpu {
	evtchn_port_t port; /* IN */
	uint32_t vcpu;      /* IN */
};

/* unmask: clear the mask bit; if pending, re-raise the upcall on the bound vCPU. */
struct evtchn_unmask {
	evtchn_port_t port; /* IN */
};

/* reset: close every port of dom. */
struct evtchn_reset {
	domid_t dom; /* IN */
};

/* FIFO ABI (optional; an error from init_control makes guests stay on 2-level). */
struct evtchn_init_control {
	uint64_t control_gfn; /* IN */
	uint32_t offset;      /* IN */
	uint32_t vcpu;        /* IN */
	uint8_t link_bits;    /* OUT */
	uint8_t _pad[7];
};

struct evtchn_expand_array {
	uint64_t array_gfn; /* IN */
};

struct evtchn_set_priority {
	evtchn_port_t port; /* IN */
	uint32_t priority;  /* IN: 0 highest .. 15 lowest */
};

/* Legacy form for event_channel_op_compat (#16). */
struct evtchn_op {
	uint32_t cmd; /* EVTCHNOP_* */
	union {
		struct evtchn_alloc_unbound alloc_unbound;
		struct evtchn_bind_interdomain bind_interdomain;
		struct evtchn_bind_virq bind_virq;
		struct evtchn_bind_pirq bind_pirq;
		struct evtchn_bind_ipi bind_ipi;
		struct evtchn_close close;
		struct evtchn_send send;
		struct evtchn_status status;
		struct evtchn_bind_vcpu bind_vcpu;
		struct evtchn_unmask unmask;
	} u;
};
typedef struct evtchn_op evtchn_op_t;

#endif /* __HV_PUBLIC_EVENT_CHANNEL_H__ */
