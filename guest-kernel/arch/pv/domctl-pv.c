/*
 * The PV platform's half of dom0's control calls (include/domctl.h): the domctl hypercall
 * itself and event-channel set-up on behalf of other domains. hv refuses both to any domain
 * but dom0 (-EPERM), which the domU tests check.
 */
#include <domctl.h>
#include <public/grant_table.h>
#include <mm.h>
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

/* dom0's grant mappings for its tests go here (pv.h's scratch area, clear of the self-tests). */
#define GRANT_MAP_VA (PV_SCRATCH_BASE + 300 * PAGE_SIZE)

/* Map dom's grant ref read-only; returns the GNTST status (0 okay) or the hypercall's -errno. */
long arch_grant_map(uint32_t dom, uint32_t ref, const void **va, uint32_t *handle)
{
	struct gnttab_map_grant_ref m = {.host_addr = GRANT_MAP_VA,
	                                 .flags = GNTMAP_host_map | GNTMAP_readonly,
	                                 .ref = ref,
	                                 .dom = (domid_t)dom};
	long rc = HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, &m, 1);

	if (rc)
		return rc;
	*va = (const void *)GRANT_MAP_VA;
	*handle = m.handle;
	return m.status;
}

long arch_grant_unmap(uint32_t handle)
{
	struct gnttab_unmap_grant_ref u = {.host_addr = GRANT_MAP_VA, .handle = handle};
	long rc = HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, &u, 1);

	return rc ? rc : u.status;
}

/* Copy len bytes of dom's grant ref into dst (one of our pages), as two batched copies of
 * len/2: the split drivers' data path. Returns the first failing status or 0. */
long arch_grant_copy(uint32_t dom, uint32_t ref, void *dst, uint16_t len)
{
	struct gnttab_copy c[2];
	uint16_t half = len / 2;
	long rc;

	for (int i = 0; i < 2; i++)
		c[i] = (struct gnttab_copy){
		    .source = {.u.ref = ref, .domid = (domid_t)dom, .offset = (uint16_t)(i * half)},
		    .dest = {.u.gmfn = pv_virt_to_mfn(dst),
		             .domid = DOMID_SELF,
		             .offset = (uint16_t)(((uint64_t)dst & (PAGE_SIZE - 1)) + i * half)},
		    .len = half,
		    .flags = GNTCOPY_source_gref};
	rc = HYPERVISOR_grant_table_op(GNTTABOP_copy, c, 2);
	if (rc)
		return rc;
	return c[0].status ? c[0].status : c[1].status;
}
