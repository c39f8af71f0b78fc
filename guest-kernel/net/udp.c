/*
 * UDP (RFC 768): datagrams in to the socket bound to their destination port, out with a
 * checksum over the pseudo header. A received datagram is dropped (and counted) when it is
 * shorter than its header, its length field disagrees with the IP payload, its checksum is
 * wrong (0 means "none" and is accepted), or no socket is bound to its port.
 */
#include <klib/string.h>
#include "net_priv.h"

static uint32_t pseudo_sum(uint32_t src, uint32_t dst, unsigned int len)
{
	uint8_t ph[12];

	put32(ph, src);
	put32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = IP_PROTO_UDP;
	put16(ph + 10, (uint16_t)len);
	return net_csum_add(0, ph, sizeof(ph));
}

void udp_input(struct net_if *nif, uint32_t src, uint32_t dst, uint8_t ttl, const uint8_t *msg,
               unsigned int len)
{
	net_stats.udp_rx++;
	if (len < UDP_HLEN || get16(msg + 4) < UDP_HLEN || get16(msg + 4) > len) {
		net_stats.udp_bad++;
		return;
	}
	len = get16(msg + 4);
	if (get16(msg + 6) != 0 &&
	    net_csum_fold(net_csum_add(pseudo_sum(src, dst, len), msg, len)) != 0) {
		net_stats.udp_bad_checksum++;
		return;
	}
	struct sock *s = sock_lookup(NET_SOCK_UDP, get16(msg + 2));
	if (!s) {
		net_stats.udp_no_port++;
		return;
	}
	sock_deliver(s, msg + UDP_HLEN, len - UDP_HLEN, src, get16(msg), ttl);
}

int udp_output(uint16_t sport, uint32_t dst, uint16_t dport, uint8_t *frame, unsigned int len)
{
	struct net_if *nif = ip_route(dst);
	uint8_t *u = frame + NET_L4_OFF;
	unsigned int ulen = UDP_HLEN + len;

	if (!nif) {
		net_stats.ip_no_route++;
		return -E_NETUNREACH;
	}
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)ulen);
	put16(u + 6, 0);
	uint16_t sum = net_csum_fold(net_csum_add(pseudo_sum(nif->addr, dst, ulen), u, ulen));
	put16(u + 6, sum ? sum : 0xffff);
	int rc = ip_output(dst, IP_PROTO_UDP, frame, ulen);
	if (rc == 0)
		net_stats.udp_tx++;
	return rc;
}
