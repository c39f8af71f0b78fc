/*
 * IPv4 (RFC 791), the part a host without a router needs: checked input for our addresses and
 * broadcast, handed to ICMP or UDP; output to on-link destinations through ARP.
 *
 * Input drops (and counts) a packet that is short, not version 4, has a header length below
 * 20 or beyond the packet, a total length beyond the frame, a bad header checksum, or is a
 * fragment (no reassembly: we never send fragments and accept none). Ethernet padding beyond
 * the total length is ignored. Output: no options, DF set, TTL 64, one identification counter.
 * Routing is by subnet only: a destination outside every interface's subnet is unreachable.
 * A packet to one of our own addresses is handed straight to ip_input (there is no loopback
 * device, and nothing on the wire would answer for us).
 */
#include <klib/string.h>
#include "net_priv.h"

#define IP_TTL    64
#define IP_DF     0x4000
#define IP_MF     0x2000
#define IP_OFFSET 0x1fff

static uint16_t next_id = 1;

bool ip_is_broadcast(const struct net_if *nif, uint32_t addr)
{
	return addr == IP_BROADCAST ||
	       (nif->addr && nif->mask != 0xffffffffu && addr == (nif->addr | ~nif->mask));
}

struct net_if *ip_route(uint32_t dst)
{
	for (int i = 0; i < NET_MAX_IFS; i++) {
		struct net_if *nif = net_if_get(i);
		if (!nif || !nif->addr)
			continue;
		if (dst == IP_BROADCAST || (dst & nif->mask) == (nif->addr & nif->mask))
			return nif;
	}
	return NULL;
}

void ip_input(struct net_if *nif, const uint8_t *p, unsigned int len, bool link_broadcast)
{
	net_stats.ip_rx++;
	if (len < IP_HLEN || (p[0] >> 4) != 4) {
		net_stats.ip_bad_header++;
		return;
	}
	unsigned int hlen = (p[0] & 0xf) * 4u, total = get16(p + 2);
	if (hlen < IP_HLEN || total < hlen || total > len) {
		net_stats.ip_bad_header++;
		return;
	}
	if (net_csum_fold(net_csum_add(0, p, hlen)) != 0) {
		net_stats.ip_bad_checksum++;
		return;
	}
	uint16_t frag = get16(p + 6);
	if (frag & (IP_MF | IP_OFFSET)) {
		net_stats.ip_fragments++;
		return;
	}
	uint32_t src = get32(p + 12), dst = get32(p + 16);
	bool bcast = ip_is_broadcast(nif, dst);
	if (!nif->addr || (dst != nif->addr && !bcast) || (link_broadcast && !bcast)) {
		net_stats.ip_not_ours++;
		return;
	}
	const uint8_t *l4 = p + hlen;
	unsigned int l4len = total - hlen;
	switch (p[9]) {
	case IP_PROTO_ICMP:
		/* Echo requests to a broadcast address are not answered (no smurf amplifier). */
		if (bcast) {
			net_stats.ip_not_ours++;
			return;
		}
		icmp_input(nif, src, dst, p[8], l4, l4len);
		break;
	case IP_PROTO_UDP:
		udp_input(nif, src, dst, p[8], l4, l4len);
		break;
	default:
		net_stats.ip_unknown_proto++;
		break;
	}
}

int ip_output(uint32_t dst, uint8_t proto, uint8_t *frame, unsigned int l4len)
{
	struct net_if *nif = ip_route(dst);
	uint8_t *h = frame + NET_IP_OFF;

	if (!nif) {
		net_stats.ip_no_route++;
		return -E_NETUNREACH;
	}
	h[0] = 0x45;
	h[1] = 0;
	put16(h + 2, (uint16_t)(IP_HLEN + l4len));
	put16(h + 4, next_id++);
	put16(h + 6, IP_DF);
	h[8] = IP_TTL;
	h[9] = proto;
	put16(h + 10, 0);
	put32(h + 12, nif->addr);
	put32(h + 16, dst);
	put16(h + 10, net_csum_fold(net_csum_add(0, h, IP_HLEN)));

	if (dst == nif->addr) {
		net_stats.ip_tx++;
		ip_input(nif, h, IP_HLEN + l4len, false);
		return 0;
	}
	unsigned int len = NET_L4_OFF + l4len;
	int rc = ip_is_broadcast(nif, dst)
	             ? eth_output(nif, eth_broadcast, ETH_TYPE_IPV4, frame, len)
	             : arp_output(nif, dst, frame, len);
	if (rc == 0)
		net_stats.ip_tx++;
	return rc;
}
