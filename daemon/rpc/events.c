/*
 * Domain event registrations and delivery (see events.h).
 *
 * Registrations are accepted for every event ID libvirt 9.0 defines (as libvirtd does), so
 * that `virsh event --all` works; virthvd emits LIFECYCLE, REBOOT, BALLOON_CHANGE and
 * METADATA_CHANGE. callbackIDs
 * are unique per connection, handed out 0, 1, 2, ... like libvirtd.
 */
#include "rpc/events.h"

#include <string.h>

#include "rpc/hv_remote_protocol.h"
#include "rpc/remote_handlers.h"
#include "util/error.h"

/* libvirt 9.0 defines event IDs 0..26 (reference 4.3). */
#define HV_EVENT_ID_COUNT 27

typedef struct {
	int callback_id;
	int event_id;
	gboolean has_dom;
	unsigned char uuid[16];
} hvEventRegistration;

struct hvRpcClientEvents {
	GArray *regs; /* hvEventRegistration */
	int next_id;
};

static hvRpcClientEvents *client_events(hvRpcClient *c)
{
	hvRpcClientEvents **ev = hv_rpc_client_events(c);

	if (!*ev) {
		*ev = g_new0(hvRpcClientEvents, 1);
		(*ev)->regs = g_array_new(FALSE, FALSE, sizeof(hvEventRegistration));
	}
	return *ev;
}

HV_RPC_HANDLER(hv_rpc_event_register_any)
{
	remote_connect_domain_event_callback_register_any_args *args = args_;
	remote_connect_domain_event_callback_register_any_ret *ret = ret_;
	hvRpcClientEvents *ev;
	hvEventRegistration reg = {0};

	if (args->eventID < 0 || args->eventID >= HV_EVENT_ID_COUNT)
		return hv_error_set(err, VIR_ERR_INVALID_ARG, "unsupported event ID %d",
		                    args->eventID);
	ev = client_events(c);
	if (ev->regs->len >= 1024)
		return hv_error_set(err, VIR_ERR_OPERATION_FAILED,
		                    "too many event callbacks on one connection");
	reg.callback_id = ev->next_id++;
	reg.event_id = args->eventID;
	if (args->dom) {
		reg.has_dom = TRUE;
		memcpy(reg.uuid, (*args->dom).uuid, 16);
	}
	g_array_append_val(ev->regs, reg);
	ret->callbackID = reg.callback_id;
	return 0;
}

HV_RPC_HANDLER(hv_rpc_event_deregister_any)
{
	remote_connect_domain_event_callback_deregister_any_args *args = args_;
	hvRpcClientEvents *ev = client_events(c);

	for (guint i = 0; i < ev->regs->len; i++) {
		if (g_array_index(ev->regs, hvEventRegistration, i).callback_id ==
		    args->callbackID) {
			g_array_remove_index(ev->regs, i);
			return 0;
		}
	}
	return hv_error_set(err, VIR_ERR_INVALID_ARG, "domain event callback %d not registered",
	                    args->callbackID);
}

typedef struct {
	const hvDomainRef *dom;
	int event_id, event, detail;
	unsigned long long value;
} hvEventMsg;

static void send_to_client(hvRpcClient *c, void *opaque)
{
	hvEventMsg *m = opaque;
	hvRpcClientEvents *ev = *hv_rpc_client_events(c);
	/* Events carry serial 1, as libvirtd 9.0 sends them (reference 1.5). */
	hvRpcHeader hdr = {
	    HV_RPC_PROGRAM_REMOTE, HV_RPC_PROGRAM_VERSION, 0, HV_RPC_MESSAGE, 1, HV_RPC_OK};

	if (!ev || !hv_rpc_client_is_open(c))
		return;
	for (guint i = 0; i < ev->regs->len; i++) {
		hvEventRegistration *r = &g_array_index(ev->regs, hvEventRegistration, i);
		remote_nonnull_domain dom;
		GBytes *pkt = NULL;

		if (r->event_id != m->event_id || (r->has_dom && memcmp(r->uuid, m->dom->uuid, 16)))
			continue;
		dom.name = m->dom->name;
		memcpy(dom.uuid, m->dom->uuid, 16);
		dom.id = m->dom->id;
		if (m->event_id == VIR_DOMAIN_EVENT_ID_LIFECYCLE) {
			remote_domain_event_callback_lifecycle_msg msg = {
			    r->callback_id, {dom, m->event, m->detail}};
			hdr.proc = REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE;
			pkt = hv_rpc_packet_encode(
			    &hdr, (xdrproc_t)xdr_remote_domain_event_callback_lifecycle_msg, &msg,
			    NULL);
		} else if (m->event_id == VIR_DOMAIN_EVENT_ID_REBOOT) {
			remote_domain_event_callback_reboot_msg msg = {r->callback_id, {dom}};
			hdr.proc = REMOTE_PROC_DOMAIN_EVENT_CALLBACK_REBOOT;
			pkt = hv_rpc_packet_encode(
			    &hdr, (xdrproc_t)xdr_remote_domain_event_callback_reboot_msg, &msg,
			    NULL);
		} else if (m->event_id == VIR_DOMAIN_EVENT_ID_METADATA_CHANGE) {
			remote_domain_event_callback_metadata_change_msg msg = {r->callback_id, dom,
			                                                        m->event, NULL};
			hdr.proc = REMOTE_PROC_DOMAIN_EVENT_CALLBACK_METADATA_CHANGE;
			pkt = hv_rpc_packet_encode(
			    &hdr, (xdrproc_t)xdr_remote_domain_event_callback_metadata_change_msg,
			    &msg, NULL);
		} else if (m->event_id == VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE) {
			remote_domain_event_callback_balloon_change_msg msg = {r->callback_id,
			                                                       {dom, m->value}};
			hdr.proc = REMOTE_PROC_DOMAIN_EVENT_CALLBACK_BALLOON_CHANGE;
			pkt = hv_rpc_packet_encode(
			    &hdr, (xdrproc_t)xdr_remote_domain_event_callback_balloon_change_msg,
			    &msg, NULL);
		}
		if (pkt)
			hv_rpc_client_send(c, pkt);
		/* sending may have dropped a client that does not read: stop here then */
		if (!*hv_rpc_client_events(c))
			return;
	}
}

typedef struct {
	hvRpcServer *srv;
	hvDomainRef dom;
	int event_id, event, detail;
	unsigned long long value;
} hvQueuedEvent;

static gboolean broadcast(gpointer data)
{
	hvQueuedEvent *q = data;
	hvEventMsg m = {&q->dom, q->event_id, q->event, q->detail, q->value};

	hv_rpc_server_foreach_client(q->srv, send_to_client, &m);
	hv_domain_ref_clear(&q->dom);
	g_free(q);
	return G_SOURCE_REMOVE;
}

/*
 * The driver's event sink, called from the driver's threads with the driver lock held: the
 * event is copied and broadcast from the main loop, where the clients live. Idle callbacks of
 * one priority run in the order they were added, so events keep their order, and an event a
 * call caused goes out before that call's reply (queued the same way once the call returns).
 */
void hv_rpc_events_emit(const hvDomainRef *dom, int event_id, int event, int detail,
                        unsigned long long value, void *opaque)
{
	hvQueuedEvent *q = g_new0(hvQueuedEvent, 1);

	q->srv = opaque;
	q->dom.name = g_strdup(dom->name);
	memcpy(q->dom.uuid, dom->uuid, 16);
	q->dom.id = dom->id;
	q->event_id = event_id;
	q->event = event;
	q->detail = detail;
	q->value = value;
	g_idle_add_full(G_PRIORITY_DEFAULT, broadcast, q, NULL);
}

void hv_rpc_events_client_gone(hvRpcClient *c)
{
	hvRpcClientEvents **ev = hv_rpc_client_events(c);

	if (!*ev)
		return;
	g_array_unref((*ev)->regs);
	g_clear_pointer(ev, g_free);
}
