/*
 * Sockets: UDP sockets bound to a port and ICMP echo sockets bound to an identifier, each with
 * a bounded queue of received datagrams.
 *
 * A socket's queue is NET_SOCK_QUEUE slots of 2 KiB (header + the largest datagram) in pages
 * taken when it is opened; a datagram that finds the queue full is dropped and counted, never
 * waited for (the sender is on another machine). Queued datagrams wake the socket's channel.
 * Ports: one socket per (type, port); a UDP socket that sends before binding gets the next
 * free ephemeral port (49152-65535); an ICMP socket gets a fresh identifier when opened.
 */
#include <klib/string.h>
#include <mm.h>
#include "net_priv.h"

#define SLOT_SIZE      2048
#define SLOTS_PER_PAGE ((int)(PAGE_SIZE / SLOT_SIZE))
#define QUEUE_PAGES    (NET_SOCK_QUEUE / SLOTS_PER_PAGE)

struct dgram {
	uint16_t len;
	struct net_sockaddr from;
	uint8_t data[];
};
BUILD_BUG_ON(sizeof(struct dgram) + NET_ICMP_MAX > SLOT_SIZE);
BUILD_BUG_ON(NET_SOCK_QUEUE % SLOTS_PER_PAGE != 0);

struct sock {
	int type; /* NET_SOCK_*, 0: free */
	int owner;
	uint16_t port;
	unsigned int head, count; /* oldest queued slot, number queued */
	uint8_t *pages[QUEUE_PAGES];
	uint64_t rx_datagrams, rx_bytes, rx_dropped, tx_datagrams, tx_bytes;
};

static struct sock socks[NET_MAX_SOCKS];
static uint8_t tx_frame[ETH_FRAME_MAX];
static uint16_t next_ephemeral = NET_EPHEMERAL_MIN;
static uint16_t next_ident = 0x4856; /* "HV" */

static struct sock *get(int sd)
{
	if (sd < 0 || sd >= NET_MAX_SOCKS || !socks[sd].type)
		return NULL;
	return &socks[sd];
}

static struct dgram *slot(struct sock *s, unsigned int i)
{
	i %= NET_SOCK_QUEUE;
	return (struct dgram *)(s->pages[i / SLOTS_PER_PAGE] + (i % SLOTS_PER_PAGE) * SLOT_SIZE);
}

struct sock *sock_lookup(int type, uint16_t port)
{
	for (int i = 0; i < NET_MAX_SOCKS; i++)
		if (socks[i].type == type && socks[i].port == port && port != 0)
			return &socks[i];
	return NULL;
}

static void release(struct sock *s)
{
	for (int i = 0; i < QUEUE_PAGES; i++)
		if (s->pages[i])
			net_page_free(s->pages[i]);
	memset(s, 0, sizeof(*s));
}

int sock_open(int type, int owner_pid)
{
	struct sock *s = NULL;

	if (type != NET_SOCK_UDP && type != NET_SOCK_ICMP)
		return -E_INVAL;
	for (int i = 0; i < NET_MAX_SOCKS && !s; i++)
		if (!socks[i].type)
			s = &socks[i];
	if (!s)
		return -E_MFILE;
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < QUEUE_PAGES; i++)
		if (!(s->pages[i] = net_page_alloc())) {
			release(s);
			return -E_NOMEM;
		}
	s->owner = owner_pid;
	if (type == NET_SOCK_ICMP) {
		do
			next_ident = (uint16_t)(next_ident + 1) ? (uint16_t)(next_ident + 1) : 1;
		while (sock_lookup(NET_SOCK_ICMP, next_ident));
		s->port = next_ident;
	}
	s->type = type; /* last: visible to sock_lookup only when complete */
	return (int)(s - socks);
}

int sock_owner(int sd)
{
	struct sock *s = get(sd);
	return s ? s->owner : -1;
}

static int bind_ephemeral(struct sock *s)
{
	for (unsigned int tries = 0; tries < 65536 - NET_EPHEMERAL_MIN; tries++) {
		uint16_t port = next_ephemeral;
		next_ephemeral = port == 65535 ? NET_EPHEMERAL_MIN : (uint16_t)(port + 1);
		if (!sock_lookup(s->type, port)) {
			s->port = port;
			return 0;
		}
	}
	return -E_ADDRINUSE;
}

int sock_bind(int sd, uint16_t port)
{
	struct sock *s = get(sd);

	if (!s)
		return -E_BADF;
	if (s->type == NET_SOCK_UDP && s->port)
		return -E_INVAL; /* bound already */
	if (port == 0)
		return s->type == NET_SOCK_UDP ? bind_ephemeral(s) : 0;
	struct sock *other = sock_lookup(s->type, port);
	if (other && other != s)
		return -E_ADDRINUSE;
	s->port = port;
	return 0;
}

int sock_sendto(int sd, const void *data, unsigned int len, const struct net_sockaddr *to)
{
	struct sock *s = get(sd);
	int rc;

	if (!s)
		return -E_BADF;
	if (!to || to->addr == 0)
		return -E_INVAL;
	if (s->type == NET_SOCK_UDP) {
		if (len > NET_UDP_MAX)
			return -E_MSGSIZE;
		if (to->port == 0)
			return -E_INVAL;
		if (!s->port && (rc = bind_ephemeral(s)))
			return rc;
		memcpy(tx_frame + NET_UDP_OFF, data, len);
		rc = udp_output(s->port, to->addr, to->port, tx_frame, len);
	} else {
		const uint8_t *m = data;
		if (len > NET_ICMP_MAX)
			return -E_MSGSIZE;
		if (len < ICMP_HLEN || m[0] != 8 || m[1] != 0)
			return -E_INVAL; /* echo requests only */
		uint8_t *icmp = tx_frame + NET_L4_OFF;
		memcpy(icmp, data, len);
		put16(icmp + 2, 0);
		put16(icmp + 4, s->port);
		put16(icmp + 2, net_csum_fold(net_csum_add(0, icmp, len)));
		rc = ip_output(to->addr, IP_PROTO_ICMP, tx_frame, len);
	}
	if (rc == 0) {
		s->tx_datagrams++;
		s->tx_bytes += len;
	}
	return rc;
}

void sock_deliver(struct sock *s, const void *data, unsigned int len, uint32_t src, uint16_t sport,
                  uint8_t ttl)
{
	if (s->count == NET_SOCK_QUEUE || len > SLOT_SIZE - sizeof(struct dgram)) {
		s->rx_dropped++;
		if (s->type == NET_SOCK_UDP)
			net_stats.udp_queue_drops++;
		return;
	}
	struct dgram *d = slot(s, s->head + s->count);
	d->len = (uint16_t)len;
	d->from = (struct net_sockaddr){.addr = src, .port = sport, .ttl = ttl};
	memcpy(d->data, data, len);
	s->count++;
	s->rx_datagrams++;
	s->rx_bytes += len;
	net_wake(s);
}

int sock_recv(int sd, void *buf, unsigned int len, struct net_sockaddr *from)
{
	struct sock *s = get(sd);

	if (!s)
		return -E_BADF;
	if (s->count == 0)
		return -E_AGAIN;
	struct dgram *d = slot(s, s->head);
	unsigned int n = MIN(len, (unsigned int)d->len);
	memcpy(buf, d->data, n);
	if (from)
		*from = d->from;
	s->head = (s->head + 1) % NET_SOCK_QUEUE;
	s->count--;
	return (int)n;
}

int sock_close(int sd)
{
	struct sock *s = get(sd);

	if (!s)
		return -E_BADF;
	net_wake(s);
	release(s);
	return 0;
}

const void *sock_chan(int sd)
{
	return get(sd);
}

int sock_info(int slot_index, struct net_sock_info *info)
{
	if (slot_index < 0 || slot_index >= NET_MAX_SOCKS)
		return -E_NOENT;
	struct sock *s = &socks[slot_index];
	memset(info, 0, sizeof(*info));
	info->sd = slot_index;
	info->type = s->type;
	if (!s->type)
		return 0;
	info->owner_pid = s->owner;
	info->port = s->port;
	info->queued = (uint16_t)s->count;
	info->queue_max = NET_SOCK_QUEUE;
	info->rx_datagrams = s->rx_datagrams;
	info->rx_bytes = s->rx_bytes;
	info->rx_dropped = s->rx_dropped;
	info->tx_datagrams = s->tx_datagrams;
	info->tx_bytes = s->tx_bytes;
	return 0;
}
