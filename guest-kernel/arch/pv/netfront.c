/*
 * The network front end of a domU (Xen's netfront protocol, public/io/netif.h, rx-copy): the
 * driver side of netdev.h for each device/vif/<devid> that xenbus.c finds at boot.
 *
 * Handshake (io-design.md): once the back end is in InitWait we write tx-ring-ref,
 * rx-ring-ref, event-channel and request-rx-copy = 1, switch to Connected (as Linux's netfront
 * does for a vif) and wait for the back end's Connected; then the stack is told (net_dev_up).
 *
 * Buffers are pages of ours granted to the back end once, at probe time, and reused:
 * NF_TX_BUFS transmit pages (read-only to the back end; a request's id is its page's index)
 * and NF_RX_BUFS receive pages (writable; always posted, each reposted as soon as its frame
 * went to the stack). The back end copies (grant copy) in both directions.
 *
 * Invariants: ring state changes only with events masked (the event handler and callers of
 * netdev_send/netdev_poll share it); a transmit id is either on the free stack or in flight,
 * never both; every receive id is posted exactly once at a time. Responses are read once into
 * a local copy and checked (id, offset, length) before use.
 */
#include <kernel.h>
#include <mm.h>
#include <netdev.h>
#include <xenbus.h>
#include <gnttab.h>
#include <klib/printf.h>
#include <klib/string.h>
#include <public/io/netif.h>

#include "pv.h"

#define NF_MAX_DEVS      4
#define NF_TX_BUFS       128
#define NF_RX_BUFS       128
#define NF_WAIT_NS       (30ULL * 1000000000ULL)
#define HOSTILE_ID       0xffff
#define HOSTILE_BAD_GREF 0x7fffffu

_Static_assert(NF_TX_BUFS <= NET_TX_RING_SIZE && NF_RX_BUFS <= NET_RX_RING_SIZE, "ring room");

struct netfront {
	struct netdev dev;
	unsigned int devid;
	uint16_t backend_id;
	char path[32];    /* device/vif/<devid> */
	char be_path[80]; /* the back end's directory */
	struct netif_tx_front_ring tx;
	struct netif_rx_front_ring rx;
	grant_ref_t tx_ring_ref, rx_ring_ref;
	evtchn_port_t port;
	uint8_t *tx_buf[NF_TX_BUFS];
	grant_ref_t tx_gref[NF_TX_BUFS];
	uint16_t tx_free[NF_TX_BUFS];
	unsigned int tx_nfree;
	uint8_t *rx_buf[NF_RX_BUFS];
	grant_ref_t rx_gref[NF_RX_BUFS];
	bool connected, polling;
	bool hostile; /* `nethostile` on the command line: the back end's robustness test */
	uint64_t tx_errors, rx_errors;
};

static struct netfront nfs[NF_MAX_DEVS];
static int nr_nfs;

int netdev_count(void)
{
	return nr_nfs;
}

struct netdev *netdev_get(int index)
{
	return index >= 0 && index < nr_nfs ? &nfs[index].dev : NULL;
}

static void kick_backend(struct netfront *nf)
{
	struct evtchn_send send = {.port = nf->port};

	HYPERVISOR_event_channel_op(EVTCHNOP_send, &send);
}

/* Transmit responses: their pages are free again. */
static void tx_complete(struct netfront *nf)
{
	int more;

	do {
		RING_IDX prod = READ_ONCE(nf->tx.sring->rsp_prod);

		hv_ring_rmb();
		if (prod - nf->tx.rsp_cons > NET_TX_RING_SIZE) {
			nf->tx_errors++; /* impossible: ignore this look at the ring */
			break;
		}
		while (nf->tx.rsp_cons != prod) {
			struct netif_tx_response rsp;

			memcpy(&rsp, HV_RING_GET_RESPONSE(&nf->tx, nf->tx.rsp_cons), sizeof(rsp));
			nf->tx.rsp_cons++;
			if (rsp.id >= NF_TX_BUFS || nf->tx_nfree >= NF_TX_BUFS) {
				nf->tx_errors++; /* a back end that answers twice or invents ids */
				continue;
			}
			if (rsp.status != NETIF_RSP_OKAY) {
				nf->tx_errors++;
				nf->dev.tx_dropped++;
			}
			nf->tx_free[nf->tx_nfree++] = rsp.id;
		}
		HV_RING_FINAL_CHECK_FOR_RESPONSES(&nf->tx, more);
	} while (more);
}

static void rx_post(struct netfront *nf, uint16_t id)
{
	struct netif_rx_request *req = HV_RING_GET_REQUEST(&nf->rx, nf->rx.req_prod_pvt);

	req->id = id;
	req->pad = 0;
	req->gref = nf->rx_gref[id];
	nf->rx.req_prod_pvt++;
}

/* Received frames to the stack, their buffers posted again. */
static void rx_receive(struct netfront *nf)
{
	int more, notify_back;
	bool posted = false;

	do {
		RING_IDX prod = READ_ONCE(nf->rx.sring->rsp_prod);

		hv_ring_rmb();
		if (prod - nf->rx.rsp_cons > NET_RX_RING_SIZE) {
			nf->rx_errors++; /* impossible: ignore this look at the ring */
			break;
		}
		while (nf->rx.rsp_cons != prod) {
			struct netif_rx_response rsp;

			memcpy(&rsp, HV_RING_GET_RESPONSE(&nf->rx, nf->rx.rsp_cons), sizeof(rsp));
			nf->rx.rsp_cons++;
			if (rsp.id >= NF_RX_BUFS) {
				nf->rx_errors++;
				continue;
			}
			if (rsp.status >= ETH_HLEN && rsp.status <= ETH_FRAME_MAX &&
			    (uint32_t)rsp.offset + (uint32_t)rsp.status <= PAGE_SIZE &&
			    !(rsp.flags & (NETRXF_more_data | NETRXF_extra_info))) {
				nf->dev.rx_frames++;
				nf->dev.rx_bytes += (uint64_t)rsp.status;
				net_rx(&nf->dev, nf->rx_buf[rsp.id] + rsp.offset,
				       (unsigned int)rsp.status);
			} else {
				nf->rx_errors++;
				nf->dev.rx_dropped++;
			}
			rx_post(nf, rsp.id);
			posted = true;
		}
		HV_RING_FINAL_CHECK_FOR_RESPONSES(&nf->rx, more);
	} while (more);
	if (posted) {
		HV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->rx, notify_back);
		if (notify_back)
			kick_backend(nf);
	}
}

/* Called with events masked. */
static void poll_dev(struct netfront *nf)
{
	if (!nf->connected || nf->polling)
		return; /* the stack answered a frame from inside net_rx: the outer loop goes on */
	nf->polling = true;
	tx_complete(nf);
	rx_receive(nf);
	nf->polling = false;
}

static void nf_event(evtchn_port_t port)
{
	for (int i = 0; i < nr_nfs; i++)
		if (nfs[i].port == port)
			poll_dev(&nfs[i]);
}

void netdev_poll(void)
{
	unsigned long flags = pv_irq_save();

	for (int i = 0; i < nr_nfs; i++)
		poll_dev(&nfs[i]);
	pv_irq_restore(flags);
}

int netdev_send(struct netdev *dev, const void *frame, unsigned int len)
{
	struct netfront *nf = dev ? dev->priv : NULL;
	struct netif_tx_request *req;
	unsigned long flags;
	int notify_back;
	uint16_t id;

	if (!nf || !nf->connected)
		return -XEN_ENODEV;
	if (len < ETH_HLEN || len > ETH_FRAME_MAX)
		return -XEN_EINVAL;
	flags = pv_irq_save();
	if (!nf->polling)
		tx_complete(nf);
	if (!nf->tx_nfree || HV_RING_FULL(&nf->tx)) {
		pv_irq_restore(flags);
		return -XEN_EAGAIN;
	}
	id = nf->tx_free[--nf->tx_nfree];
	memcpy(nf->tx_buf[id], frame, len);
	req = HV_RING_GET_REQUEST(&nf->tx, nf->tx.req_prod_pvt);
	req->gref = nf->tx_gref[id];
	req->offset = 0;
	req->flags = 0;
	req->id = id;
	req->size = (uint16_t)len;
	nf->tx.req_prod_pvt++;
	HV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->tx, notify_back);
	if (notify_back)
		kick_backend(nf);
	dev->tx_frames++;
	dev->tx_bytes += len;
	pv_irq_restore(flags);
	return 0;
}

/* "aa:bb:cc:dd:ee:ff" -> mac; 0 or -1. */
static int parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		unsigned int v = 0;

		for (int k = 0; k < 2; k++, s++) {
			int c = *s;

			if (c >= '0' && c <= '9')
				v = v * 16 + (unsigned int)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v = v * 16 + (unsigned int)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				v = v * 16 + (unsigned int)(c - 'A' + 10);
			else
				return -1;
		}
		if (*s != (i == 5 ? '\0' : ':'))
			return -1;
		if (i < 5)
			s++;
		mac[i] = (uint8_t)v;
	}
	return 0;
}

static int node_printf(struct netfront *nf, const char *node, const char *fmt, unsigned int v)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/%s", nf->path, node);
	return xenbus_printf(path, fmt, v);
}

/* Pages and grants of the rings and buffers; the channel to the back end. */
static int setup_rings(struct netfront *nf)
{
	struct netif_tx_sring *txs = alloc_page();
	struct netif_rx_sring *rxs = alloc_page();
	struct evtchn_alloc_unbound op = {.dom = DOMID_SELF, .remote_dom = nf->backend_id};
	int ref;
	long rc;

	if (!txs || !rxs)
		return -XEN_ENOMEM;
	HV_RING_SHARED_INIT(txs);
	HV_RING_SHARED_INIT(rxs);
	HV_RING_FRONT_INIT(&nf->tx, txs, PAGE_SIZE);
	HV_RING_FRONT_INIT(&nf->rx, rxs, PAGE_SIZE);
	if ((ref = gnttab_grant_access(nf->backend_id, txs, false)) < 0)
		return ref;
	nf->tx_ring_ref = (grant_ref_t)ref;
	if ((ref = gnttab_grant_access(nf->backend_id, rxs, false)) < 0)
		return ref;
	nf->rx_ring_ref = (grant_ref_t)ref;
	for (unsigned int i = 0; i < NF_TX_BUFS; i++) {
		if (!(nf->tx_buf[i] = alloc_page()))
			return -XEN_ENOMEM;
		if ((ref = gnttab_grant_access(nf->backend_id, nf->tx_buf[i], true)) < 0)
			return ref;
		nf->tx_gref[i] = (grant_ref_t)ref;
		nf->tx_free[nf->tx_nfree++] = (uint16_t)(NF_TX_BUFS - 1 - i);
	}
	if (nf->hostile) { /* the first frame for us goes to a grant that does not exist */
		struct netif_rx_request *req = HV_RING_GET_REQUEST(&nf->rx, nf->rx.req_prod_pvt);

		req->id = HOSTILE_ID;
		req->gref = HOSTILE_BAD_GREF;
		nf->rx.req_prod_pvt++;
	}
	for (unsigned int i = 0; i < NF_RX_BUFS; i++) {
		if (!(nf->rx_buf[i] = alloc_page()))
			return -XEN_ENOMEM;
		if ((ref = gnttab_grant_access(nf->backend_id, nf->rx_buf[i], false)) < 0)
			return ref;
		nf->rx_gref[i] = (grant_ref_t)ref;
		rx_post(nf, (uint16_t)i);
	}
	hv_ring_wmb();
	nf->rx.sring->req_prod = nf->rx.req_prod_pvt; /* the back end is not connected yet */
	if ((rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &op)))
		return (int)rc;
	nf->port = op.port;
	pv_evtchn_bind(nf->port, nf_event);
	pv_evtchn_unmask(nf->port);
	return 0;
}

/* ---- `nethostile`: what a hostile front end does, and what the back end must answer ---- */

/* Waits (yielding) up to 5 s for a transmit response; NETIF_RSP_NULL if none came. */
static int16_t hostile_tx(struct netfront *nf, const char *name, grant_ref_t gref, uint16_t offset,
                          uint16_t flags, uint16_t size, int16_t want)
{
	struct netif_tx_request *req = HV_RING_GET_REQUEST(&nf->tx, nf->tx.req_prod_pvt);
	struct netif_tx_response rsp = {.status = NETIF_RSP_NULL};
	uint64_t end = platform->time_ns() + 5000000000ULL;
	int notify_back;

	req->gref = gref;
	req->offset = offset;
	req->flags = flags;
	req->id = HOSTILE_ID;
	req->size = size;
	nf->tx.req_prod_pvt++;
	HV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->tx, notify_back);
	kick_backend(nf);
	(void)notify_back;
	while (READ_ONCE(nf->tx.sring->rsp_prod) == nf->tx.rsp_cons && platform->time_ns() < end)
		HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
	if (READ_ONCE(nf->tx.sring->rsp_prod) != nf->tx.rsp_cons) {
		hv_ring_rmb();
		memcpy(&rsp, HV_RING_GET_RESPONSE(&nf->tx, nf->tx.rsp_cons), sizeof(rsp));
		nf->tx.rsp_cons++;
	}
	printk("nethostile: tx %s: status %d (%s)\n", name, rsp.status,
	       rsp.status == want && rsp.id == HOSTILE_ID ? "as expected" : "WRONG");
	return rsp.status;
}

/*
 * Before the device is handed to the stack: transmit requests a guest must not make, each
 * answered with an error, and a good one between them. After it (the stack running): the first
 * received frame went to a bad grant (an error response), then the transmit ring's producer is
 * pushed past anything possible, and the back end must close the device. dom0 survives all of
 * it; the system test checks that the other domUs still talk.
 */
static void hostile_before(struct netfront *nf)
{
	uint8_t *page = nf->tx_buf[0];
	grant_ref_t good = nf->tx_gref[0];

	memset(page, 0xff, 6); /* broadcast, from us, a local experimental EtherType */
	memcpy(page + 6, nf->dev.mac, 6);
	page[12] = 0x88, page[13] = 0xb5;
	hostile_tx(nf, "bad-gref", HOSTILE_BAD_GREF, 0, 0, 60, NETIF_RSP_ERROR);
	hostile_tx(nf, "unused-gref", GNTTAB_NR_RESERVED_ENTRIES - 1, 0, 0, 60, NETIF_RSP_ERROR);
	hostile_tx(nf, "runt", good, 0, 0, ETH_HLEN - 1, NETIF_RSP_ERROR);
	hostile_tx(nf, "giant", good, 0, 0, ETH_FRAME_MAX + 1, NETIF_RSP_ERROR);
	hostile_tx(nf, "past-the-page", good, PAGE_SIZE - 100, 0, 200, NETIF_RSP_ERROR);
	hostile_tx(nf, "more-data", good, 0, NETTXF_more_data, 60, NETIF_RSP_ERROR);
	hostile_tx(nf, "extra-info", good, 0, NETTXF_extra_info, 60, NETIF_RSP_ERROR);
	hostile_tx(nf, "good", good, 0, 0, 60, NETIF_RSP_OKAY);
}

static void hostile_after(struct netfront *nf)
{
	bool rx = nf->devid != 0; /* a second interface breaks its receive ring instead */
	uint64_t end = platform->time_ns() + 60000000000ULL;
	char path[96], state[8] = "";
	unsigned long flags;

	printk("nethostile: waiting for a frame on vif %u (it goes to a bad grant)\n", nf->devid);
	while (!nf->rx_errors && platform->time_ns() < end) {
		netdev_poll();
		HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
	}
	printk("nethostile: rx bad-gref: %s\n",
	       nf->rx_errors ? "answered with an error (as expected)" : "no answer (WRONG)");
	flags = pv_irq_save();
	nf->connected = false;
	if (rx) /* seen when the next frame for us comes */
		nf->rx.sring->req_prod = nf->rx.req_prod_pvt + 5 * NET_RX_RING_SIZE;
	else
		nf->tx.sring->req_prod = nf->tx.req_prod_pvt + 5 * NET_TX_RING_SIZE;
	pv_irq_restore(flags);
	kick_backend(nf);
	printk("nethostile: waiting for the back end to close vif %u\n", nf->devid);
	snprintf(path, sizeof(path), "%s/state", nf->be_path);
	end = platform->time_ns() + 60000000000ULL;
	while (platform->time_ns() < end) {
		if (xenbus_read(path, state, sizeof(state)) > 0 && state[0] == '6')
			break;
		HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
	}
	printk("nethostile: impossible %s index: back end state %s (%s)\n", rx ? "rx" : "tx", state,
	       state[0] == '6' ? "closed, as expected" : "WRONG");
}

int netfront_probe(unsigned int devid)
{
	struct netfront *nf;
	char buf[80], path[64];
	uint64_t be_id = 0;
	enum xenbus_state st;
	int rc;

	if (nr_nfs == NF_MAX_DEVS)
		return -XEN_ENOSPC;
	nf = &nfs[nr_nfs];
	memset(nf, 0, sizeof(*nf));
	nf->devid = devid;
	nf->hostile = cmdline_get(platform->cmdline, "nethostile", NULL, 0) == 0;
	snprintf(nf->path, sizeof(nf->path), "device/vif/%u", devid);
	snprintf(path, sizeof(path), "%s/backend-id", nf->path);
	if (xenbus_read_u64(path, &be_id) == 0 && be_id < 0x7ff0)
		nf->backend_id = (uint16_t)be_id;
	snprintf(path, sizeof(path), "%s/backend", nf->path);
	if (xenbus_read(path, nf->be_path, sizeof(nf->be_path)) <= 0) {
		printk("netfront: vif %u has no back end\n", devid);
		return -XEN_ENODEV;
	}
	snprintf(path, sizeof(path), "%s/mac", nf->path);
	if (xenbus_read(path, buf, sizeof(buf)) <= 0 || parse_mac(buf, nf->dev.mac)) {
		snprintf(path, sizeof(path), "%s/mac", nf->be_path);
		if (xenbus_read(path, buf, sizeof(buf)) <= 0 || parse_mac(buf, nf->dev.mac)) {
			printk("netfront: vif %u has no valid MAC address\n", devid);
			return -XEN_EINVAL;
		}
	}
	if ((rc = gnttab_init()) || (rc = setup_rings(nf))) {
		printk("netfront: vif %u: cannot set up its rings (%d)\n", devid, rc);
		return rc;
	}
	snprintf(path, sizeof(path), "%s/state", nf->be_path);
	rc = xenbus_wait_state(path, 1u << XenbusStateInitWait | 1u << XenbusStateConnected,
	                       NF_WAIT_NS, &st);
	if (rc) {
		printk("netfront: vif %u: the back end never waited for us (%d)\n", devid, rc);
		return rc;
	}
	rc = node_printf(nf, "tx-ring-ref", "%u", nf->tx_ring_ref);
	rc |= node_printf(nf, "rx-ring-ref", "%u", nf->rx_ring_ref);
	rc |= node_printf(nf, "event-channel", "%u", nf->port);
	rc |= node_printf(nf, "request-rx-copy", "%u", 1);
	rc |= node_printf(nf, "feature-rx-notify", "%u", 1);
	if (rc || (rc = xenbus_switch_state(nf->path, XenbusStateConnected))) {
		printk("netfront: vif %u: cannot write its nodes (%d)\n", devid, rc);
		return rc ? rc : -XEN_EIO;
	}
	rc = xenbus_wait_state(
	    path, 1u << XenbusStateConnected | 1u << XenbusStateClosed | 1u << XenbusStateClosing,
	    NF_WAIT_NS, &st);
	if (rc || st != XenbusStateConnected) {
		printk("netfront: vif %u: the back end did not connect (%d, state %d)\n", devid, rc,
		       (int)st);
		return rc ? rc : -XEN_EIO;
	}
	nf->dev.index = nr_nfs;
	nf->dev.mtu = 1500;
	nf->dev.priv = nf;
	if (nf->hostile && devid == 0)
		hostile_before(nf);
	nf->connected = true;
	nr_nfs++;
	printk("netfront: eth%d (vif %u) connected, mac %02x:%02x:%02x:%02x:%02x:%02x\n",
	       nf->dev.index, devid, nf->dev.mac[0], nf->dev.mac[1], nf->dev.mac[2], nf->dev.mac[3],
	       nf->dev.mac[4], nf->dev.mac[5]);
	net_dev_up(&nf->dev);
	netdev_poll(); /* frames that came while we were connecting */
	if (nf->hostile)
		hostile_after(nf);
	return 0;
}

/* Without the network stack (guest-kernel/net/) frames are dropped and nothing is set up. */
__attribute__((weak)) void net_rx(struct netdev *dev, const void *frame, unsigned int len)
{
	(void)frame, (void)len;
	dev->rx_dropped++;
}

__attribute__((weak)) void net_dev_up(struct netdev *dev)
{
	(void)dev;
}
