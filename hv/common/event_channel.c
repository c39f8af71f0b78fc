/*
 * Event channel ports: allocation, binding (unbound/interdomain, VIRQ, IPI), send, close,
 * status, unmask and re-targeting, for the 2-level ABI (event_2l.c holds the bitmaps).
 *
 * Three error tiers, as everywhere in hv: a guest mistake returns a negative errno and changes
 * nothing; hv invariants are not checked at run time here because the only writers are below.
 * Guest memory is touched only in do_event_channel_op, which copies the argument in, calls a
 * worker with a plain struct, and copies the OUT fields back.
 *
 * Locking: one lock for all event-channel state (evtchn_lock below), taken by
 * do_event_channel_op and by hv's own senders. Interdomain pairs span two domains, and a
 * single lock needs no ordering rule; event traffic is not hv's bottleneck.
 *
 * Invariants: port 0 is never allocated. An interdomain port p of d with peer (rd, rp) has
 * rd's port rp interdomain with peer (d, p). v->virq_to_evtchn[virq] is 0 or a VIRQ port of
 * v's domain bound to that virq with notify_vcpu == v.
 */
#include <hv/event.h>

#include <public/event_channel.h>
#include <public/xen.h>

#include "../arch/x86/pv/guest-access.h"
#include "../arch/x86/pv/pv-errno.h"

#define NR_PORTS EVTCHN_2L_NR_CHANNELS

static bool virq_is_per_vcpu(unsigned int virq)
{
	return virq == VIRQ_TIMER || virq == VIRQ_DEBUG || virq == VIRQ_XENOPROF ||
	       virq == VIRQ_XENPMU;
}

int evtchn_domain_init(struct domain *d)
{
	d->evtchn = evtchn_alloc_zeroed(sizeof(struct evtchn) * NR_PORTS);
	return d->evtchn ? 0 : -ENOMEM;
}

static bool port_valid(const struct domain *d, uint32_t port)
{
	return port > 0 && port < NR_PORTS;
}

/* The lowest free port below the domain's limit (dom0 sets it per domU; 0 means all). */
static int alloc_port(struct domain *d)
{
	int limit = d->max_evtchn_ports && d->max_evtchn_ports < NR_PORTS ? (int)d->max_evtchn_ports
	                                                                  : NR_PORTS;
	int p;

	for (p = 1; p < limit; p++)
		if (d->evtchn[p].state == ECS_FREE)
			return p;
	return -ENOSPC;
}

static struct vcpu *vcpu_of(struct domain *d, uint32_t id)
{
	return id < d->max_vcpus ? d->vcpu[id] : NULL;
}

/* Raise port of d on the vCPU it notifies. */
static void raise(struct domain *d, uint32_t port)
{
	evtchn_2l_set_pending(d->vcpu[d->evtchn[port].notify_vcpu], port);
}

static int evtchn_alloc_unbound(struct domain *curr, struct evtchn_alloc_unbound *a)
{
	struct domain *d = curr;
	uint16_t remote = a->remote_dom == DOMID_SELF ? curr->domain_id : a->remote_dom;
	int port;

	if (a->dom != DOMID_SELF && a->dom != curr->domain_id) {
		if (!curr->is_privileged)
			return -EPERM;
		d = pv_find_domain(a->dom);
		if (!d)
			return -ESRCH;
	}
	port = alloc_port(d);
	if (port < 0)
		return port;
	d->evtchn[port] = (struct evtchn){.state = ECS_UNBOUND, .u.unbound_remote = remote};
	a->port = port;
	return 0;
}

/* For hv's builder: an unbound port of d that remote may bind to (the port, or -errno). */
int evtchn_alloc_unbound_port(struct domain *d, uint16_t remote)
{
	int port;

	evtchn_lock();
	port = alloc_port(d);
	if (port > 0)
		d->evtchn[port] = (struct evtchn){.state = ECS_UNBOUND, .u.unbound_remote = remote};
	evtchn_unlock();
	return port;
}

static int evtchn_bind_interdomain(struct domain *ld, struct evtchn_bind_interdomain *b)
{
	uint16_t rid = b->remote_dom == DOMID_SELF ? ld->domain_id : b->remote_dom;
	struct domain *rd = rid == ld->domain_id ? ld : pv_find_domain(rid);
	struct evtchn *rchn;
	int lport;

	if (!rd)
		return -ESRCH;
	if (!port_valid(rd, b->remote_port))
		return -EINVAL;
	rchn = &rd->evtchn[b->remote_port];
	if (rchn->state != ECS_UNBOUND || rchn->u.unbound_remote != ld->domain_id)
		return -EINVAL;
	lport = alloc_port(ld);
	if (lport < 0)
		return lport;
	ld->evtchn[lport] = (struct evtchn){.state = ECS_INTERDOMAIN,
	                                    .u.interdomain = {rd->domain_id, b->remote_port}};
	rchn->state = ECS_INTERDOMAIN;
	rchn->u.interdomain.dom = ld->domain_id;
	rchn->u.interdomain.port = lport;
	/* The new port starts pending: the binder learns of anything sent before it bound. */
	raise(ld, lport);
	b->local_port = lport;
	return 0;
}

static int evtchn_bind_virq(struct domain *d, struct evtchn_bind_virq *b)
{
	struct vcpu *v = vcpu_of(d, b->vcpu);
	int port;

	if (b->virq >= NR_VIRQS)
		return -EINVAL;
	if (!virq_is_per_vcpu(b->virq) && b->vcpu != 0)
		return -EINVAL;
	if (!v)
		return -ENOENT;
	if (v->virq_to_evtchn[b->virq])
		return -EEXIST;
	port = alloc_port(d);
	if (port < 0)
		return port;
	d->evtchn[port] =
	    (struct evtchn){.state = ECS_VIRQ, .notify_vcpu = b->vcpu, .u.virq = b->virq};
	v->virq_to_evtchn[b->virq] = port;
	b->port = port;
	return 0;
}

static int evtchn_bind_ipi(struct domain *d, struct evtchn_bind_ipi *b)
{
	int port;

	if (!vcpu_of(d, b->vcpu))
		return -ENOENT;
	port = alloc_port(d);
	if (port < 0)
		return port;
	d->evtchn[port] = (struct evtchn){.state = ECS_IPI, .notify_vcpu = b->vcpu};
	b->port = port;
	return 0;
}

/* Free port of d; an interdomain peer goes back to unbound, accepting d again. */
static int evtchn_close_port(struct domain *d, uint32_t port)
{
	struct evtchn *chn;

	if (!port_valid(d, port))
		return -EINVAL;
	chn = &d->evtchn[port];
	switch (chn->state) {
	case ECS_FREE:
		return -EINVAL;
	case ECS_VIRQ:
		d->vcpu[chn->notify_vcpu]->virq_to_evtchn[chn->u.virq] = 0;
		break;
	case ECS_INTERDOMAIN: {
		struct domain *rd = chn->u.interdomain.dom == d->domain_id
		                        ? d
		                        : pv_find_domain(chn->u.interdomain.dom);
		if (rd) {
			struct evtchn *rchn = &rd->evtchn[chn->u.interdomain.port];

			rchn->state = ECS_UNBOUND;
			rchn->u.unbound_remote = d->domain_id;
		}
		break;
	}
	default:
		break;
	}
	evtchn_2l_clear_pending(d, port);
	*chn = (struct evtchn){.state = ECS_FREE};
	return 0;
}

static int evtchn_send(struct domain *d, uint32_t port)
{
	struct evtchn *chn;

	if (!port_valid(d, port))
		return -EINVAL;
	chn = &d->evtchn[port];
	switch (chn->state) {
	case ECS_INTERDOMAIN: {
		struct domain *rd = chn->u.interdomain.dom == d->domain_id
		                        ? d
		                        : pv_find_domain(chn->u.interdomain.dom);
		if (rd)
			raise(rd, chn->u.interdomain.port);
		return 0;
	}
	case ECS_IPI:
		raise(d, port);
		return 0;
	case ECS_UNBOUND:
		return 0; /* nobody listens yet: dropped */
	default:
		return -EINVAL;
	}
}

static int evtchn_status(struct domain *curr, struct evtchn_status *st)
{
	struct domain *d = curr;
	struct evtchn *chn;

	if (st->dom != DOMID_SELF && st->dom != curr->domain_id) {
		if (!curr->is_privileged)
			return -EPERM;
		d = pv_find_domain(st->dom);
		if (!d)
			return -ESRCH;
	}
	if (!port_valid(d, st->port))
		return -EINVAL;
	chn = &d->evtchn[st->port];
	st->status = chn->state;
	st->vcpu = chn->notify_vcpu;
	switch (chn->state) {
	case ECS_UNBOUND:
		st->u.unbound.dom = chn->u.unbound_remote;
		break;
	case ECS_INTERDOMAIN:
		st->u.interdomain.dom = chn->u.interdomain.dom;
		st->u.interdomain.port = chn->u.interdomain.port;
		break;
	case ECS_VIRQ:
		st->u.virq = chn->u.virq;
		break;
	default:
		break;
	}
	return 0;
}

static int evtchn_bind_vcpu(struct domain *d, struct evtchn_bind_vcpu *b)
{
	struct evtchn *chn;

	if (!vcpu_of(d, b->vcpu))
		return -ENOENT;
	if (!port_valid(d, b->port))
		return -EINVAL;
	chn = &d->evtchn[b->port];
	switch (chn->state) {
	case ECS_VIRQ:
		if (virq_is_per_vcpu(chn->u.virq))
			return -EINVAL;
		__attribute__((fallthrough)); /* global VIRQs may move */
	case ECS_UNBOUND:
	case ECS_INTERDOMAIN:
	case ECS_PIRQ:
		chn->notify_vcpu = b->vcpu;
		return 0;
	default:
		return -EINVAL;
	}
}

static int evtchn_unmask_port(struct domain *d, uint32_t port)
{
	if (!port_valid(d, port))
		return -EINVAL;
	evtchn_2l_unmask(d, port);
	return 0;
}

static int evtchn_reset(struct domain *curr, uint16_t dom)
{
	struct domain *d = curr;
	int p;

	if (dom != DOMID_SELF && dom != curr->domain_id) {
		if (!curr->is_privileged)
			return -EPERM;
		d = pv_find_domain(dom);
		if (!d)
			return -ESRCH;
	}
	for (p = 1; p < NR_PORTS; p++)
		if (d->evtchn[p].state != ECS_FREE)
			evtchn_close_port(d, p);
	return 0;
}

void evtchn_domain_destroy(struct domain *d)
{
	int p;

	if (!d->evtchn)
		return;
	evtchn_lock();
	for (p = 1; p < NR_PORTS; p++)
		if (d->evtchn[p].state != ECS_FREE)
			evtchn_close_port(d, p);
	evtchn_unlock();
	evtchn_free(d->evtchn, sizeof(struct evtchn) * NR_PORTS);
	d->evtchn = NULL;
}

void send_guest_vcpu_virq(struct vcpu *v, unsigned int virq)
{
	uint32_t port;

	evtchn_lock();
	port = v->virq_to_evtchn[virq];
	if (port)
		evtchn_2l_set_pending(v, port);
	evtchn_unlock();
}

void send_guest_global_virq(struct domain *d, unsigned int virq)
{
	uint32_t port;

	evtchn_lock();
	port = d->vcpu[0] ? d->vcpu[0]->virq_to_evtchn[virq] : 0;
	if (port)
		raise(d, port);
	evtchn_unlock();
}

/*
 * The hypercall: copy the argument in, run the worker under the lock, copy the OUT fields out.
 */
long do_event_channel_op(struct vcpu *curr, unsigned int cmd, uint64_t arg)
{
	struct domain *d = curr->domain;
	union {
		struct evtchn_alloc_unbound alloc_unbound;
		struct evtchn_bind_interdomain bind_interdomain;
		struct evtchn_bind_virq bind_virq;
		struct evtchn_bind_ipi bind_ipi;
		struct evtchn_close close;
		struct evtchn_send send;
		struct evtchn_status status;
		struct evtchn_bind_vcpu bind_vcpu;
		struct evtchn_unmask unmask;
		struct evtchn_reset reset;
	} a;
	static const unsigned char size[] = {
	    [EVTCHNOP_alloc_unbound] = sizeof(struct evtchn_alloc_unbound),
	    [EVTCHNOP_bind_interdomain] = sizeof(struct evtchn_bind_interdomain),
	    [EVTCHNOP_bind_virq] = sizeof(struct evtchn_bind_virq),
	    [EVTCHNOP_bind_ipi] = sizeof(struct evtchn_bind_ipi),
	    [EVTCHNOP_close] = sizeof(struct evtchn_close),
	    [EVTCHNOP_send] = sizeof(struct evtchn_send),
	    [EVTCHNOP_status] = sizeof(struct evtchn_status),
	    [EVTCHNOP_bind_vcpu] = sizeof(struct evtchn_bind_vcpu),
	    [EVTCHNOP_unmask] = sizeof(struct evtchn_unmask),
	    [EVTCHNOP_reset] = sizeof(struct evtchn_reset),
	};
	bool copy_back = false;
	long rc;

	if (cmd >= sizeof(size) || size[cmd] == 0)
		return -ENOSYS; /* bind_pirq, FIFO ABI (init_control: guests fall back to 2L) */
	if (copy_from_guest(&a, arg, size[cmd]))
		return -EFAULT;

	evtchn_lock();
	switch (cmd) {
	case EVTCHNOP_alloc_unbound:
		rc = evtchn_alloc_unbound(d, &a.alloc_unbound);
		copy_back = true;
		break;
	case EVTCHNOP_bind_interdomain:
		rc = evtchn_bind_interdomain(d, &a.bind_interdomain);
		copy_back = true;
		break;
	case EVTCHNOP_bind_virq:
		rc = evtchn_bind_virq(d, &a.bind_virq);
		copy_back = true;
		break;
	case EVTCHNOP_bind_ipi:
		rc = evtchn_bind_ipi(d, &a.bind_ipi);
		copy_back = true;
		break;
	case EVTCHNOP_close:
		rc = evtchn_close_port(d, a.close.port);
		break;
	case EVTCHNOP_send:
		rc = evtchn_send(d, a.send.port);
		break;
	case EVTCHNOP_status:
		rc = evtchn_status(d, &a.status);
		copy_back = true;
		break;
	case EVTCHNOP_bind_vcpu:
		rc = evtchn_bind_vcpu(d, &a.bind_vcpu);
		break;
	case EVTCHNOP_unmask:
		rc = evtchn_unmask_port(d, a.unmask.port);
		break;
	case EVTCHNOP_reset:
		rc = evtchn_reset(d, a.reset.dom);
		break;
	default:
		rc = -ENOSYS;
		break;
	}
	evtchn_unlock();

	if (rc == 0 && copy_back && copy_to_guest(arg, &a, size[cmd]))
		rc = -EFAULT;
	return rc;
}
