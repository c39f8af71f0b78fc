/*
 * The PV platform's half of dom0's control calls (include/domctl.h): the domctl hypercall
 * itself and event-channel set-up on behalf of other domains. hv refuses both to any domain
 * but dom0 (-EPERM), which the domU tests check.
 */
#include <domctl.h>
#include "pv.h"

long arch_domctl(struct hv_domctl *op)
{
	return hypercall1(__HYPERVISOR_domctl, op);
}

long arch_evtchn_alloc_unbound(uint32_t dom, uint32_t remote, uint32_t *port)
{
	struct evtchn_alloc_unbound a = {.dom = (domid_t)dom, .remote_dom = (domid_t)remote};
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &a);

	if (rc == 0)
		*port = a.port;
	return rc;
}

/* VIRQ_DOM_EXC (a domain shut down, crashed or was destroyed), counted for dom0's tests. */
static volatile unsigned long dom_exc_events;

static void dom_exc_handler(evtchn_port_t port)
{
	(void)port;
	dom_exc_events++;
}

long arch_dom_exc_bind(void)
{
	struct evtchn_bind_virq b = {.virq = VIRQ_DOM_EXC, .vcpu = 0};
	long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &b);

	if (rc)
		return rc;
	pv_evtchn_bind(b.port, dom_exc_handler);
	return pv_evtchn_unmask(b.port);
}

unsigned long arch_dom_exc_count(void)
{
	return dom_exc_events;
}

/* The initrd the builder mapped for us (dom0 gets hv's boot module 1 there), or NULL. */
const void *arch_initrd(uint64_t *len)
{
	if (!pv_start_info->mod_len || (pv_start_info->flags & SIF_MOD_START_PFN))
		return NULL;
	*len = pv_start_info->mod_len;
	return (const void *)pv_start_info->mod_start;
}
