/*
 * ICMP (RFC 792), echo only: requests to our address are answered with the same identifier,
 * sequence and data; replies go to the ICMP socket whose identifier they carry (ping). Every
 * other type is counted and ignored, as is a message that is short or fails its checksum.
 *
 * The answer is built in a buffer of its own: icmp_input runs from net_rx, which may be called
 * (through netdev_poll) while a socket's frame is being sent.
 */
#include <klib/string.h>
#include "net_priv.h"

#define ICMP_ECHO_REPLY   0
#define ICMP_ECHO_REQUEST 8

static uint8_t reply_frame[ETH_FRAME_MAX];

void icmp_input(struct net_if *nif, uint32_t src, uint32_t dst, uint8_t ttl, const uint8_t *msg,
                unsigned int len)
{
	net_stats.icmp_rx++;
	if (len < ICMP_HLEN || net_csum_fold(net_csum_add(0, msg, len)) != 0) {
		net_stats.icmp_bad++;
		return;
	}
	if (msg[0] == ICMP_ECHO_REQUEST && msg[1] == 0) {
		net_stats.icmp_echo_requests++;
		if (len > ETH_FRAME_MAX - NET_L4_OFF) {
			net_stats.icmp_bad++;
			return;
		}
		uint8_t *r = reply_frame + NET_L4_OFF;
		memcpy(r, msg, len);
		r[0] = ICMP_ECHO_REPLY;
		put16(r + 2, 0);
		put16(r + 2, net_csum_fold(net_csum_add(0, r, len)));
		if (ip_output(src, IP_PROTO_ICMP, reply_frame, len) == 0)
			net_stats.icmp_echo_replies_tx++;
		return;
	}
	if (msg[0] == ICMP_ECHO_REPLY && msg[1] == 0) {
		struct sock *s = sock_lookup(NET_SOCK_ICMP, get16(msg + 4));
		if (!s) {
			net_stats.icmp_unmatched++;
			return;
		}
		net_stats.icmp_echo_replies_rx++;
		sock_deliver(s, msg, len, src, get16(msg + 4), ttl);
		return;
	}
	net_stats.icmp_unmatched++;
}
