/*
 * dom0's network back end (Xen's netback protocol, public/io/netif.h, rx-copy only) and the
 * glue between each VIF, the switch (switch.c) and the host's TAPs on the management link.
 *
 * A VIF (domid, devid) is added by devices.c after it wrote the XenStore nodes (back end state
 * InitWait). When the front end says Initialised or Connected we read its tx-ring-ref,
 * rx-ring-ref and event-channel, map both rings, bind the channel and say Connected.
 *   transmit (guest -> switch): each request is checked (size, offset, flags), charged to the
 *     VIF's outbound buckets (an over-budget guest waits in its own ring), its bytes are
 *     grant-copied into a dom0 frame, answered, and the frame enters the switch;
 *   receive (switch -> guest): the switch's output takes one of the guest's posted buffers and
 *     grant-copies the frame into it; copies are batched and answered in request order (the
 *     response lands in its request's slot, which front ends rely on);
 *   TAP (switch -> host): one HVLINK_NET_FRAME record on the NET channel; frames from the host
 *     come in through netback_link_message().
 * A guest that publishes impossible ring indices is disconnected (back end state Closed);
 * bad grant references, sizes and flags get NETIF_RSP_ERROR; nothing a guest writes is read
 * twice. Frames live in pages of dom0's direct map, two per page, from a bounded pool.
 *
 * The agent calls us on every turn of its loop (netback_poll) and blocks when nobody did work;
 * when frames wait for tokens we arm the one-shot timer for the moment they may go.
 */
#include <kernel.h>
#include <mm.h>
#include <gnttab.h>
#include <xenbus.h>
#include <klib/printf.h>
#include <klib/string.h>
#include <public/io/netif.h>

#include "../arch/pv/pv.h"
#include "backends.h"
#include "switch.h"

#define MAX_VIFS         32
#define TX_BATCH         32   /* transmit requests copied per hypercall */
#define RX_BATCH         32   /* receive copies per hypercall */
#define POOL_MAX_PAGES   1024 /* 2048 frames, 4 MiB */
#define TAP_RETRY_NS     1000000ULL
#define SPIN_NS          20000ULL /* a wait shorter than this is not worth a timer */
#define FRAME_SLOT_BYTES 2048

_Static_assert(sizeof(struct sw_frame) <= FRAME_SLOT_BYTES, "two frames per page");

enum vif_state {
	VIF_WAITING,   /* for the front end's rings */
	VIF_CONNECTED, /* rings mapped, channel bound */
	VIF_CLOSED,    /* the front end left, or we threw it out */
};

struct vif {
	bool used;
	uint16_t domid, devid;
	uint8_t mac[6];
	enum vif_state state;
	bool check_state; /* the front end's state node changed */
	bool watching;
	char fe_state_path[64], be_path[64];
	int sw_port, tap_port;
	struct netif_tx_back_ring tx;
	struct netif_rx_back_ring rx;
	void *tx_va, *rx_va;
	grant_handle_t tx_handle, rx_handle;
	evtchn_port_t port;
	uint64_t tx_resume_ns; /* outbound buckets empty until then (0: not waiting) */
	/* receive copies not yet made */
	unsigned int rx_n;
	struct gnttab_copy rx_ops[RX_BATCH];
	struct sw_frame *rx_frames[RX_BATCH];
	uint16_t rx_ids[RX_BATCH];
	uint64_t tx_errors, rx_errors;
};

static struct vif vifs[MAX_VIFS];
static struct vif *port_vif[SW_MAX_PORTS]; /* switch port -> VIF (both its VIF and TAP port) */
static struct netswitch sw;
static uint64_t tap_retry_at;
static uint64_t wake_asked; /* the last deadline given to backends_wake_at */

/* ---- frame pool ---- */

static struct sw_frame *free_frames;
static unsigned int pool_pages;
static uint64_t pool_exhausted;

static struct sw_frame *frame_alloc(void *arg)
{
	struct sw_frame *f;

	(void)arg;
	if (!free_frames && pool_pages < POOL_MAX_PAGES) {
		uint8_t *page = alloc_page();

		if (page) {
			pool_pages++;
			for (unsigned int off = 0; off < PAGE_SIZE; off += FRAME_SLOT_BYTES) {
				f = (struct sw_frame *)(page + off);
				f->next = free_frames;
				free_frames = f;
			}
		}
	}
	f = free_frames;
	if (!f) {
		pool_exhausted++;
		return NULL;
	}
	free_frames = f->next;
	f->next = NULL;
	f->len = 0;
	return f;
}

static void frame_free(void *arg, struct sw_frame *f)
{
	(void)arg;
	f->next = free_frames;
	free_frames = f;
}

/* ---- helpers ---- */

static struct vif *find_vif(uint16_t domid, uint16_t devid)
{
	for (int i = 0; i < MAX_VIFS; i++)
		if (vifs[i].used && vifs[i].domid == domid && vifs[i].devid == devid)
			return &vifs[i];
	return NULL;
}

static void notify(struct vif *v)
{
	struct evtchn_send send = {.port = v->port};

	HYPERVISOR_event_channel_op(EVTCHNOP_send, &send);
}

static void be_write(struct vif *v, const char *node, const char *fmt, ...) __printf(3, 4);
static void be_write(struct vif *v, const char *node, const char *fmt, ...)
{
	char path[96], value[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", v->be_path, node);
	xs_write(path, value);
}

/* A non-negative decimal node of the front end, or -1. */
static long long fe_read_num(struct vif *v, const char *node)
{
	char path[96], buf[24];
	char *end;
	unsigned long long n;

	snprintf(path, sizeof(path), "/local/domain/%u/device/vif/%u/%s", v->domid, v->devid, node);
	if (xs_read(path, buf, sizeof(buf)) <= 0 || !isdigit((unsigned char)buf[0]))
		return -1;
	n = strtoull(buf, &end, 10);
	if (*end || n > 0xffffffffULL)
		return -1;
	return (long long)n;
}

static uint64_t frame_maddr_offset(const struct sw_frame *f, uint64_t *mfn)
{
	*mfn = pv_virt_to_mfn(f->data);
	return (uintptr_t)f->data & (PAGE_SIZE - 1);
}

/* ---- connect / disconnect ---- */

static void vif_event(evtchn_port_t port)
{
	(void)port; /* the agent's loop serves the rings after each wake-up */
}

static void rx_drop_pending(struct vif *v)
{
	for (unsigned int i = 0; i < v->rx_n; i++)
		frame_free(NULL, v->rx_frames[i]);
	v->rx_n = 0;
}

static void disconnect(struct vif *v)
{
	if (v->state == VIF_CONNECTED) {
		struct evtchn_close cl = {.port = v->port};

		rx_drop_pending(v);
		pv_evtchn_mask(v->port);
		pv_evtchn_unbind(v->port);
		HYPERVISOR_event_channel_op(EVTCHNOP_close, &cl);
		int e1 = gnttab_unmap(v->tx_va, v->tx_handle);
		int e2 = gnttab_unmap(v->rx_va, v->rx_handle);

		if (e1 || e2)
			printk("netback: vif %u.%u: unmapping the rings failed\n", v->domid,
			       v->devid);
	}
	v->state = VIF_CLOSED;
	v->tx_resume_ns = 0;
}

/* A guest broke the protocol: it loses the device until it reconnects. */
static void vif_fail(struct vif *v, const char *why)
{
	printk("netback: vif %u.%u: %s; disconnected\n", v->domid, v->devid, why);
	disconnect(v);
	be_write(v, "state", "%d", XenbusStateClosed);
}

static int connect(struct vif *v)
{
	long long tx_ref = fe_read_num(v, "tx-ring-ref");
	long long rx_ref = fe_read_num(v, "rx-ring-ref");
	long long evtchn = fe_read_num(v, "event-channel");
	long long rx_copy = fe_read_num(v, "request-rx-copy");
	struct evtchn_bind_interdomain bind;
	int err;
	long rc;

	if (tx_ref < 0 || rx_ref < 0 || evtchn <= 0) {
		printk("netback: vif %u.%u: the front end gave no rings or channel\n", v->domid,
		       v->devid);
		return -XEN_EINVAL;
	}
	if (rx_copy != 1) {
		printk("netback: vif %u.%u: the front end wants page flipping (only rx-copy)\n",
		       v->domid, v->devid);
		return -XEN_EOPNOTSUPP;
	}
	v->tx_va = gnttab_map(v->domid, (grant_ref_t)tx_ref, false, &v->tx_handle, &err);
	if (!v->tx_va) {
		printk("netback: vif %u.%u: cannot map tx ring ref %lld (%d)\n", v->domid, v->devid,
		       tx_ref, err);
		return err;
	}
	v->rx_va = gnttab_map(v->domid, (grant_ref_t)rx_ref, false, &v->rx_handle, &err);
	if (!v->rx_va) {
		printk("netback: vif %u.%u: cannot map rx ring ref %lld (%d)\n", v->domid, v->devid,
		       rx_ref, err);
		gnttab_unmap(v->tx_va, v->tx_handle);
		return err;
	}
	bind.remote_dom = v->domid;
	bind.remote_port = (evtchn_port_t)evtchn;
	if ((rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bind))) {
		printk("netback: vif %u.%u: cannot bind port %lld (%ld)\n", v->domid, v->devid,
		       evtchn, rc);
		gnttab_unmap(v->tx_va, v->tx_handle);
		gnttab_unmap(v->rx_va, v->rx_handle);
		return (int)rc;
	}
	v->port = bind.local_port;
	HV_RING_BACK_INIT(&v->tx, (struct netif_tx_sring *)v->tx_va, PAGE_SIZE);
	HV_RING_BACK_INIT(&v->rx, (struct netif_rx_sring *)v->rx_va, PAGE_SIZE);
	/* Start from what the front end already published (a reconnecting front starts at 0). */
	v->tx.req_cons = v->tx.rsp_prod_pvt = READ_ONCE(v->tx.sring->rsp_prod);
	v->rx.req_cons = v->rx.rsp_prod_pvt = READ_ONCE(v->rx.sring->rsp_prod);
	v->rx_n = 0;
	v->tx_resume_ns = 0;
	v->state = VIF_CONNECTED;
	pv_evtchn_bind(v->port, vif_event);
	pv_evtchn_unmask(v->port);
	be_write(v, "state", "%d", XenbusStateConnected);
	printk("netback: vif %u.%u connected (tx ref %lld, rx ref %lld, port %lld)\n", v->domid,
	       v->devid, tx_ref, rx_ref, evtchn);
	return 0;
}

static void fe_state_changed(const char *path, void *arg)
{
	(void)path;
	((struct vif *)arg)->check_state = true;
}

/* Follows the front end's state (XenBus handshake). */
static void check_state(struct vif *v)
{
	char buf[8];
	int fe;

	v->check_state = false;
	if (xs_read(v->fe_state_path, buf, sizeof(buf)) <= 0)
		return;
	fe = buf[0] >= '0' && buf[0] <= '9' && !buf[1] ? buf[0] - '0' : -1;
	switch (fe) {
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (v->state == VIF_WAITING && connect(v))
			vif_fail(v, "the connection failed");
		break;
	case XenbusStateClosing:
		if (v->state != VIF_CLOSED) {
			disconnect(v);
			be_write(v, "state", "%d", XenbusStateClosing);
		}
		be_write(v, "state", "%d", XenbusStateClosed);
		break;
	case XenbusStateClosed:
		if (v->state != VIF_CLOSED)
			disconnect(v);
		be_write(v, "state", "%d", XenbusStateClosed);
		break;
	case XenbusStateInitialising:
	case XenbusStateInitWait:
		if (v->state == VIF_CLOSED) { /* a front end starting again */
			v->state = VIF_WAITING;
			be_write(v, "state", "%d", XenbusStateInitWait);
		}
		break;
	default:
		break;
	}
}

/* ---- transmit: guest -> switch ---- */

static void tx_respond(struct vif *v, uint16_t id, int16_t status)
{
	struct netif_tx_response *rsp = HV_RING_GET_RESPONSE(&v->tx, v->tx.rsp_prod_pvt);

	rsp->id = id;
	rsp->status = status;
	v->tx.rsp_prod_pvt++;
}

/* Takes up to one batch of frames off the guest's transmit ring. True if any request was
 * consumed. */
static bool vif_tx(struct vif *v, uint64_t now)
{
	struct gnttab_copy ops[TX_BATCH];
	struct sw_frame *frames[TX_BATCH];
	uint16_t ids[TX_BATCH];
	unsigned int n = 0;
	bool consumed = false;
	RING_IDX prod;
	int notify_guest, rc;

	v->tx_resume_ns = 0; /* the buckets decide again (a timer may fire a little early) */
	prod = READ_ONCE(v->tx.sring->req_prod);
	hv_ring_rmb();
	if (prod - v->tx.req_cons > NET_TX_RING_SIZE) {
		vif_fail(v, "impossible transmit ring index");
		return true;
	}
	while (v->tx.req_cons != prod && n < TX_BATCH) {
		struct netif_tx_request req;
		struct sw_frame *f;
		uint64_t mfn, off;

		memcpy(&req, (const void *)HV_RING_GET_REQUEST(&v->tx, v->tx.req_cons),
		       sizeof(req));
		barrier(); /* req is ours now: the guest may scribble on the slot */
		if ((req.flags & (NETTXF_more_data | NETTXF_extra_info)) ||
		    req.size < SW_FRAME_MIN || req.size > SW_FRAME_MAX ||
		    (uint32_t)req.offset + req.size > PAGE_SIZE) {
			v->tx_errors++;
			tx_respond(v, req.id, NETIF_RSP_ERROR);
			v->tx.req_cons++;
			consumed = true;
			continue;
		}
		if (!sw_out_admit(&sw, v->sw_port, req.size, now)) {
			v->tx_resume_ns = now + MAX(sw_out_wait(&sw, v->sw_port, req.size, now), 1);
			break; /* over budget: the request stays in the guest's ring */
		}
		f = frame_alloc(NULL);
		if (!f) {
			v->tx_resume_ns = now + TAP_RETRY_NS; /* frames are all queued: later */
			break;
		}
		f->len = req.size;
		off = frame_maddr_offset(f, &mfn);
		memset(&ops[n], 0, sizeof(ops[n]));
		ops[n].source.u.ref = req.gref;
		ops[n].source.domid = v->domid;
		ops[n].source.offset = req.offset;
		ops[n].dest.u.gmfn = mfn;
		ops[n].dest.domid = DOMID_SELF;
		ops[n].dest.offset = (uint16_t)off;
		ops[n].len = req.size;
		ops[n].flags = GNTCOPY_source_gref;
		frames[n] = f;
		ids[n] = req.id;
		n++;
		v->tx.req_cons++;
		consumed = true;
	}
	rc = n ? gnttab_copy(ops, n) : 0;
	for (unsigned int i = 0; i < n; i++) {
		if (rc || ops[i].status != GNTST_okay) {
			v->tx_errors++;
			tx_respond(v, ids[i], NETIF_RSP_ERROR);
			frame_free(NULL, frames[i]);
			continue;
		}
		tx_respond(v, ids[i], NETIF_RSP_OKAY);
		sw_input(&sw, v->sw_port, frames[i], now);
	}
	if (consumed) {
		HV_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&v->tx, notify_guest);
		if (notify_guest)
			notify(v);
	}
	return consumed;
}

/* ---- receive: switch -> guest ---- */

static void rx_flush(struct vif *v)
{
	int rc, notify_guest;

	if (!v->rx_n)
		return;
	rc = gnttab_copy(v->rx_ops, v->rx_n);
	for (unsigned int i = 0; i < v->rx_n; i++) {
		struct netif_rx_response *rsp = HV_RING_GET_RESPONSE(&v->rx, v->rx.rsp_prod_pvt);
		bool ok = !rc && v->rx_ops[i].status == GNTST_okay;

		rsp->id = v->rx_ids[i];
		rsp->offset = 0;
		rsp->flags = 0;
		rsp->status = ok ? (int16_t)v->rx_ops[i].len : NETIF_RSP_ERROR;
		if (!ok)
			v->rx_errors++;
		v->rx.rsp_prod_pvt++;
		frame_free(NULL, v->rx_frames[i]);
	}
	v->rx_n = 0;
	HV_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&v->rx, notify_guest);
	if (notify_guest)
		notify(v);
}

static int output_vif(struct vif *v, struct sw_frame *f)
{
	struct netif_rx_request req;
	RING_IDX prod;
	uint64_t mfn, off;
	struct gnttab_copy *op;

	if (v->state != VIF_CONNECTED)
		return SW_OUT_DROP;
	if (v->rx_n == RX_BATCH)
		rx_flush(v);
	prod = READ_ONCE(v->rx.sring->req_prod);
	hv_ring_rmb();
	if (prod - v->rx.req_cons > NET_RX_RING_SIZE) {
		vif_fail(v, "impossible receive ring index");
		return SW_OUT_DROP;
	}
	if (prod == v->rx.req_cons)
		return SW_OUT_BUSY; /* no buffer posted */
	memcpy(&req, (const void *)HV_RING_GET_REQUEST(&v->rx, v->rx.req_cons), sizeof(req));
	barrier();
	v->rx.req_cons++;
	off = frame_maddr_offset(f, &mfn);
	op = &v->rx_ops[v->rx_n];
	memset(op, 0, sizeof(*op));
	op->source.u.gmfn = mfn;
	op->source.domid = DOMID_SELF;
	op->source.offset = (uint16_t)off;
	op->dest.u.ref = req.gref;
	op->dest.domid = v->domid;
	op->dest.offset = 0;
	op->len = (uint16_t)f->len;
	op->flags = GNTCOPY_dest_gref;
	v->rx_frames[v->rx_n] = f;
	v->rx_ids[v->rx_n] = req.id;
	v->rx_n++;
	return SW_OUT_TAKEN;
}

static int output_tap(struct vif *v, struct sw_frame *f)
{
	struct hvlink_guest_chan *ch = agent_link_channel(HVLINK_CHAN_NET);
	struct hvlink_net_frame h = {.domid = v->domid, .devid = v->devid};
	int rc;

	if (!ch)
		return SW_OUT_DROP; /* no host, or a host layout without a NET channel */
	rc = agent_link_send(ch, HVLINK_NET_FRAME, HVLINK_MSG_NOREPLY, 0, &h, sizeof(h), f->data,
	                     f->len);
	if (rc == -HVLINK_EAGAIN) {
		tap_retry_at = platform->time_ns() + TAP_RETRY_NS;
		return SW_OUT_BUSY;
	}
	if (rc < 0)
		return SW_OUT_DROP;
	frame_free(NULL, f);
	return SW_OUT_TAKEN;
}

static int sw_output(void *arg, int port, struct sw_frame *f)
{
	struct vif *v = port >= 0 && port < SW_MAX_PORTS ? port_vif[port] : NULL;

	(void)arg;
	if (!v)
		return SW_OUT_DROP;
	return port == v->sw_port ? output_vif(v, f) : output_tap(v, f);
}

static const struct sw_ops ops = {.alloc = frame_alloc, .free = frame_free, .output = sw_output};

/* ---- the agent's entry points ---- */

void netback_init(void)
{
	char arg[24];
	uint64_t kbps = SW_DEFAULT_LINK_KBPS;

	if (cmdline_get(platform->cmdline, "net_link_kbps", arg, sizeof(arg)) == 0) {
		char *end;
		unsigned long long v = strtoull(arg, &end, 10);

		if (*end || !isdigit((unsigned char)arg[0]))
			printk("netback: net_link_kbps=%s is not a number; using %llu\n", arg,
			       (unsigned long long)kbps);
		else
			kbps = v;
	}
	sw_init(&sw, &ops, NULL, kbps, platform->time_ns());
	printk("netback: switch link %llu KiB/s%s\n", (unsigned long long)kbps,
	       kbps ? "" : " (no limit)");
}

int netback_add(uint16_t domid, uint16_t devid, const uint8_t mac[6])
{
	struct vif *v = NULL;
	uint64_t now = platform->time_ns();
	int vp, tp;

	if (find_vif(domid, devid))
		return -XEN_EEXIST;
	for (int i = 0; i < MAX_VIFS && !v; i++)
		if (!vifs[i].used)
			v = &vifs[i];
	if (!v)
		return -XEN_ENOSPC;
	vp = sw_port_add(&sw, SW_PORT_VIF, domid, devid, now);
	if (vp < 0)
		return vp;
	tp = sw_port_add(&sw, SW_PORT_TAP, domid, devid, now);
	if (tp < 0) {
		sw_port_remove(&sw, vp);
		return tp;
	}
	memset(v, 0, sizeof(*v));
	v->used = true;
	v->domid = domid;
	v->devid = devid;
	memcpy(v->mac, mac, 6);
	v->sw_port = vp;
	v->tap_port = tp;
	v->state = VIF_WAITING;
	port_vif[vp] = port_vif[tp] = v;
	snprintf(v->be_path, sizeof(v->be_path), "/local/domain/0/backend/vif/%u/%u", domid, devid);
	snprintf(v->fe_state_path, sizeof(v->fe_state_path), "/local/domain/%u/device/vif/%u/state",
	         domid, devid);
	v->watching = xs_watch(v->fe_state_path, fe_state_changed, v) == 0;
	v->check_state = true;
	return 0;
}

void netback_remove(uint16_t domid, uint16_t devid)
{
	struct vif *v = find_vif(domid, devid);

	if (!v)
		return;
	if (v->watching)
		xs_unwatch(v->fe_state_path, fe_state_changed, v);
	disconnect(v);
	printk("netback: vif %u.%u removed: from guest %llu frames %llu bytes, to guest %llu "
	       "frames %llu bytes, dropped %llu, errors tx %llu rx %llu\n",
	       domid, devid, (unsigned long long)sw.ports[v->sw_port].rx_frames,
	       (unsigned long long)sw.ports[v->sw_port].rx_bytes,
	       (unsigned long long)sw.ports[v->sw_port].tx_frames,
	       (unsigned long long)sw.ports[v->sw_port].tx_bytes,
	       (unsigned long long)(sw.ports[v->sw_port].dropped_queue +
	                            sw.ports[v->sw_port].dropped_output),
	       (unsigned long long)v->tx_errors, (unsigned long long)v->rx_errors);
	port_vif[v->sw_port] = port_vif[v->tap_port] = NULL;
	sw_port_remove(&sw, v->sw_port);
	sw_port_remove(&sw, v->tap_port);
	v->used = false;
}

/* Switch service, receive copies made, and the timer armed for frames that wait on tokens. */
static bool kick(uint64_t now)
{
	bool moved = sw_service(&sw, now);
	uint64_t deadline = sw_next_deadline(&sw, now);

	for (int i = 0; i < MAX_VIFS; i++) {
		struct vif *v = &vifs[i];

		if (!v->used || v->state != VIF_CONNECTED)
			continue;
		rx_flush(v);
		if (v->tx_resume_ns && (!deadline || v->tx_resume_ns < deadline))
			deadline = v->tx_resume_ns;
	}
	if (tap_retry_at && tap_retry_at > now && (!deadline || tap_retry_at < deadline))
		deadline = tap_retry_at;
	else if (tap_retry_at <= now)
		tap_retry_at = 0;
	if (deadline && deadline <= now + SPIN_NS) {
		moved = true; /* due now or very soon: look again rather than sleep */
	} else if (deadline && deadline != wake_asked) {
		wake_asked = deadline; /* one timer hypercall per new deadline, not per frame */
		backends_wake_at(deadline);
	}
	return moved;
}

bool netback_poll(void)
{
	uint64_t now = platform->time_ns();
	bool busy = false;

	for (int i = 0; i < MAX_VIFS; i++) {
		struct vif *v = &vifs[i];

		if (v->used && (v->check_state || !v->watching))
			check_state(v);
		if (v->used && v->state == VIF_CONNECTED)
			busy |= vif_tx(v, now);
	}
	busy |= kick(now);
	/* Before the agent sleeps: ask each guest to notify us of new requests. */
	for (int i = 0; i < MAX_VIFS; i++) {
		struct vif *v = &vifs[i];
		int more;

		if (!v->used || v->state != VIF_CONNECTED)
			continue;
		HV_RING_FINAL_CHECK_FOR_REQUESTS(&v->tx, more);
		if (more && !v->tx_resume_ns)
			busy = true;
		if (sw.ports[v->sw_port].queued) {
			HV_RING_FINAL_CHECK_FOR_REQUESTS(&v->rx, more);
			if (more)
				busy = true; /* buffers arrived meanwhile */
		}
	}
	return busy;
}

void netback_link_message(struct hvlink_guest_chan *ch, const struct hvlink_msg *m)
{
	struct hvlink_net_frame h;
	struct sw_frame *f;
	uint32_t len = m->len;
	int port;
	uint64_t now;

	if (m->type != HVLINK_NET_FRAME || len < sizeof(h) + SW_FRAME_MIN ||
	    len > sizeof(h) + SW_FRAME_MAX)
		return; /* NOREPLY records: a bad one is dropped */
	if (hvlink_ring_copy_payload(&ch->rx, 0, &h, sizeof(h)))
		return;
	port = h.domid <= 0xffff ? sw_port_find(&sw, SW_PORT_TAP, (uint16_t)h.domid, h.devid) : -1;
	if (port < 0)
		return;
	f = frame_alloc(NULL);
	if (!f) {
		sw.ports[port].dropped_queue++;
		return;
	}
	f->len = len - (uint32_t)sizeof(h);
	if (hvlink_ring_copy_payload(&ch->rx, sizeof(h), f->data, f->len)) {
		frame_free(NULL, f);
		return;
	}
	now = platform->time_ns();
	sw_input(&sw, port, f, now);
	kick(now); /* the agent may sleep right after this record */
}

static struct vif *bw_vif(const struct hvlink_ctl_bandwidth *bw)
{
	if (bw->head.domid > 0xffff || bw->index > 0xffff)
		return NULL;
	return find_vif((uint16_t)bw->head.domid, (uint16_t)bw->index);
}

int netback_bandwidth_set(const struct hvlink_ctl_bandwidth *bw)
{
	struct vif *v = bw_vif(bw);
	struct sw_limits l = {
	    .average = bw->average, .peak = bw->peak, .burst = bw->burst, .floor = bw->floor};

	if (!v)
		return -XEN_ENOENT;
	return sw_limits_set(&sw, v->sw_port, bw->kind == HVLINK_BW_NET_IN, &l,
	                     platform->time_ns());
}

int netback_bandwidth_get(struct hvlink_ctl_bandwidth *bw)
{
	struct vif *v = bw_vif(bw);
	struct sw_limits l;
	int rc;

	if (!v)
		return -XEN_ENOENT;
	rc = sw_limits_get(&sw, v->sw_port, bw->kind == HVLINK_BW_NET_IN, &l);
	if (rc)
		return rc;
	bw->average = l.average;
	bw->peak = l.peak;
	bw->burst = l.burst;
	bw->floor = l.floor;
	bw->iops = 0;
	return 0;
}
