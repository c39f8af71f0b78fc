/*
 * Host unit test of the guest kernel's network stack (guest-kernel/net/, all files but
 * sys_net.c): frames are fed to net_rx() as a driver would, and the frames the stack sends
 * are captured by a netdev_send() stand-in and checked field by field.
 *
 * Covered: ARP (replies for our address only, learning, requests with queued frames and their
 * release, retries and giving up), ICMP echo (answers; ping sockets send requests and receive
 * the matching replies), UDP sockets (bind, ephemeral ports, delivery, the bounded queue and
 * its drop count, checksums), broadcast, two interfaces, a full transmit ring, the address
 * parser, and malformed input: every short, truncated, bad-checksum, fragmented or otherwise
 * wrong frame must be dropped, counted, and answered with nothing. A mutation fuzzer ends it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
/* uapi.h has its own wait-status macros. */
#undef WIFSIGNALED
#undef WTERMSIG
#undef WEXITSTATUS
#include <kernel.h>
#include <klib/string.h>
#include "net_priv.h" /* guest-kernel/net */

static int failures, checks;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                                  \
	} while (0)

/* ---- the environment of the stack ---- */
#define MAX_SENT 64
static struct {
	int dev;
	unsigned int len;
	uint8_t data[ETH_FRAME_MAX + 64];
} sent[MAX_SENT];
static int nsent;
static int ring_full;
static uint64_t now_ns = 1000000000ULL;
static int wakeups;
static const char *cmdline = "console=hvc0 ip=10.77.0.2/24 ip1=192.168.5.9/16 shell";
static int pages_out;

static struct netdev devs[2] = {
    {.index = 0, .mac = {0x00, 0x16, 0x3e, 0x00, 0x00, 0x02}, .mtu = 1500},
    {.index = 1, .mac = {0x00, 0x16, 0x3e, 0x00, 0x01, 0x09}, .mtu = 1500},
};

int netdev_count(void)
{
	return 2;
}

struct netdev *netdev_get(int index)
{
	return index >= 0 && index < 2 ? &devs[index] : NULL;
}

int netdev_send(struct netdev *dev, const void *frame, unsigned int len)
{
	if (ring_full)
		return -E_AGAIN;
	if (len > ETH_FRAME_MAX || len < ETH_HLEN) {
		fprintf(stderr, "netdev_send: bad length %u\n", len);
		failures++;
		return -E_INVAL;
	}
	if (nsent < MAX_SENT) {
		sent[nsent].dev = dev->index;
		sent[nsent].len = len;
		memcpy(sent[nsent].data, frame, len);
	}
	nsent++;
	dev->tx_frames++;
	return 0;
}

void netdev_poll(void)
{
}

uint64_t net_now_ns(void)
{
	return now_ns;
}

void net_wake(const void *chan)
{
	wakeups++;
}

void *net_page_alloc(void)
{
	pages_out++;
	return calloc(1, 4096);
}

void net_page_free(void *page)
{
	pages_out--;
	free(page);
}

const char *net_cmdline(void)
{
	return cmdline;
}

int printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int cmdline_get(const char *line, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	for (const char *p = line; *p;) {
		while (*p == ' ')
			p++;
		const char *w = p;
		while (*p && *p != ' ')
			p++;
		if ((size_t)(p - w) > klen && strncmp(w, key, klen) == 0 && w[klen] == '=') {
			size_t n = (size_t)(p - w) - klen - 1;
			n = n < size - 1 ? n : size - 1;
			memcpy(buf, w + klen + 1, n);
			buf[n] = 0;
			return 0;
		}
	}
	return -1;
}

/* ---- building frames ---- */
#define OUR_IP   0x0a4d0002u /* 10.77.0.2 */
#define PEER_IP  0x0a4d0001u /* 10.77.0.1 */
#define OTHER_IP 0x0a4d0003u
static const uint8_t peer_mac[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01};
static const uint8_t other_mac[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x03};

static unsigned int eth_hdr(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, type);
	return ETH_HLEN;
}

static unsigned int arp_pkt(uint8_t *f, uint16_t op, const uint8_t *smac, uint32_t sip,
                            const uint8_t *tmac, uint32_t tip, const uint8_t *eth_dst)
{
	static const uint8_t zero[6];
	unsigned int o = eth_hdr(f, eth_dst, smac, ETH_TYPE_ARP);
	put16(f + o, 1);
	put16(f + o + 2, 0x0800);
	f[o + 4] = 6;
	f[o + 5] = 4;
	put16(f + o + 6, op);
	memcpy(f + o + 8, smac, 6);
	put32(f + o + 14, sip);
	memcpy(f + o + 18, tmac ? tmac : zero, 6);
	put32(f + o + 24, tip);
	return o + 28;
}

/* An IPv4 frame from the peer to dst with l4 (already filled at f + 34, l4len bytes). */
static unsigned int ip_pkt(uint8_t *f, const uint8_t *eth_dst, uint32_t src, uint32_t dst,
                           uint8_t proto, unsigned int l4len)
{
	eth_hdr(f, eth_dst, peer_mac, ETH_TYPE_IPV4);
	uint8_t *h = f + ETH_HLEN;
	h[0] = 0x45;
	h[1] = 0;
	put16(h + 2, (uint16_t)(20 + l4len));
	put16(h + 4, 0x1234);
	put16(h + 6, 0x4000);
	h[8] = 61;
	h[9] = proto;
	put16(h + 10, 0);
	put32(h + 12, src);
	put32(h + 16, dst);
	put16(h + 10, net_csum_fold(net_csum_add(0, h, 20)));
	return ETH_HLEN + 20 + l4len;
}

static unsigned int icmp_echo(uint8_t *f, uint8_t type, uint16_t id, uint16_t seq,
                              unsigned int datalen, uint32_t src, uint32_t dst)
{
	uint8_t *m = f + 34;
	m[0] = type;
	m[1] = 0;
	put16(m + 2, 0);
	put16(m + 4, id);
	put16(m + 6, seq);
	for (unsigned int i = 0; i < datalen; i++)
		m[8 + i] = (uint8_t)(i * 7 + 1);
	put16(m + 2, net_csum_fold(net_csum_add(0, m, 8 + datalen)));
	return ip_pkt(f, devs[0].mac, src, dst, IP_PROTO_ICMP, 8 + datalen);
}

static uint32_t udp_pseudo(uint32_t src, uint32_t dst, unsigned int len)
{
	uint8_t ph[12];
	put32(ph, src);
	put32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = 17;
	put16(ph + 10, (uint16_t)len);
	return net_csum_add(0, ph, 12);
}

static unsigned int udp_dgram(uint8_t *f, const uint8_t *eth_dst, uint32_t src, uint32_t dst,
                              uint16_t sport, uint16_t dport, const void *data, unsigned int len,
                              bool with_csum)
{
	uint8_t *u = f + 34;
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + len));
	put16(u + 6, 0);
	memcpy(u + 8, data, len);
	if (with_csum) {
		uint16_t c = net_csum_fold(net_csum_add(udp_pseudo(src, dst, 8 + len), u, 8 + len));
		put16(u + 6, c ? c : 0xffff);
	}
	return ip_pkt(f, eth_dst, src, dst, IP_PROTO_UDP, 8 + len);
}

static void feed(int dev, const uint8_t *f, unsigned int len)
{
	net_rx(&devs[dev], f, len);
}

/* Check that a sent IPv4 frame is well formed; returns its L4 part and length. */
static const uint8_t *check_ip(int i, uint8_t proto, uint32_t src, uint32_t dst,
                               unsigned int *l4len)
{
	const uint8_t *f = sent[i].data, *h = f + ETH_HLEN;
	CHECK(get16(f + 12) == ETH_TYPE_IPV4);
	CHECK(h[0] == 0x45);
	CHECK(get16(h + 2) == sent[i].len - ETH_HLEN);
	CHECK(net_csum_fold(net_csum_add(0, h, 20)) == 0);
	CHECK((get16(h + 6) & 0x3fff) == 0);
	CHECK(h[8] == 64);
	CHECK(h[9] == proto);
	CHECK(get32(h + 12) == src);
	CHECK(get32(h + 16) == dst);
	*l4len = get16(h + 2) - 20u;
	return h + 20;
}

/* ---- the tests ---- */
static void test_parse(void)
{
	uint32_t a;
	int p;
	CHECK(net_parse_addr("10.77.0.2/24", &a, &p) == 0 && a == OUR_IP && p == 24);
	CHECK(net_parse_addr("255.255.255.255", &a, NULL) == 0 && a == 0xffffffffu);
	CHECK(net_parse_addr("1.2.3.4", &a, &p) == 0 && p == 32);
	CHECK(net_parse_addr("1.2.3.4/", &a, &p) != 0);
	CHECK(net_parse_addr("1.2.3.4/33", &a, &p) != 0);
	CHECK(net_parse_addr("1.2.3.4/24", &a, NULL) != 0);
	CHECK(net_parse_addr("1.2.3", &a, &p) != 0);
	CHECK(net_parse_addr("1.2.3.4.5", &a, &p) != 0);
	CHECK(net_parse_addr("256.1.1.1", &a, &p) != 0);
	CHECK(net_parse_addr("01234.1.1.1", &a, &p) != 0);
	CHECK(net_parse_addr("", &a, &p) != 0);
	CHECK(net_parse_addr("a.b.c.d", &a, &p) != 0);
	CHECK(net_parse_addr("1..2.3", &a, &p) != 0);
}

static void test_up(void)
{
	struct net_if_info info;
	net_dev_up(&devs[0]);
	net_dev_up(&devs[1]);
	struct net_if *n0 = net_if_get(0), *n1 = net_if_get(1);
	CHECK(n0 && n0->addr == OUR_IP && n0->mask == 0xffffff00u && n0->prefix_len == 24);
	CHECK(n1 && n1->addr == 0xc0a80509u && n1->mask == 0xffff0000u);
	CHECK(net_if_get(2) == NULL && net_if_get(-1) == NULL);
	CHECK(net_if_info(0, &info) == 0 && info.up && info.addr == OUR_IP &&
	      info.prefix_len == 24 && info.mtu == 1500 && info.mac[5] == 2);
	CHECK(net_if_info(2, &info) == -E_NOENT);
	CHECK(ip_route(PEER_IP) == n0 && ip_route(0xc0a8ff01u) == n1 &&
	      ip_route(0x08080808) == NULL);
}

static void test_arp(void)
{
	uint8_t f[128], mac[6];

	/* A request for another address: nothing sent, nothing learnt. */
	nsent = 0;
	unsigned int n = arp_pkt(f, 1, other_mac, OTHER_IP, NULL, 0x0a4d0063u, eth_broadcast);
	feed(0, f, n);
	CHECK(nsent == 0);
	CHECK(arp_lookup(OTHER_IP, mac) != 0);

	/* A request for us: one reply to the asker, and the asker learnt. */
	uint64_t replies = net_stats.arp_replies_tx;
	n = arp_pkt(f, 1, peer_mac, PEER_IP, NULL, OUR_IP, eth_broadcast);
	feed(0, f, n);
	CHECK(nsent == 1);
	CHECK(net_stats.arp_replies_tx == replies + 1);
	const uint8_t *r = sent[0].data;
	CHECK(sent[0].len == 42 && sent[0].dev == 0);
	CHECK(memcmp(r, peer_mac, 6) == 0 && memcmp(r + 6, devs[0].mac, 6) == 0);
	CHECK(get16(r + 12) == ETH_TYPE_ARP);
	CHECK(get16(r + 14) == 1 && get16(r + 16) == 0x0800 && r[18] == 6 && r[19] == 4);
	CHECK(get16(r + 20) == 2);
	CHECK(memcmp(r + 22, devs[0].mac, 6) == 0 && get32(r + 28) == OUR_IP);
	CHECK(memcmp(r + 32, peer_mac, 6) == 0 && get32(r + 38) == PEER_IP);
	CHECK(arp_lookup(PEER_IP, mac) == 0 && memcmp(mac, peer_mac, 6) == 0);

	/* Padded to the Ethernet minimum (60 bytes) is fine too. */
	nsent = 0;
	memset(f + n, 0, 60 - n);
	feed(0, f, 60);
	CHECK(nsent == 1);

	/* The same request on interface 1 (other subnet): not for us there. */
	nsent = 0;
	feed(1, f, n);
	CHECK(nsent == 0);
}

static void test_icmp_echo(void)
{
	uint8_t f[ETH_FRAME_MAX];
	unsigned int l4len;

	for (unsigned int datalen = 0; datalen <= 1472; datalen += 1472 / 4) {
		nsent = 0;
		unsigned int n = icmp_echo(f, 8, 0x77, (uint16_t)datalen, datalen, PEER_IP, OUR_IP);
		feed(0, f, n);
		CHECK(nsent == 1);
		CHECK(memcmp(sent[0].data, peer_mac, 6) == 0);
		const uint8_t *m = check_ip(0, IP_PROTO_ICMP, OUR_IP, PEER_IP, &l4len);
		CHECK(l4len == 8 + datalen);
		CHECK(m[0] == 0 && m[1] == 0);
		CHECK(get16(m + 4) == 0x77 && get16(m + 6) == datalen);
		CHECK(net_csum_fold(net_csum_add(0, m, l4len)) == 0);
		CHECK(memcmp(m + 8, f + 42, datalen) == 0);
	}
	/* Echo to the broadcast address: not answered. */
	nsent = 0;
	unsigned int n = icmp_echo(f, 8, 1, 1, 8, PEER_IP, 0x0a4d00ffu);
	feed(0, f, n);
	CHECK(nsent == 0);
	/* Other ICMP types: ignored. */
	n = icmp_echo(f, 13, 1, 1, 12, PEER_IP, OUR_IP);
	feed(0, f, n);
	CHECK(nsent == 0);
}

static void test_udp(void)
{
	uint8_t f[ETH_FRAME_MAX], buf[2048];
	struct net_sockaddr from;
	int sd = sock_open(NET_SOCK_UDP, 42);

	CHECK(sd >= 0 && sock_owner(sd) == 42);
	CHECK(sock_open(99, 1) == -E_INVAL);
	CHECK(sock_bind(sd, 5001) == 0);
	CHECK(sock_bind(sd, 5002) == -E_INVAL);
	int sd2 = sock_open(NET_SOCK_UDP, 43);
	CHECK(sock_bind(sd2, 5001) == -E_ADDRINUSE);
	CHECK(sock_recv(sd, buf, sizeof(buf), &from) == -E_AGAIN);

	/* Delivery, with and without checksum, wakes the socket. */
	int w = wakeups;
	unsigned int n = udp_dgram(f, devs[0].mac, PEER_IP, OUR_IP, 40000, 5001, "hello", 5, true);
	nsent = 0;
	feed(0, f, n);
	n = udp_dgram(f, devs[0].mac, PEER_IP, OUR_IP, 40001, 5001, "world!", 6, false);
	feed(0, f, n);
	CHECK(nsent == 0 && wakeups == w + 2);
	CHECK(sock_recv(sd, buf, sizeof(buf), &from) == 5 && memcmp(buf, "hello", 5) == 0);
	CHECK(from.addr == PEER_IP && from.port == 40000 && from.ttl == 61);
	CHECK(sock_recv(sd, buf, 3, &from) == 3 && memcmp(buf, "wor", 3) == 0 &&
	      from.port == 40001);
	CHECK(sock_recv(sd, buf, sizeof(buf), &from) == -E_AGAIN);

	/* The largest datagram, and to the subnet broadcast address. */
	uint8_t big[NET_UDP_MAX];
	for (unsigned int i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i ^ 0x5a);
	n = udp_dgram(f, eth_broadcast, PEER_IP, 0x0a4d00ffu, 7, 5001, big, sizeof(big), true);
	CHECK(n == ETH_FRAME_MAX);
	feed(0, f, n);
	CHECK(sock_recv(sd, buf, sizeof(buf), &from) == NET_UDP_MAX &&
	      memcmp(buf, big, sizeof(big)) == 0);

	/* No socket on the port: counted. */
	uint64_t noport = net_stats.udp_no_port;
	n = udp_dgram(f, devs[0].mac, PEER_IP, OUR_IP, 1, 5999, "x", 1, true);
	feed(0, f, n);
	CHECK(net_stats.udp_no_port == noport + 1 && nsent == 0);

	/* The queue holds NET_SOCK_QUEUE datagrams; the rest are dropped and counted. */
	struct net_sock_info si;
	uint64_t qdrops = net_stats.udp_queue_drops;
	for (uint32_t i = 0; i < NET_SOCK_QUEUE + 10; i++) {
		uint8_t seq[4];
		put32(seq, i);
		n = udp_dgram(f, devs[0].mac, PEER_IP, OUR_IP, 9, 5001, seq, 4, true);
		feed(0, f, n);
	}
	CHECK(net_stats.udp_queue_drops == qdrops + 10);
	CHECK(sock_info(sd, &si) == 0 && si.type == NET_SOCK_UDP && si.port == 5001 &&
	      si.queued == NET_SOCK_QUEUE && si.rx_dropped == 10 && si.owner_pid == 42);
	for (uint32_t i = 0; i < NET_SOCK_QUEUE; i++)
		CHECK(sock_recv(sd, buf, sizeof(buf), NULL) == 4 && get32(buf) == i);
	CHECK(sock_recv(sd, buf, sizeof(buf), NULL) == -E_AGAIN);

	/* Sending to a known neighbour: one well-formed datagram. */
	struct net_sockaddr to = {.addr = PEER_IP, .port = 6000};
	nsent = 0;
	CHECK(sock_sendto(sd, "ping!", 5, &to) == 0);
	CHECK(nsent == 1);
	unsigned int l4len;
	const uint8_t *u = check_ip(0, IP_PROTO_UDP, OUR_IP, PEER_IP, &l4len);
	CHECK(memcmp(sent[0].data, peer_mac, 6) == 0);
	CHECK(l4len == 13 && get16(u) == 5001 && get16(u + 2) == 6000 && get16(u + 4) == 13);
	CHECK(get16(u + 6) != 0);
	CHECK(net_csum_fold(net_csum_add(udp_pseudo(OUR_IP, PEER_IP, 13), u, 13)) == 0);
	CHECK(memcmp(u + 8, "ping!", 5) == 0);

	/* Bad sends. */
	CHECK(sock_sendto(sd, big, NET_UDP_MAX + 1, &to) == -E_MSGSIZE);
	to.port = 0;
	CHECK(sock_sendto(sd, "x", 1, &to) == -E_INVAL);
	to = (struct net_sockaddr){.addr = 0x08080808, .port = 53};
	CHECK(sock_sendto(sd, "x", 1, &to) == -E_NETUNREACH);
	CHECK(sock_sendto(77, "x", 1, &to) == -E_BADF);

	/* An unbound socket gets an ephemeral port when it sends. */
	to = (struct net_sockaddr){.addr = PEER_IP, .port = 6000};
	nsent = 0;
	CHECK(sock_sendto(sd2, "e", 1, &to) == 0 && nsent == 1);
	CHECK(sock_info(sd2, &si) == 0 && si.port >= NET_EPHEMERAL_MIN && si.tx_datagrams == 1);
	CHECK(get16(sent[0].data + 34) == si.port);

	/* A full ring: nothing sent, -E_AGAIN, counted; then it works again. */
	uint64_t full = net_stats.tx_ring_full;
	ring_full = 1;
	CHECK(sock_sendto(sd2, "e", 1, &to) == -E_AGAIN);
	ring_full = 0;
	CHECK(net_stats.tx_ring_full == full + 1);
	CHECK(sock_sendto(sd2, "e", 1, &to) == 0);

	int pages = pages_out;
	CHECK(sock_close(sd) == 0 && sock_close(sd2) == 0);
	CHECK(pages_out == pages - 2 * (NET_SOCK_QUEUE / 2));
	CHECK(sock_close(sd) == -E_BADF && sock_owner(sd) == -1);
	/* After close the port is free and datagrams to it are not delivered. */
	n = udp_dgram(f, devs[0].mac, PEER_IP, OUR_IP, 1, 5001, "x", 1, true);
	noport = net_stats.udp_no_port;
	feed(0, f, n);
	CHECK(net_stats.udp_no_port == noport + 1);
}

static void test_arp_resolution(void)
{
	uint8_t f[128], mac[6];
	int sd = sock_open(NET_SOCK_UDP, 1);
	struct net_sockaddr to = {.addr = OTHER_IP, .port = 7};

	/* Unknown neighbour: an ARP request goes out, the datagram waits. */
	nsent = 0;
	CHECK(sock_sendto(sd, "queued", 6, &to) == 0);
	CHECK(nsent == 1);
	const uint8_t *r = sent[0].data;
	CHECK(memcmp(r, eth_broadcast, 6) == 0 && get16(r + 12) == ETH_TYPE_ARP);
	CHECK(get16(r + 20) == 1 && get32(r + 28) == OUR_IP && get32(r + 38) == OTHER_IP);
	/* A second datagram soon after: queued, no second request. */
	CHECK(sock_sendto(sd, "second", 6, &to) == 0 && nsent == 1);

	/* The reply releases both, addressed to the neighbour's MAC. */
	unsigned int n = arp_pkt(f, 2, other_mac, OTHER_IP, devs[0].mac, OUR_IP, devs[0].mac);
	feed(0, f, n);
	CHECK(nsent == 3);
	CHECK(memcmp(sent[1].data, other_mac, 6) == 0 && memcmp(sent[2].data, other_mac, 6) == 0);
	CHECK(memcmp(sent[1].data + 42, "queued", 6) == 0);
	CHECK(memcmp(sent[2].data + 42, "second", 6) == 0);
	CHECK(arp_lookup(OTHER_IP, mac) == 0);

	/* Nobody answers for .4: requests once a second, at most three, then it gives up: the
	 * waiting frames are dropped and sends fail for 3 s, then a new round of requests. */
	to.addr = 0x0a4d0004u;
	nsent = 0;
	uint64_t timeouts = net_stats.arp_timeouts, drops = net_stats.arp_queue_drops;
	for (int i = 0; i < 3; i++) {
		CHECK(sock_sendto(sd, "lost", 4, &to) == 0);
		now_ns += 1100000000ULL;
	}
	CHECK(nsent == 3);
	CHECK(sock_sendto(sd, "lost", 4, &to) == -E_HOSTUNREACH);
	CHECK(net_stats.arp_timeouts == timeouts + 1);
	CHECK(net_stats.arp_queue_drops == drops + 3);
	now_ns += 2000000000ULL;
	CHECK(sock_sendto(sd, "lost", 4, &to) == -E_HOSTUNREACH);
	CHECK(nsent == 3);
	now_ns += 1100000000ULL;
	CHECK(sock_sendto(sd, "again", 5, &to) == 0);
	CHECK(nsent == 4 && get16(sent[3].data + 12) == ETH_TYPE_ARP);
	/* The queue is bounded. */
	for (int i = 0; i < 20; i++)
		sock_sendto(sd, "flood", 5, &to);
	CHECK(net_stats.arp_queue_drops > drops + 3 + 5);

	/* Entries expire: after 60 s the peer is asked again. */
	now_ns += 61ULL * 1000000000;
	to.addr = OTHER_IP;
	nsent = 0;
	CHECK(sock_sendto(sd, "again", 5, &to) == 0);
	CHECK(nsent == 1 && get16(sent[0].data + 12) == ETH_TYPE_ARP);
	n = arp_pkt(f, 2, other_mac, OTHER_IP, devs[0].mac, OUR_IP, devs[0].mac);
	feed(0, f, n);
	CHECK(nsent == 2 && memcmp(sent[1].data + 42, "again", 5) == 0);
	/* A reply nobody asked for does not create an entry. */
	n = arp_pkt(f, 2, peer_mac, 0x0a4d0042u, devs[0].mac, OUR_IP - 1, devs[0].mac);
	feed(0, f, n);
	CHECK(arp_lookup(0x0a4d0042u, mac) != 0);
	sock_close(sd);

	/* Re-learn the peer for the later tests. */
	n = arp_pkt(f, 1, peer_mac, PEER_IP, NULL, OUR_IP, eth_broadcast);
	feed(0, f, n);
}

static void test_ping_socket(void)
{
	uint8_t f[ETH_FRAME_MAX], msg[64], buf[128];
	struct net_sockaddr to = {.addr = PEER_IP}, from;
	int sd = sock_open(NET_SOCK_ICMP, 5), sd2 = sock_open(NET_SOCK_ICMP, 6);
	struct net_sock_info si, si2;

	CHECK(sd >= 0 && sd2 >= 0);
	CHECK(sock_info(sd, &si) == 0 && sock_info(sd2, &si2) == 0 && si.port != si2.port);
	memset(msg, 0, sizeof(msg));
	msg[0] = 8;
	put16(msg + 6, 3);
	memcpy(msg + 8, "timestamp-and-data", 18);
	nsent = 0;
	CHECK(sock_sendto(sd, msg, 26, &to) == 0);
	CHECK(nsent == 1);
	unsigned int l4len;
	const uint8_t *m = check_ip(0, IP_PROTO_ICMP, OUR_IP, PEER_IP, &l4len);
	CHECK(l4len == 26 && m[0] == 8 && get16(m + 4) == si.port && get16(m + 6) == 3);
	CHECK(net_csum_fold(net_csum_add(0, m, l4len)) == 0);
	/* To our own address: answered and delivered without a frame on the wire. */
	struct net_sockaddr self = {.addr = OUR_IP};
	msg[0] = 8;
	nsent = 0;
	CHECK(sock_sendto(sd, msg, 26, &self) == 0 && nsent == 0);
	CHECK(sock_recv(sd, buf, sizeof(buf), &from) == 26);
	CHECK(buf[0] == 0 && get16(buf + 4) == si.port && from.addr == OUR_IP && from.ttl == 64);
	int usd = sock_open(NET_SOCK_UDP, 5);
	CHECK(sock_bind(usd, 7777) == 0);
	self.port = 7777;
	CHECK(sock_sendto(usd, "me", 2, &self) == 0 && nsent == 0);
	CHECK(sock_recv(usd, buf, sizeof(buf), &from) == 2 && from.port == 7777);
	sock_close(usd);
	/* Only echo requests may be sent. */
	msg[0] = 0;
	CHECK(sock_sendto(sd, msg, 26, &to) == -E_INVAL);
	CHECK(sock_sendto(sd, msg, 4, &to) == -E_INVAL);

	/* The reply reaches the socket with its identifier, not the other one. */
	unsigned int n = icmp_echo(f, 0, si.port, 3, 18, PEER_IP, OUR_IP);
	feed(0, f, n);
	CHECK(sock_recv(sd2, buf, sizeof(buf), &from) == -E_AGAIN);
	CHECK(sock_recv(sd, buf, sizeof(buf), &from) == 26);
	CHECK(buf[0] == 0 && get16(buf + 6) == 3 && from.addr == PEER_IP && from.ttl == 61);
	/* A reply with an unknown identifier is counted and dropped. */
	uint64_t unmatched = net_stats.icmp_unmatched;
	n = icmp_echo(f, 0, (uint16_t)(si.port + 1000), 3, 18, PEER_IP, OUR_IP);
	feed(0, f, n);
	CHECK(net_stats.icmp_unmatched == unmatched + 1);
	sock_close(sd);
	sock_close(sd2);
}

/* Every one of these must be dropped without an answer and without delivery. */
static void test_malformed(void)
{
	uint8_t f[ETH_FRAME_MAX + 8], g[ETH_FRAME_MAX + 8], buf[2048];
	int sd = sock_open(NET_SOCK_UDP, 1);
	sock_bind(sd, 5001);
	unsigned int n;

#define DROPPED(counter, make)                                                                     \
	do {                                                                                       \
		uint64_t before = net_stats.counter;                                               \
		nsent = 0;                                                                         \
		make;                                                                              \
		CHECK(nsent == 0);                                                                 \
		CHECK(net_stats.counter == before + 1);                                            \
		CHECK(sock_recv(sd, buf, sizeof(buf), NULL) == -E_AGAIN);                          \
	} while (0)

	/* Ethernet. */
	for (unsigned int len = 0; len < ETH_HLEN; len++)
		DROPPED(eth_short, feed(0, f, len));
	DROPPED(eth_short, net_rx(&devs[0], NULL, 0));
	n = icmp_echo(f, 8, 1, 1, 8, PEER_IP, OUR_IP);
	memcpy(g, f, n);
	memcpy(g, other_mac, 6);
	DROPPED(eth_not_ours, feed(0, g, n));
	g[0] = 0x01; /* multicast */
	DROPPED(eth_not_ours, feed(0, g, n));
	memcpy(g, f, n);
	put16(g + 12, 0x86dd);
	DROPPED(eth_unknown_type, feed(0, g, n));
	/* A frame on an interface the stack was never told about. */
	struct netdev stray = {.index = 3};
	DROPPED(eth_not_ours, net_rx(&stray, f, n));

	/* ARP. */
	n = arp_pkt(f, 1, peer_mac, PEER_IP, NULL, OUR_IP, eth_broadcast);
	for (unsigned int len = ETH_HLEN; len < n; len++)
		DROPPED(arp_bad, feed(0, f, len));
	memcpy(g, f, n);
	g[18] = 8; /* hlen */
	DROPPED(arp_bad, feed(0, g, n));
	memcpy(g, f, n);
	put16(g + 16, 0x86dd);
	DROPPED(arp_bad, feed(0, g, n));
	memcpy(g, f, n);
	put16(g + 20, 3); /* op */
	DROPPED(arp_bad, feed(0, g, n));
	memcpy(g, f, n);
	g[22] |= 1; /* multicast sender */
	DROPPED(arp_bad, feed(0, g, n));
	memcpy(g, f, n);
	put32(g + 28, 0xffffffffu); /* broadcast sender */
	DROPPED(arp_bad, feed(0, g, n));
	memcpy(g, f, n);
	put32(g + 28, OUR_IP); /* someone claims our address */
	DROPPED(arp_bad, feed(0, g, n));

	/* IPv4 header. */
	n = udp_dgram(f, devs[0].mac, PEER_IP, OUR_IP, 1, 5001, "data", 4, true);
	for (unsigned int len = ETH_HLEN; len < ETH_HLEN + 20; len++)
		DROPPED(ip_bad_header, feed(0, f, len));
	for (unsigned int len = ETH_HLEN + 20; len < n; len++)
		DROPPED(ip_bad_header, feed(0, f, len)); /* total length beyond the frame */
	memcpy(g, f, n);
	g[14] = 0x65; /* version 6 */
	DROPPED(ip_bad_header, feed(0, g, n));
	memcpy(g, f, n);
	g[14] = 0x44; /* IHL 4 */
	DROPPED(ip_bad_header, feed(0, g, n));
	memcpy(g, f, n);
	g[14] = 0x4f; /* IHL 15: beyond the total length */
	DROPPED(ip_bad_header, feed(0, g, n));
	memcpy(g, f, n);
	put16(g + 16, 19); /* total length below the header */
	DROPPED(ip_bad_header, feed(0, g, n));
	memcpy(g, f, n);
	g[22] ^= 0x10; /* TTL changed, checksum not */
	DROPPED(ip_bad_checksum, feed(0, g, n));
	for (int k = 0; k < 2; k++) {
		memcpy(g, f, n);
		put16(g + 20, k ? 0x2000 : 0x0010); /* MF; fragment offset */
		put16(g + 24, 0);
		put16(g + 24, net_csum_fold(net_csum_add(0, g + 14, 20)));
		DROPPED(ip_fragments, feed(0, g, n));
	}
	memcpy(g, f, n);
	put32(g + 30, OTHER_IP); /* not our address */
	put16(g + 24, 0);
	put16(g + 24, net_csum_fold(net_csum_add(0, g + 14, 20)));
	DROPPED(ip_not_ours, feed(0, g, n));
	memcpy(g, f, n);
	memcpy(g, eth_broadcast, 6); /* unicast IP in a broadcast frame */
	DROPPED(ip_not_ours, feed(0, g, n));
	memcpy(g, f, n);
	g[23] = 6; /* TCP */
	put16(g + 24, 0);
	put16(g + 24, net_csum_fold(net_csum_add(0, g + 14, 20)));
	DROPPED(ip_unknown_proto, feed(0, g, n));

	/* UDP. */
	memcpy(g, f, n);
	g[42] ^= 1; /* data changed, checksum not */
	DROPPED(udp_bad_checksum, feed(0, g, n));
	memcpy(g, f, n);
	put16(g + 38, 200); /* UDP length beyond the IP payload */
	DROPPED(udp_bad, feed(0, g, n));
	memcpy(g, f, n);
	put16(g + 38, 7); /* below its header */
	DROPPED(udp_bad, feed(0, g, n));
	n = ip_pkt(g, devs[0].mac, PEER_IP, OUR_IP, IP_PROTO_UDP, 6); /* shorter than a header */
	DROPPED(udp_bad, feed(0, g, n));

	/* ICMP. */
	n = icmp_echo(f, 8, 1, 1, 32, PEER_IP, OUR_IP);
	memcpy(g, f, n);
	g[50] ^= 0xff;
	DROPPED(icmp_bad, feed(0, g, n));
	n = ip_pkt(g, devs[0].mac, PEER_IP, OUR_IP, IP_PROTO_ICMP, 4);
	DROPPED(icmp_bad, feed(0, g, n));
#undef DROPPED
	sock_close(sd);
}

/* Random mutations of valid frames: whatever happens, nothing crashes, every frame sent is a
 * valid length, and the stack still answers afterwards. */
static void test_fuzz(void)
{
	uint8_t base[4][ETH_FRAME_MAX], f[ETH_FRAME_MAX];
	unsigned int blen[4];
	int sd = sock_open(NET_SOCK_UDP, 1);
	sock_bind(sd, 5001);

	blen[0] = arp_pkt(base[0], 1, peer_mac, PEER_IP, NULL, OUR_IP, eth_broadcast);
	blen[1] = icmp_echo(base[1], 8, 9, 9, 100, PEER_IP, OUR_IP);
	blen[2] = udp_dgram(base[2], devs[0].mac, PEER_IP, OUR_IP, 1, 5001, "fuzz", 4, true);
	blen[3] = udp_dgram(base[3], devs[0].mac, PEER_IP, OUR_IP, 1, 5001, "fuzz", 4, false);
	srand(12345);
	for (int iter = 0; iter < 200000; iter++) {
		int k = rand() % 4;
		unsigned int len = blen[k];
		memcpy(f, base[k], len);
		int flips = 1 + rand() % 4;
		for (int i = 0; i < flips; i++)
			f[12 + rand() % (int)(len - 12)] ^= (uint8_t)(1 + rand() % 255);
		if (rand() % 4 == 0)
			len = (unsigned int)rand() % (len + 1);
		nsent = 0;
		feed(0, f, len);
		uint8_t buf[2048];
		while (sock_recv(sd, buf, sizeof(buf), NULL) >= 0)
			;
	}
	nsent = 0;
	feed(0, base[1], blen[1]);
	CHECK(nsent == 1);
	sock_close(sd);
}

int main(void)
{
	test_parse();
	test_up();
	test_arp();
	test_icmp_echo();
	test_udp();
	test_arp_resolution();
	test_ping_socket();
	test_malformed();
	test_fuzz();
	CHECK(pages_out == 0);
	printf("test_net: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
