/*
 * dom0's learning Ethernet switch with per-VIF token buckets and link floors (see switch.h for
 * the model). No hypercalls and no kernel services here: the clock is an argument, frame memory
 * and output are callbacks, so the host unit tests (tests/unit/netswitch) run this file as is.
 *
 * The inbound scheduler (sw_service) runs in rounds over the VIFs with frames waiting. A VIF is
 * eligible when its head frame fits its own inbound buckets and the link bucket. Among eligible
 * VIFs (the link bucket is looked at only for the chosen one, so that small frames do not
 * overtake big ones forever), one that also has floor tokens for the frame goes first (the one
 * furthest behind in bytes / floor, floor_vt, when several have: if dom0 cannot move the
 * link's rate, what it moves is shared in proportion to the floors) (the floors
 * are guaranteed shares: their sum never exceeds the link); otherwise the rest of the link is
 * shared fairly in bytes: each VIF counts what the shared round gave it (share_vt, a virtual time
 * that starts at the round's current one when a VIF gets frames after having none), and the least
 * served eligible VIF goes. A VIF whose output is busy (the guest posted no receive buffer) is
 * skipped until the next call.
 */
#include <klib/string.h>
#include <public/errno.h>

#include "switch.h"

#define NS_PER_S        1000000000ULL
#define MAX_KBPS        (1ULL << 30) /* 1 TiB/s: far beyond any link, keeps products small */
#define MAX_BURST_KIB   (4ULL << 20) /* 4 GiB */
#define MIN_DEPTH_BYTES (2ULL * SW_FRAME_MAX)
#define FLOOR_VT_SCALE  (1ULL << 20) /* floor virtual time: bytes * 2^20 / floor KiB/s */

/* ---- token buckets ---- */

static void bucket_set(struct sw_bucket *b, uint64_t rate_bytes, uint64_t depth_bytes, uint64_t now)
{
	b->rate = rate_bytes;
	b->depth = depth_bytes * NS_PER_S;
	b->tokens = b->depth;
	b->last_ns = now;
}

static void bucket_refill(struct sw_bucket *b, uint64_t now)
{
	uint64_t dt, room;

	if (!b->rate || now <= b->last_ns)
		return;
	dt = now - b->last_ns;
	b->last_ns = now;
	room = b->depth - b->tokens;
	if (dt >= room / b->rate + 1) {
		b->tokens = b->depth;
		return;
	}
	b->tokens += dt * b->rate;
	if (b->tokens > b->depth)
		b->tokens = b->depth;
}

static bool bucket_has(const struct sw_bucket *b, unsigned int len)
{
	return !b->rate || b->tokens >= (uint64_t)len * NS_PER_S;
}

static void bucket_take(struct sw_bucket *b, unsigned int len)
{
	uint64_t need = (uint64_t)len * NS_PER_S;

	if (b->rate)
		b->tokens = b->tokens > need ? b->tokens - need : 0;
}

/* Nanoseconds until the bucket holds len bytes' worth (0: now). */
static uint64_t bucket_wait(const struct sw_bucket *b, unsigned int len)
{
	uint64_t need = (uint64_t)len * NS_PER_S;

	if (!b->rate || b->tokens >= need)
		return 0;
	return (need - b->tokens + b->rate - 1) / b->rate;
}

/* The buckets of one direction from libvirt's figures (KiB/s, KiB). */
static void limits_apply(const struct sw_limits *l, struct sw_bucket *avg, struct sw_bucket *peak,
                         uint64_t now)
{
	uint64_t rate = l->average * 1024, depth;

	/* default: 100 ms at the average rate, so that dom0 kept off its CPU (or woken late by
	 * its timer) that long loses nothing of the rate */
	depth = l->burst ? l->burst * 1024 : rate / 10;
	bucket_set(avg, rate, MAX(depth, MIN_DEPTH_BYTES), now);
	rate = l->peak * 1024;
	bucket_set(peak, rate, MAX(rate / 100, MIN_DEPTH_BYTES), now); /* 10 ms at peak */
}

/* ---- learning table ---- */

static unsigned int fdb_set(const uint8_t mac[6])
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (int i = 0; i < 6; i++)
		h = (h ^ mac[i]) * 16777619u;
	return h % SW_FDB_SETS;
}

static bool fdb_live(const struct netswitch *sw, const struct sw_fdb_entry *e, uint64_t now)
{
	return e->port >= 0 && now - e->seen_ns < sw->ageing_ns;
}

int sw_fdb_lookup(const struct netswitch *sw, const uint8_t mac[6], uint64_t now)
{
	const struct sw_fdb_entry *set = sw->fdb[fdb_set(mac)];

	for (int w = 0; w < SW_FDB_WAYS; w++)
		if (fdb_live(sw, &set[w], now) && memcmp(set[w].mac, mac, 6) == 0)
			return set[w].port;
	return -1;
}

static void fdb_learn(struct netswitch *sw, const uint8_t mac[6], int port, uint64_t now)
{
	struct sw_fdb_entry *set = sw->fdb[fdb_set(mac)], *victim = NULL;

	if (mac[0] & 1)
		return; /* a group address is never a source */
	/* The entry of this MAC (it may have moved port), else a free or aged one, else the
	 * least recently seen. */
	for (int w = 0; w < SW_FDB_WAYS && !victim; w++)
		if (set[w].port >= 0 && memcmp(set[w].mac, mac, 6) == 0)
			victim = &set[w];
	for (int w = 0; w < SW_FDB_WAYS && !victim; w++)
		if (!fdb_live(sw, &set[w], now))
			victim = &set[w];
	if (!victim) {
		victim = &set[0];
		for (int w = 1; w < SW_FDB_WAYS; w++)
			if (set[w].seen_ns < victim->seen_ns)
				victim = &set[w];
	}
	memcpy(victim->mac, mac, 6);
	victim->port = (int16_t)port;
	victim->seen_ns = now;
}

/* ---- ports ---- */

void sw_init(struct netswitch *sw, const struct sw_ops *ops, void *arg, uint64_t link_kbps,
             uint64_t now)
{
	memset(sw, 0, sizeof(*sw));
	sw->ops = ops;
	sw->arg = arg;
	sw->ageing_ns = SW_AGEING_NS;
	for (int s = 0; s < SW_FDB_SETS; s++)
		for (int w = 0; w < SW_FDB_WAYS; w++)
			sw->fdb[s][w].port = -1;
	if (link_kbps > MAX_KBPS)
		link_kbps = MAX_KBPS;
	sw->link_kbps = link_kbps;
	/* 50 ms of the link: dom0 may be kept off its CPU that long without the link losing
	 * what it could have sent meanwhile */
	bucket_set(&sw->link, link_kbps * 1024, MAX(link_kbps * 1024 / 20, 4 * SW_FRAME_MAX), now);
}

int sw_port_find(const struct netswitch *sw, enum sw_port_kind kind, uint16_t domid, uint16_t devid)
{
	for (int i = 0; i < SW_MAX_PORTS; i++) {
		const struct sw_port *p = &sw->ports[i];

		if (p->kind == kind && p->domid == domid && p->devid == devid)
			return i;
	}
	return -1;
}

int sw_port_add(struct netswitch *sw, enum sw_port_kind kind, uint16_t domid, uint16_t devid,
                uint64_t now)
{
	static const struct sw_limits none;

	if (kind != SW_PORT_VIF && kind != SW_PORT_TAP)
		return -XEN_EINVAL;
	if (sw_port_find(sw, kind, domid, devid) >= 0)
		return -XEN_EEXIST;
	for (int i = 0; i < SW_MAX_PORTS; i++) {
		struct sw_port *p = &sw->ports[i];

		if (p->kind != SW_PORT_NONE)
			continue;
		memset(p, 0, sizeof(*p));
		p->kind = kind;
		p->domid = domid;
		p->devid = devid;
		limits_apply(&none, &p->in_avg, &p->in_peak, now);
		limits_apply(&none, &p->out_avg, &p->out_peak, now);
		bucket_set(&p->floor, 0, 0, now);
		return i;
	}
	return -XEN_ENOSPC;
}

static bool valid_port(const struct netswitch *sw, int port)
{
	return port >= 0 && port < SW_MAX_PORTS && sw->ports[port].kind != SW_PORT_NONE;
}

void sw_port_remove(struct netswitch *sw, int port)
{
	struct sw_port *p;

	if (!valid_port(sw, port))
		return;
	p = &sw->ports[port];
	while (p->head) {
		struct sw_frame *f = p->head;

		p->head = f->next;
		sw->ops->free(sw->arg, f);
	}
	for (int s = 0; s < SW_FDB_SETS; s++)
		for (int w = 0; w < SW_FDB_WAYS; w++)
			if (sw->fdb[s][w].port == port)
				sw->fdb[s][w].port = -1;
	memset(p, 0, sizeof(*p));
}

/* ---- forwarding ---- */

static void enqueue(struct netswitch *sw, int port, struct sw_frame *f)
{
	struct sw_port *p = &sw->ports[port];

	if (p->queued >= SW_QUEUE_FRAMES) {
		p->dropped_queue++;
		sw->ops->free(sw->arg, f);
		return;
	}
	f->next = NULL;
	if (!p->head && p->share_vt < sw->share_vtime)
		p->share_vt = sw->share_vtime; /* no credit for the time it had nothing to send */
	if (!p->head && p->floor_vt < sw->floor_vtime)
		p->floor_vt = sw->floor_vtime;
	if (p->tail)
		p->tail->next = f;
	else
		p->head = f;
	p->tail = f;
	p->queued++;
}

static struct sw_frame *dequeue(struct sw_port *p)
{
	struct sw_frame *f = p->head;

	p->head = f->next;
	if (!p->head)
		p->tail = NULL;
	p->queued--;
	f->next = NULL;
	return f;
}

void sw_input(struct netswitch *sw, int in, struct sw_frame *f, uint64_t now)
{
	struct sw_port *p;
	int out, last = -1;

	if (!valid_port(sw, in)) {
		sw->ops->free(sw->arg, f);
		return;
	}
	p = &sw->ports[in];
	if (f->len < SW_FRAME_MIN || f->len > SW_FRAME_MAX) {
		p->dropped_bad++;
		sw->ops->free(sw->arg, f);
		return;
	}
	p->rx_frames++;
	p->rx_bytes += f->len;
	fdb_learn(sw, f->data + 6, in, now);
	if (!(f->data[0] & 1)) {
		out = sw_fdb_lookup(sw, f->data, now);
		if (out == in) {
			sw->filtered++; /* both ends on the port it came from */
			sw->ops->free(sw->arg, f);
			return;
		}
		if (out >= 0) {
			enqueue(sw, out, f);
			return;
		}
	}
	/* Unknown, broadcast or multicast: a copy to every other port, the original to the last. */
	sw->flooded++;
	for (int i = 0; i < SW_MAX_PORTS; i++) {
		struct sw_frame *copy;

		if (i == in || sw->ports[i].kind == SW_PORT_NONE)
			continue;
		if (last >= 0) {
			copy = sw->ops->alloc(sw->arg);
			if (!copy) {
				sw->alloc_failed++;
				sw->ports[last].dropped_queue++;
			} else {
				copy->len = f->len;
				memcpy(copy->data, f->data, f->len);
				enqueue(sw, last, copy);
			}
		}
		last = i;
	}
	if (last >= 0)
		enqueue(sw, last, f);
	else
		sw->ops->free(sw->arg, f);
}

/* ---- bandwidth settings ---- */

static uint64_t floors_except(const struct netswitch *sw, int port)
{
	uint64_t sum = 0;

	for (int i = 0; i < SW_MAX_PORTS; i++)
		if (i != port && sw->ports[i].kind == SW_PORT_VIF)
			sum += sw->ports[i].in.floor;
	return sum;
}

int sw_limits_set(struct netswitch *sw, int port, bool inbound, const struct sw_limits *l,
                  uint64_t now)
{
	struct sw_port *p;

	if (!valid_port(sw, port) || sw->ports[port].kind != SW_PORT_VIF)
		return -XEN_EINVAL;
	if (l->average > MAX_KBPS || l->peak > MAX_KBPS || l->floor > MAX_KBPS ||
	    l->burst > MAX_BURST_KIB)
		return -XEN_EINVAL;
	if (!inbound && l->floor)
		return -XEN_EINVAL; /* libvirt: floor only on inbound */
	if (inbound && l->floor && sw->link_kbps &&
	    l->floor + floors_except(sw, port) > sw->link_kbps)
		return -XEN_ENOSPC;
	p = &sw->ports[port];
	if (inbound) {
		p->in = *l;
		limits_apply(l, &p->in_avg, &p->in_peak, now);
		bucket_set(&p->floor, l->floor * 1024, MAX(l->floor * 1024 / 20, MIN_DEPTH_BYTES),
		           now);
	} else {
		p->out = *l;
		limits_apply(l, &p->out_avg, &p->out_peak, now);
	}
	return 0;
}

int sw_limits_get(const struct netswitch *sw, int port, bool inbound, struct sw_limits *l)
{
	if (!valid_port(sw, port) || sw->ports[port].kind != SW_PORT_VIF)
		return -XEN_EINVAL;
	*l = inbound ? sw->ports[port].in : sw->ports[port].out;
	return 0;
}

bool sw_out_admit(struct netswitch *sw, int port, unsigned int len, uint64_t now)
{
	struct sw_port *p;

	if (!valid_port(sw, port))
		return false;
	p = &sw->ports[port];
	bucket_refill(&p->out_avg, now);
	bucket_refill(&p->out_peak, now);
	if (!bucket_has(&p->out_avg, len) || !bucket_has(&p->out_peak, len))
		return false;
	bucket_take(&p->out_avg, len);
	bucket_take(&p->out_peak, len);
	return true;
}

uint64_t sw_out_wait(struct netswitch *sw, int port, unsigned int len, uint64_t now)
{
	struct sw_port *p;

	if (!valid_port(sw, port))
		return 0;
	p = &sw->ports[port];
	bucket_refill(&p->out_avg, now);
	bucket_refill(&p->out_peak, now);
	return MAX(bucket_wait(&p->out_avg, len), bucket_wait(&p->out_peak, len));
}

/* ---- sending ---- */

/* Hands the head frame of port i to the output. Returns the callback's answer. */
static int send_head(struct netswitch *sw, int i)
{
	struct sw_port *p = &sw->ports[i];
	struct sw_frame *f = p->head;
	unsigned int len = f->len;
	int rc;

	dequeue(p);
	rc = sw->ops->output(sw->arg, i, f);
	if (rc == SW_OUT_BUSY) {
		/* back to the front of the queue */
		f->next = p->head;
		p->head = f;
		if (!p->tail)
			p->tail = f;
		p->queued++;
		return rc;
	}
	if (rc == SW_OUT_TAKEN) {
		p->tx_frames++;
		p->tx_bytes += len;
	} else {
		p->dropped_output++;
		sw->ops->free(sw->arg, f);
	}
	return rc;
}

/* Frames to TAPs: no limits here (the guest's outbound buckets were charged already). */
static bool service_taps(struct netswitch *sw)
{
	bool moved = false, more = true;

	/* One frame per TAP a round, starting where the last call was stopped: the TAPs share
	 * one channel to the host, and a full channel must not always favour the same ones. */
	while (more) {
		more = false;
		for (unsigned int k = 0; k < SW_MAX_PORTS; k++) {
			int i = (int)((sw->tap_rr + k) % SW_MAX_PORTS);
			struct sw_port *p = &sw->ports[i];

			if (p->kind != SW_PORT_TAP || !p->head)
				continue;
			if (send_head(sw, i) == SW_OUT_BUSY) {
				sw->tap_rr = (unsigned int)i; /* first in line next time */
				return moved;
			}
			moved = true;
			more = true;
		}
	}
	return moved;
}

static bool vif_eligible(struct netswitch *sw, int i, uint64_t busy)
{
	struct sw_port *p = &sw->ports[i];

	if (p->kind != SW_PORT_VIF || !p->head || (busy & (1ULL << i)))
		return false;
	return bucket_has(&p->in_avg, p->head->len) && bucket_has(&p->in_peak, p->head->len);
}

bool sw_service(struct netswitch *sw, uint64_t now)
{
	uint64_t busy = 0;
	bool moved = service_taps(sw);

	bucket_refill(&sw->link, now);
	for (int i = 0; i < SW_MAX_PORTS; i++) {
		struct sw_port *p = &sw->ports[i];

		if (p->kind == SW_PORT_VIF && p->head) {
			bucket_refill(&p->in_avg, now);
			bucket_refill(&p->in_peak, now);
			bucket_refill(&p->floor, now);
		}
	}
	for (;;) {
		int pick = -1;
		bool by_floor = false;
		unsigned int len;

		/* Floors first: among the eligible VIFs with floor tokens for their frame, the one
		 * furthest behind in its floor's virtual time (so that a dom0 too slow for the link
		 * still gives each VIF a share in proportion to its floor). */
		for (unsigned int k = 0; k < SW_MAX_PORTS; k++) {
			int i = (int)((sw->rr + k) % SW_MAX_PORTS);
			struct sw_port *p = &sw->ports[i];

			if (vif_eligible(sw, i, busy) && p->floor.rate &&
			    bucket_has(&p->floor, p->head->len) &&
			    (pick < 0 || p->floor_vt < sw->ports[pick].floor_vt)) {
				pick = i;
				by_floor = true;
			}
		}
		/* Then the rest of the link, fair in bytes: the least served VIF goes. */
		for (unsigned int k = 0; k < SW_MAX_PORTS && !by_floor; k++) {
			int i = (int)((sw->rr + k) % SW_MAX_PORTS);

			if (vif_eligible(sw, i, busy) &&
			    (pick < 0 || sw->ports[i].share_vt < sw->ports[pick].share_vt))
				pick = i;
		}
		if (pick < 0)
			break;
		len = sw->ports[pick].head->len;
		if (!bucket_has(&sw->link, len))
			break; /* the chosen one waits for the link: others do not overtake it */
		switch (send_head(sw, pick)) {
		case SW_OUT_BUSY:
			busy |= 1ULL << pick;
			continue;
		case SW_OUT_TAKEN:
			bucket_take(&sw->ports[pick].in_avg, len);
			bucket_take(&sw->ports[pick].in_peak, len);
			bucket_take(&sw->link, len);
			if (by_floor) {
				struct sw_port *p = &sw->ports[pick];

				bucket_take(&p->floor, len);
				sw->floor_vtime = p->floor_vt;
				p->floor_vt += (uint64_t)len * FLOOR_VT_SCALE / p->in.floor;
			} else {
				sw->share_vtime = sw->ports[pick].share_vt;
				sw->ports[pick].share_vt += len;
				sw->rr = (unsigned int)(pick + 1) % SW_MAX_PORTS;
			}
			break;
		default:
			break;
		}
		moved = true;
	}
	return moved;
}

uint64_t sw_next_deadline(struct netswitch *sw, uint64_t now)
{
	uint64_t best = 0;

	bucket_refill(&sw->link, now);
	for (int i = 0; i < SW_MAX_PORTS; i++) {
		struct sw_port *p = &sw->ports[i];
		uint64_t wait;

		if (p->kind != SW_PORT_VIF || !p->head)
			continue;
		bucket_refill(&p->in_avg, now);
		bucket_refill(&p->in_peak, now);
		wait = MAX(bucket_wait(&p->in_avg, p->head->len),
		           bucket_wait(&p->in_peak, p->head->len));
		wait = MAX(wait, bucket_wait(&sw->link, p->head->len));
		if (wait && (!best || now + wait < best))
			best = now + wait;
	}
	return best;
}
