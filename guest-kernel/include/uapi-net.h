/*
 * The network stack's part of the system-call interface (numbers in uapi.h): socket types,
 * addresses, the error numbers only the network uses, and what SYS_netinfo reports.
 *
 * Addresses and ports are in host byte order here (10.77.0.2 is 0x0a4d0002); the stack converts
 * at the wire. Sockets have their own small descriptors, separate from file descriptors, and
 * belong to the process that opened them: others get -E_BADF, and the kernel closes the
 * sockets of a process that has exited the next time a socket is opened.
 */
#ifndef GK_UAPI_NET_H
#define GK_UAPI_NET_H

#include <klib/compiler.h>

/* A UDP socket: bind to a port (or get an ephemeral one at the first sendto), datagrams up to
 * NET_UDP_MAX bytes of payload (no fragmentation). */
#define NET_SOCK_UDP 1
/* An ICMP echo socket (as Linux's ping sockets): sendto takes an echo request, the 8-byte
 * ICMP header (type 8, code 0, checksum, identifier, sequence) and data; the kernel sets the
 * identifier to the socket's and computes the checksum. recvfrom returns the echo replies
 * that carry the socket's identifier, header included. */
#define NET_SOCK_ICMP 2

#define NET_UDP_MAX  1472 /* MTU 1500 - IPv4 header 20 - UDP header 8 */
#define NET_ICMP_MAX 1480 /* MTU 1500 - IPv4 header 20 */

/* Error numbers (Linux's values), negative in results as the others in uapi.h. */
#define E_MSGSIZE     90
#define E_ADDRINUSE   98
#define E_NETUNREACH  101
#define E_NOBUFS      105
#define E_TIMEDOUT    110
#define E_HOSTUNREACH 113

struct net_sockaddr {
	uint32_t addr; /* IPv4 address, host byte order */
	uint16_t port; /* UDP port; for an ICMP socket, the echo identifier */
	uint8_t ttl;   /* recvfrom: the TTL the datagram arrived with */
	uint8_t pad;
};

/* SYS_netinfo (what, index, buf, len): copies min(len, size of the structure) bytes; returns
 * the structure's size, or -E_NOENT when index is past the last interface or socket slot. */
#define NET_INFO_IF    0 /* interface index -> struct net_if_info */
#define NET_INFO_SOCK  1 /* socket slot index -> struct net_sock_info (type 0: slot free) */
#define NET_INFO_STATS 2 /* (index ignored) -> struct net_stats */

struct net_if_info {
	int32_t index;
	uint8_t mac[6];
	uint8_t prefix_len; /* of addr; 0 with addr 0: no address configured */
	uint8_t up;         /* the driver called net_dev_up */
	uint32_t addr;
	uint32_t mtu;
	uint64_t rx_frames, tx_frames, rx_bytes, tx_bytes, rx_dropped,
	    tx_dropped; /* the driver's */
};

struct net_sock_info {
	int32_t sd, type, owner_pid;
	uint16_t port; /* bound port (UDP) or echo identifier (ICMP) */
	uint16_t queued, queue_max;
	uint16_t pad;
	uint64_t rx_datagrams, rx_bytes, rx_dropped, tx_datagrams, tx_bytes;
};

/* The stack's counters, one X(name) each, so that programs can print them by name. */
#define NET_STATS(X)                                                                               \
	X(eth_rx)                                                                                  \
	X(eth_short)                                                                               \
	X(eth_not_ours)                                                                            \
	X(eth_unknown_type)                                                                        \
	X(arp_rx)                                                                                  \
	X(arp_bad)                                                                                 \
	X(arp_requests_tx)                                                                         \
	X(arp_replies_tx)                                                                          \
	X(arp_queued)                                                                              \
	X(arp_queue_drops)                                                                         \
	X(arp_timeouts)                                                                            \
	X(ip_rx)                                                                                   \
	X(ip_bad_header)                                                                           \
	X(ip_bad_checksum)                                                                         \
	X(ip_fragments)                                                                            \
	X(ip_not_ours)                                                                             \
	X(ip_unknown_proto)                                                                        \
	X(ip_tx)                                                                                   \
	X(ip_no_route)                                                                             \
	X(icmp_rx)                                                                                 \
	X(icmp_bad)                                                                                \
	X(icmp_echo_requests)                                                                      \
	X(icmp_echo_replies_tx)                                                                    \
	X(icmp_echo_replies_rx)                                                                    \
	X(icmp_unmatched)                                                                          \
	X(udp_rx)                                                                                  \
	X(udp_bad)                                                                                 \
	X(udp_bad_checksum)                                                                        \
	X(udp_no_port)                                                                             \
	X(udp_queue_drops)                                                                         \
	X(udp_tx)                                                                                  \
	X(tx_ring_full)

struct net_stats {
#define NET_STATS_FIELD(name) uint64_t name;
	NET_STATS(NET_STATS_FIELD)
#undef NET_STATS_FIELD
};

#endif
