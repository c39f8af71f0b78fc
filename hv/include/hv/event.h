/*
 * Event channels: the one notification mechanism between hv, domains and vCPUs (Xen's 2-level
 * ABI: 4096 ports per domain, pending and mask bitmaps in shared_info). hv/common/event_channel.c
 * keeps the ports; hv/common/event_2l.c the bitmaps.
 */
#ifndef HV_EVENT_H
#define HV_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include <hv/domain.h>

/* What a port is bound to (EVTCHNSTAT_* values). */
enum evtchn_state {
	ECS_FREE = 0,
	ECS_UNBOUND = 1,
	ECS_INTERDOMAIN = 2,
	ECS_PIRQ = 3,
	ECS_VIRQ = 4,
	ECS_IPI = 5,
};

struct evtchn {
	uint8_t state;        /* enum evtchn_state */
	uint16_t notify_vcpu; /* vCPU raised when the port fires */
	union {
		uint16_t unbound_remote; /* domain allowed to bind_interdomain to it */
		struct {
			uint16_t dom;
			uint32_t port;
		} interdomain;
		uint32_t virq;
	} u;
};

int evtchn_domain_init(struct domain *d);
void evtchn_domain_destroy(struct domain *d);

/* hv-raised events: a per-vCPU VIRQ on v, a global VIRQ on the domain (vCPU 0's binding). */
void send_guest_vcpu_virq(struct vcpu *v, unsigned int virq);
void send_guest_global_virq(struct domain *d, unsigned int virq);

/* EVTCHNOP_* for the current domain; arg is a guest pointer. */
long do_event_channel_op(struct vcpu *curr, unsigned int cmd, uint64_t arg);

/* 2-level bitmaps (event_2l.c). */
void evtchn_2l_set_pending(struct vcpu *v, unsigned int port);
void evtchn_2l_clear_pending(struct domain *d, unsigned int port);
void evtchn_2l_unmask(struct domain *d, unsigned int port);
bool evtchn_2l_is_pending(const struct domain *d, unsigned int port);
bool evtchn_2l_is_masked(const struct domain *d, unsigned int port);

/*
 * Hooks hv provides (the unit test fakes them): allocate zeroed hv memory; make v notice an
 * upcall (wake it if blocked or polling, IPI its CPU if running elsewhere); look up a domain.
 */
void *evtchn_alloc_zeroed(unsigned long bytes);
void evtchn_free(void *p, unsigned long bytes);
void vcpu_kick(struct vcpu *v);
void evtchn_lock(void);
void evtchn_unlock(void);
struct domain *pv_find_domain(uint16_t domid);

#endif
