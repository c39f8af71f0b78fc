/*
 * What the protocol files of the network stack share: wire-format accessors, the checksum, and
 * each layer's entry points.
 *
 * Frames are handled as byte arrays and fields read and written with get16/put16 (network byte
 * order) at their offsets, so that nothing depends on the alignment of a received frame.
 * An outgoing frame is built in one buffer with room for every header in front of the payload:
 * each layer fills its header and hands the buffer down (UDP -> IP -> ARP -> Ethernet).
 */
#ifndef GK_NET_PRIV_H
#define GK_NET_PRIV_H

#include <net.h>

#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP  0x0806

#define IP_HLEN       20 /* without options, as we send them */
#define IP_PROTO_ICMP 1
#define IP_PROTO_UDP  17
#define UDP_HLEN      8
#define ICMP_HLEN     8

/* Where the payloads start in a frame we build. */
#define NET_IP_OFF  ETH_HLEN
#define NET_L4_OFF  (ETH_HLEN + IP_HLEN)
#define NET_UDP_OFF (NET_L4_OFF + UDP_HLEN)

#define IP_BROADCAST 0xffffffffu

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The Internet checksum (RFC 1071): net_csum_add accumulates 16-bit big-endian words (an odd
 * trailing byte padded with zero), net_csum_fold folds and complements. A received header or
 * message whose checksum field is included sums to 0 after folding. */
uint32_t net_csum_add(uint32_t sum, const void *data, unsigned int len);
uint16_t net_csum_fold(uint32_t sum);

/* ---- eth.c ---- */
extern const uint8_t eth_broadcast[ETH_ALEN];
/* Fill the Ethernet header at frame[0] and send len bytes (header included). 0, or -E_AGAIN
 * when the device's ring is full (counted in tx_ring_full). */
int eth_output(struct net_if *nif, const uint8_t *dst, uint16_t type, uint8_t *frame,
               unsigned int len);

/* ---- arp.c ---- */
void arp_input(struct net_if *nif, const uint8_t *pkt, unsigned int len);
/* Send an IPv4 frame (IP header at NET_IP_OFF) to next hop `ip` on nif: at once if its MAC is
 * known, else queued (a copy) while an ARP request goes out. 0, -E_AGAIN (ring full) or
 * -E_NOBUFS (queue full). */
int arp_output(struct net_if *nif, uint32_t ip, uint8_t *frame, unsigned int len);
/* Look up a cached address (for tests and netinfo): 0 and the MAC, or -1. */
int arp_lookup(uint32_t ip, uint8_t mac[ETH_ALEN]);
void arp_flush_if(struct net_if *nif);

/* ---- ip.c ---- */
void ip_input(struct net_if *nif, const uint8_t *pkt, unsigned int len, bool link_broadcast);
/* Send an IPv4 packet whose L4 part (l4len bytes) is at frame[NET_L4_OFF]: route, header,
 * checksum, ARP. Returns 0, -E_NETUNREACH, -E_AGAIN, -E_NOBUFS. */
int ip_output(uint32_t dst, uint8_t proto, uint8_t *frame, unsigned int l4len);
/* The interface whose subnet holds dst (the first configured one for the broadcast address),
 * or NULL. */
struct net_if *ip_route(uint32_t dst);
bool ip_is_broadcast(const struct net_if *nif, uint32_t addr);

/* ---- icmp.c ---- */
void icmp_input(struct net_if *nif, uint32_t src, uint32_t dst, uint8_t ttl, const uint8_t *msg,
                unsigned int len);

/* ---- udp.c ---- */
void udp_input(struct net_if *nif, uint32_t src, uint32_t dst, uint8_t ttl, const uint8_t *msg,
               unsigned int len);
/* Send a UDP datagram whose payload (len bytes) is at frame[NET_UDP_OFF]. */
int udp_output(uint16_t sport, uint32_t dst, uint16_t dport, uint8_t *frame, unsigned int len);

/* ---- socket.c: delivery from the protocols ---- */
struct sock;
/* The socket of `type` bound to port (UDP) or identifier (ICMP), or NULL. */
struct sock *sock_lookup(int type, uint16_t port);
/* Queue a datagram for the socket (counted as dropped when its queue is full). */
void sock_deliver(struct sock *s, const void *data, unsigned int len, uint32_t src, uint16_t sport,
                  uint8_t ttl);

#endif
