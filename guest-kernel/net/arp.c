/*
 * ARP (RFC 826) for IPv4 over Ethernet: the cache of neighbours' MAC addresses, requests for
 * addresses we need, replies for our own address, and a small queue of frames waiting for a
 * resolution.
 *
 * Cache: an entry is PENDING (request sent at `requested_ns`, frames may wait for it) or VALID
 * (learnt at `updated_ns`, good for ARP_VALID_NS). As RFC 826 says, a packet whose target is
 * our address creates or refreshes the sender's entry; any other packet only refreshes an
 * entry we already have. A sender address of 0 (probe) or broadcast is never learnt.
 * There is no timer: retransmission, expiry and giving up happen when the cache is used.
 * A PENDING entry sends a new request when it is used at least ARP_RETRY_NS after the last,
 * and gives up after ARP_TRIES requests: it becomes FAILED (its waiting frames are dropped,
 * arp_timeouts) and sends to it fail with -E_HOSTUNREACH for ARP_FAILED_NS; the next send
 * after that starts a new resolution.
 */
#include <klib/string.h>
#include "net_priv.h"

#define ARP_ENTRIES    32
#define ARP_QUEUE      8 /* frames waiting for a resolution, all entries together */
#define ARP_VALID_NS   (60ULL * 1000000000)
#define ARP_RETRY_NS   (1000ULL * 1000000)
#define ARP_TRIES      3
#define ARP_FAILED_NS  (3000ULL * 1000000)
#define ARP_PKT_LEN    28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY   2

enum arp_state { ARP_FREE, ARP_PENDING, ARP_VALID, ARP_FAILED };

struct arp_entry {
	enum arp_state state;
	struct net_if *nif;
	uint32_t ip;
	uint8_t mac[ETH_ALEN];
	int tries;
	uint64_t updated_ns, requested_ns;
};

struct arp_waiting {
	struct net_if *nif; /* NULL: slot free */
	uint32_t ip;
	unsigned int len;
	uint64_t queued_ns;
	uint8_t frame[ETH_FRAME_MAX];
};

static struct arp_entry cache[ARP_ENTRIES];
static struct arp_waiting waiting[ARP_QUEUE];

static struct arp_entry *find(struct net_if *nif, uint32_t ip)
{
	for (int i = 0; i < ARP_ENTRIES; i++)
		if (cache[i].state != ARP_FREE && cache[i].nif == nif && cache[i].ip == ip)
			return &cache[i];
	return NULL;
}

/* A free entry, else the oldest one (its waiting frames, if any, are dropped). */
static struct arp_entry *alloc_entry(void)
{
	struct arp_entry *victim = &cache[0];

	for (int i = 0; i < ARP_ENTRIES; i++) {
		if (cache[i].state == ARP_FREE)
			return &cache[i];
		if (cache[i].updated_ns < victim->updated_ns)
			victim = &cache[i];
	}
	for (int i = 0; i < ARP_QUEUE; i++)
		if (waiting[i].nif == victim->nif && waiting[i].ip == victim->ip) {
			waiting[i].nif = NULL;
			net_stats.arp_queue_drops++;
		}
	return victim;
}

static void send_arp(struct net_if *nif, uint16_t op, const uint8_t *eth_dst,
                     const uint8_t *target_mac, uint32_t target_ip)
{
	uint8_t frame[ETH_HLEN + ARP_PKT_LEN];
	uint8_t *p = frame + ETH_HLEN;

	put16(p, 1); /* Ethernet */
	put16(p + 2, ETH_TYPE_IPV4);
	p[4] = ETH_ALEN;
	p[5] = 4;
	put16(p + 6, op);
	memcpy(p + 8, nif->dev->mac, ETH_ALEN);
	put32(p + 14, nif->addr);
	memcpy(p + 18, target_mac, ETH_ALEN);
	put32(p + 24, target_ip);
	if (eth_output(nif, eth_dst, ETH_TYPE_ARP, frame, sizeof(frame)) == 0) {
		if (op == ARP_OP_REQUEST)
			net_stats.arp_requests_tx++;
		else
			net_stats.arp_replies_tx++;
	}
}

/* Send the frames that waited for e's address. */
static void flush_waiting(struct arp_entry *e)
{
	for (int i = 0; i < ARP_QUEUE; i++) {
		struct arp_waiting *w = &waiting[i];
		if (w->nif != e->nif || w->ip != e->ip)
			continue;
		w->nif = NULL;
		eth_output(e->nif, e->mac, ETH_TYPE_IPV4, w->frame, w->len);
	}
}

/* Drop the waiting frames of an entry that gave up, and frames that waited too long. */
static void drop_waiting(struct net_if *nif, uint32_t ip, uint64_t now)
{
	for (int i = 0; i < ARP_QUEUE; i++) {
		struct arp_waiting *w = &waiting[i];
		if (!w->nif)
			continue;
		if ((w->nif == nif && w->ip == ip) ||
		    now - w->queued_ns > ARP_RETRY_NS * (ARP_TRIES + 1)) {
			w->nif = NULL;
			net_stats.arp_queue_drops++;
		}
	}
}

void arp_input(struct net_if *nif, const uint8_t *p, unsigned int len)
{
	net_stats.arp_rx++;
	if (len < ARP_PKT_LEN || get16(p) != 1 || get16(p + 2) != ETH_TYPE_IPV4 ||
	    p[4] != ETH_ALEN || p[5] != 4 ||
	    (get16(p + 6) != ARP_OP_REQUEST && get16(p + 6) != ARP_OP_REPLY)) {
		net_stats.arp_bad++;
		return;
	}
	uint16_t op = get16(p + 6);
	const uint8_t *sender_mac = p + 8;
	uint32_t sender_ip = get32(p + 14), target_ip = get32(p + 24);
	bool for_us = nif->addr != 0 && target_ip == nif->addr;

	/* A sender claiming a multicast/broadcast MAC or an unusable IP is not learnt. */
	if ((sender_mac[0] & 1) || sender_ip == 0 || sender_ip == IP_BROADCAST ||
	    sender_ip == nif->addr) {
		if (!(sender_ip == 0 && for_us && op == ARP_OP_REQUEST)) {
			net_stats.arp_bad++;
			return;
		}
	} else {
		struct arp_entry *e = find(nif, sender_ip);
		if (!e && for_us) {
			e = alloc_entry();
			*e = (struct arp_entry){.state = ARP_PENDING, .nif = nif, .ip = sender_ip};
		}
		if (e) {
			memcpy(e->mac, sender_mac, ETH_ALEN);
			e->updated_ns = net_now_ns();
			bool was_pending = e->state == ARP_PENDING;
			e->state = ARP_VALID;
			if (was_pending)
				flush_waiting(e);
		}
	}
	if (op == ARP_OP_REQUEST && for_us)
		send_arp(nif, ARP_OP_REPLY, sender_mac, sender_mac, sender_ip);
}

int arp_output(struct net_if *nif, uint32_t ip, uint8_t *frame, unsigned int len)
{
	uint64_t now = net_now_ns();
	struct arp_entry *e = find(nif, ip);

	if (e && e->state == ARP_VALID && now - e->updated_ns < ARP_VALID_NS)
		return eth_output(nif, e->mac, ETH_TYPE_IPV4, frame, len);

	drop_waiting(NULL, 0, now);
	if (e && e->state == ARP_PENDING && e->tries >= ARP_TRIES &&
	    now - e->requested_ns >= ARP_RETRY_NS) {
		net_stats.arp_timeouts++;
		drop_waiting(nif, ip, now);
		e->state = ARP_FAILED;
		e->updated_ns = now;
	}
	if (e && e->state == ARP_FAILED && now - e->updated_ns < ARP_FAILED_NS)
		return -E_HOSTUNREACH;
	if (!e) {
		e = alloc_entry();
		*e = (struct arp_entry){
		    .state = ARP_PENDING, .nif = nif, .ip = ip, .updated_ns = now};
	} else if (e->state != ARP_PENDING) {
		e->state = ARP_PENDING; /* expired or failed long enough ago: ask again */
		e->tries = 0;
	}

	int rc = -E_NOBUFS;
	for (int i = 0; i < ARP_QUEUE; i++)
		if (!waiting[i].nif) {
			struct arp_waiting *w = &waiting[i];
			w->nif = nif;
			w->ip = ip;
			w->len = len;
			w->queued_ns = now;
			memcpy(w->frame, frame, len);
			net_stats.arp_queued++;
			rc = 0;
			break;
		}
	if (rc)
		net_stats.arp_queue_drops++;

	if (e->tries == 0 || now - e->requested_ns >= ARP_RETRY_NS) {
		static const uint8_t zero_mac[ETH_ALEN];
		e->tries++;
		e->requested_ns = now;
		send_arp(nif, ARP_OP_REQUEST, eth_broadcast, zero_mac, ip);
	}
	return rc;
}

int arp_lookup(uint32_t ip, uint8_t mac[ETH_ALEN])
{
	for (int i = 0; i < ARP_ENTRIES; i++)
		if (cache[i].state == ARP_VALID && cache[i].ip == ip &&
		    net_now_ns() - cache[i].updated_ns < ARP_VALID_NS) {
			memcpy(mac, cache[i].mac, ETH_ALEN);
			return 0;
		}
	return -1;
}

void arp_flush_if(struct net_if *nif)
{
	for (int i = 0; i < ARP_ENTRIES; i++)
		if (cache[i].nif == nif)
			cache[i].state = ARP_FREE;
	for (int i = 0; i < ARP_QUEUE; i++)
		if (waiting[i].nif == nif)
			waiting[i].nif = NULL;
}
