/*
 * The network programs of the multi-call binary, over the stack's system calls (uapi-net.h):
 *
 *   ping [-c COUNT] [-i SECONDS] [-s SIZE] [-W SECONDS] A.B.C.D
 *        ICMP echo through an ICMP socket, Linux's output (per reply, then loss and rtt
 *        min/avg/max/mdev); exit 0 if any reply came back. COUNT defaults to 4 (there is no ^C).
 *   udpsend A.B.C.D PORT [-s SIZE] [-t SECONDS | -n COUNT] [-r RATE_KBPS]
 *        sends numbered datagrams (paced to RATE KiB/s if given), then three end markers;
 *        reports datagrams, bytes and KB/s (KB = 1024 bytes, as libvirt's bandwidth units).
 *   udpsink PORT [-t SECONDS]
 *        receives until the end marker, SECONDS, or 3 s of silence after the first datagram;
 *        reports datagrams, bytes, KB/s between the first and the last, and lost datagrams.
 *   ifconfig   the interfaces: MAC, address, MTU, the driver's counters
 *   netstat    the sockets and the stack's counters
 *
 * A numbered datagram starts with the magic "HVUD", its sequence number and flags (all
 * big-endian); the end marker has flag 1 and carries the number of datagrams sent.
 * No floating point here (user programs are built without SSE): times are integer
 * nanoseconds, printed with fixed decimals.
 */
#include "ulib.h"
#include <uapi-net.h>

#define UDP_MAGIC      0x48565544u /* "HVUD" */
#define UDP_FLAG_END   1
#define UDP_HDR        12
#define NS_PER_SEC     1000000000ULL
#define SINK_SILENCE   (3 * NS_PER_SEC)
#define PING_DEFAULT_W 2

/* ---- system calls ---- */
static int net_socket(int type)
{
	return (int)syscall1(SYS_socket, type);
}

static int net_bind(int sd, int port)
{
	return (int)syscall2(SYS_bind, sd, port);
}

static long net_sendto(int sd, const void *buf, size_t len, const struct net_sockaddr *to)
{
	return syscall5(SYS_sendto, sd, (long)buf, (long)len, (long)to, 0);
}

/* deadline: SYS_uptime nanoseconds, 0 = wait for ever; -E_AGAIN when it passed. */
static long net_recvfrom(int sd, void *buf, size_t len, struct net_sockaddr *from,
                         uint64_t deadline)
{
	return syscall5(SYS_recvfrom, sd, (long)buf, (long)len, (long)from, (long)deadline);
}

static int net_close(int sd)
{
	return (int)syscall1(SYS_sockclose, sd);
}

static long net_info(int what, int index, void *buf, size_t len)
{
	return syscall5(SYS_netinfo, what, index, (long)buf, (long)len, 0);
}

/* ---- helpers ---- */
static const char *errname(long err)
{
	switch (-err) {
	case E_NETUNREACH:
		return "Network is unreachable";
	case E_HOSTUNREACH:
		return "No route to host";
	case E_NOBUFS:
		return "No buffer space available";
	case E_MSGSIZE:
		return "Message too long";
	case E_ADDRINUSE:
		return "Address already in use";
	case E_MFILE:
		return "Too many open sockets";
	case E_NOMEM:
		return "Out of memory";
	case E_INVAL:
		return "Invalid argument";
	case E_NOSYS:
		return "No network stack";
	default:
		return "error";
	}
}

static int parse_ip(const char *s, uint32_t *out)
{
	uint32_t a = 0;
	for (int i = 0; i < 4; i++) {
		if (!isdigit(*s))
			return -1;
		unsigned long v = 0;
		int digits = 0;
		while (isdigit(*s) && digits++ < 4)
			v = v * 10 + (unsigned long)(*s++ - '0');
		if (v > 255 || isdigit(*s))
			return -1;
		a = a << 8 | (uint32_t)v;
		if (i < 3 && *s++ != '.')
			return -1;
	}
	if (*s)
		return -1;
	*out = a;
	return 0;
}

static void ip_str(char *buf, size_t size, uint32_t a)
{
	snprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

/* A non-negative decimal with up to 3 fractional digits ("0.2", "5") in thousandths. */
static long parse_milli(const char *s)
{
	long v = 0, frac = 0, scale = 1000;
	if (!isdigit(*s) && *s != '.')
		return -1;
	while (isdigit(*s))
		v = v * 10 + (*s++ - '0');
	if (*s == '.') {
		s++;
		while (isdigit(*s)) {
			if (scale > 1) {
				scale /= 10;
				frac += (*s - '0') * scale;
			}
			s++;
		}
	}
	if (*s || v > 1000000)
		return -1;
	return v * 1000 + frac;
}

static long parse_num(const char *s)
{
	char *end;
	if (!s || !isdigit(*s))
		return -1;
	long v = strtol(s, &end, 10);
	return *end ? -1 : v;
}

static uint64_t isqrt(uint64_t x)
{
	uint64_t r = 0, bit = 1ULL << 62;
	while (bit > x)
		bit >>= 2;
	while (bit) {
		if (x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return r;
}

/* Print nanoseconds as milliseconds with 3 decimals. */
static void print_ms(uint64_t ns)
{
	uint64_t us = ns / 1000;
	printf("%lu.%03lu", (unsigned long)(us / 1000), (unsigned long)(us % 1000));
}

/* bytes over ns as KiB/s with one decimal. */
static void print_rate(uint64_t bytes, uint64_t ns)
{
	uint64_t us = ns / 1000 ? ns / 1000 : 1;
	uint64_t tenths = bytes * 10000000 / 1024 / us;
	printf("%lu.%lu KB/s", (unsigned long)(tenths / 10), (unsigned long)(tenths % 10));
}

static void print_secs(uint64_t ns)
{
	printf("%lu.%03lu s", (unsigned long)(ns / NS_PER_SEC),
	       (unsigned long)(ns / 1000000 % 1000));
}

/* ---- ping ---- */
/* Our address on the subnet of dst (0 if none). */
static uint32_t local_addr_for(uint32_t dst)
{
	struct net_if_info ifi;

	for (int i = 0; net_info(NET_INFO_IF, i, &ifi, sizeof(ifi)) > 0; i++) {
		uint32_t mask = ifi.prefix_len ? ~0u << (32 - ifi.prefix_len) : 0;
		if (ifi.addr && (ifi.addr & mask) == (dst & mask))
			return ifi.addr;
	}
	return 0;
}

int cmd_ping(int argc, char **argv)
{
	long count = 4, size = 56, interval_ms = 1000, wait_ms = PING_DEFAULT_W * 1000;
	const char *host = NULL;
	uint32_t dst;
	int bad = 0;

	for (int i = 1; i < argc && !bad; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-c") == 0 && v && (count = parse_num(v)) > 0)
			i++;
		else if (strcmp(a, "-s") == 0 && v && (size = parse_num(v)) >= 0 &&
		         size <= NET_ICMP_MAX - 8)
			i++;
		else if (strcmp(a, "-i") == 0 && v && (interval_ms = parse_milli(v)) >= 0)
			i++;
		else if (strcmp(a, "-W") == 0 && v && (wait_ms = parse_milli(v)) > 0)
			i++;
		else if (a[0] != '-' && !host)
			host = a;
		else
			bad = 1;
	}
	if (bad || !host || parse_ip(host, &dst) || count <= 0) {
		dprintf(2, "usage: ping [-c COUNT] [-i SECONDS] [-s SIZE] [-W SECONDS] A.B.C.D\n");
		return 2;
	}
	int sd = net_socket(NET_SOCK_ICMP);
	if (sd < 0) {
		dprintf(2, "ping: socket: %s\n", errname(sd));
		return 2;
	}
	uint8_t *msg = malloc(8 + (size_t)size), *reply = malloc(NET_ICMP_MAX);
	struct net_sockaddr to = {.addr = dst}, from;
	long sent = 0, received = 0, errors = 0;
	uint64_t min = ~0ULL, max = 0, sum = 0, sum2 = 0; /* rtt in us */
	uint64_t start = uptime_ns();

	printf("PING %s (%s) %ld(%ld) bytes of data.\n", host, host, size, size + 28);
	for (long seq = 1; seq <= count; seq++) {
		memset(msg, 0, 8);
		msg[0] = 8;
		msg[6] = (uint8_t)(seq >> 8);
		msg[7] = (uint8_t)seq;
		for (long i = 0; i < size; i++)
			msg[8 + i] = (uint8_t)(0x10 + i);
		uint64_t t0 = uptime_ns();
		long rc = net_sendto(sd, msg, 8 + (size_t)size, &to);
		sent++;
		if (rc == -E_HOSTUNREACH) {
			char src[16];
			ip_str(src, sizeof(src), local_addr_for(dst));
			printf("From %s icmp_seq=%ld Destination Host Unreachable\n", src, seq);
			errors++;
		} else if (rc < 0) {
			printf("ping: sendto: %s\n", errname(rc));
			errors++;
		} else {
			uint64_t deadline = t0 + (uint64_t)wait_ms * 1000000;
			for (;;) {
				long n = net_recvfrom(sd, reply, NET_ICMP_MAX, &from, deadline);
				if (n < 0)
					break; /* no reply in time */
				uint64_t rtt = uptime_ns() - t0;
				if (n < 8 || from.addr != dst || reply[6] != msg[6] ||
				    reply[7] != msg[7])
					continue; /* a late reply to an earlier request */
				received++;
				uint64_t us = rtt / 1000;
				min = us < min ? us : min;
				max = us > max ? us : max;
				sum += us;
				sum2 += us * us;
				printf("%ld bytes from %s: icmp_seq=%ld ttl=%u time=", n, host, seq,
				       from.ttl);
				print_ms(rtt);
				printf(" ms\n");
				break;
			}
		}
		if (seq < count) {
			uint64_t next = t0 + (uint64_t)interval_ms * 1000000, now = uptime_ns();
			if (next > now)
				nanosleep_ns(next - now);
		}
	}
	uint64_t elapsed = uptime_ns() - start;
	net_close(sd);
	printf("\n--- %s ping statistics ---\n", host);
	printf("%ld packets transmitted, %ld received, ", sent, received);
	if (errors)
		printf("+%ld errors, ", errors);
	printf("%ld%% packet loss, time %lums\n", sent ? (sent - received) * 100 / sent : 0,
	       (unsigned long)(elapsed / 1000000));
	if (received) {
		uint64_t avg = sum / (uint64_t)received;
		uint64_t mean2 = sum2 / (uint64_t)received;
		uint64_t var = mean2 > avg * avg ? mean2 - avg * avg : 0;
		printf("rtt min/avg/max/mdev = ");
		print_ms(min * 1000);
		printf("/");
		print_ms(avg * 1000);
		printf("/");
		print_ms(max * 1000);
		printf("/");
		print_ms(isqrt(var) * 1000);
		printf(" ms\n");
	}
	free(msg);
	free(reply);
	return received ? 0 : 1;
}

/* ---- udpsend ---- */
static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int cmd_udpsend(int argc, char **argv)
{
	long size = 1024, secs = -1, count = -1, rate = 0;
	uint32_t dst;
	long port = argc > 2 ? parse_num(argv[2]) : -1;
	int bad = argc < 3 || parse_ip(argv[1], &dst) || port <= 0 || port > 65535;

	for (int i = 3; i < argc && !bad; i += 2) {
		long v = i + 1 < argc ? parse_num(argv[i + 1]) : -1;
		if (strcmp(argv[i], "-s") == 0 && v >= UDP_HDR && v <= NET_UDP_MAX)
			size = v;
		else if (strcmp(argv[i], "-t") == 0 && v > 0 && count < 0)
			secs = v;
		else if (strcmp(argv[i], "-n") == 0 && v > 0 && secs < 0)
			count = v;
		else if (strcmp(argv[i], "-r") == 0 && v > 0)
			rate = v;
		else
			bad = 1;
	}
	if (bad) {
		dprintf(2,
		        "usage: udpsend A.B.C.D PORT [-s SIZE (%d-%d)] [-t SECONDS | -n COUNT] "
		        "[-r RATE_KBPS]\n",
		        UDP_HDR, NET_UDP_MAX);
		return 2;
	}
	if (secs < 0 && count < 0)
		secs = 5;
	int sd = net_socket(NET_SOCK_UDP);
	if (sd < 0) {
		dprintf(2, "udpsend: socket: %s\n", errname(sd));
		return 1;
	}
	uint8_t *buf = malloc((size_t)size);
	struct net_sockaddr to = {.addr = dst, .port = (uint16_t)port};
	uint64_t start = uptime_ns(), end = secs > 0 ? start + (uint64_t)secs * NS_PER_SEC : 0;
	uint64_t bytes = 0, sent = 0, errors = 0, now = start;
	long last_err = 0;

	for (long i = 0; i < size; i++)
		buf[i] = (uint8_t)i;
	put_be32(buf, UDP_MAGIC);
	put_be32(buf + 8, 0);
	while (count >= 0 ? (long)sent < count : now < end) {
		if (rate) {
			/* Wait until the budget (RATE KiB/s since the start) covers this datagram.
			 */
			uint64_t allowed = (now - start) / 1000 * (uint64_t)rate * 1024 / 1000000;
			if (bytes + (uint64_t)size > allowed) {
				uint64_t need = bytes + (uint64_t)size - allowed;
				uint64_t wait = need * 1000000 / ((uint64_t)rate * 1024) * 1000;
				nanosleep_ns(wait > 1000000 ? wait : 1000000);
				now = uptime_ns();
				continue;
			}
		}
		put_be32(buf + 4, (uint32_t)sent);
		long rc = net_sendto(sd, buf, (size_t)size, &to);
		if (rc == -E_NOBUFS && (sent || now - start < 3 * NS_PER_SEC)) {
			/* The ARP queue is full while the neighbour is being resolved: wait. */
			nanosleep_ns(1000000);
		} else if (rc < 0) {
			errors++;
			last_err = rc;
			break;
		} else {
			sent++;
			bytes += (uint64_t)size;
		}
		now = uptime_ns();
	}
	uint64_t elapsed = now - start;
	put_be32(buf + 4, (uint32_t)sent);
	put_be32(buf + 8, UDP_FLAG_END);
	for (int i = 0; i < 3; i++) {
		net_sendto(sd, buf, UDP_HDR, &to);
		nanosleep_ns(10000000);
	}
	net_close(sd);
	printf("udpsend: sent %lu datagrams of %ld bytes (%lu bytes) in ", (unsigned long)sent,
	       size, (unsigned long)bytes);
	print_secs(elapsed);
	printf(": ");
	print_rate(bytes, elapsed);
	if (errors)
		printf(", stopped: %s", errname(last_err));
	printf("\n");
	free(buf);
	return sent && !errors ? 0 : 1;
}

/* ---- udpsink ---- */
int cmd_udpsink(int argc, char **argv)
{
	long port = argc > 1 ? parse_num(argv[1]) : -1, secs = 0;
	int bad = port <= 0 || port > 65535;

	for (int i = 2; i < argc && !bad; i += 2) {
		long v = i + 1 < argc ? parse_num(argv[i + 1]) : -1;
		if (strcmp(argv[i], "-t") == 0 && v > 0)
			secs = v;
		else
			bad = 1;
	}
	if (bad) {
		dprintf(2, "usage: udpsink PORT [-t SECONDS]\n");
		return 2;
	}
	int sd = net_socket(NET_SOCK_UDP);
	long rc = sd < 0 ? sd : net_bind(sd, (int)port);
	if (rc < 0) {
		dprintf(2, "udpsink: port %ld: %s\n", port, errname(rc));
		return 1;
	}
	uint8_t *buf = malloc(NET_UDP_MAX);
	struct net_sockaddr from;
	uint64_t start = uptime_ns(), end = secs ? start + (uint64_t)secs * NS_PER_SEC : 0;
	uint64_t first = 0, last = 0, datagrams = 0, bytes = 0, numbered = 0;
	uint32_t min_seq = ~0u, max_seq = 0, end_count = 0;
	bool got_end = false;

	printf("udpsink: listening on port %ld\n", port);
	for (;;) {
		uint64_t deadline = end;
		if (first && (!deadline || last + SINK_SILENCE < deadline))
			deadline = last + SINK_SILENCE;
		long n = net_recvfrom(sd, buf, NET_UDP_MAX, &from, deadline);
		if (n < 0)
			break; /* the time is up, or the sender went quiet */
		uint64_t now = uptime_ns();
		bool marked = n >= UDP_HDR && get_be32(buf) == UDP_MAGIC;
		if (marked && (get_be32(buf + 8) & UDP_FLAG_END)) {
			got_end = true;
			end_count = get_be32(buf + 4);
			break;
		}
		if (!first)
			first = now;
		last = now;
		datagrams++;
		bytes += (uint64_t)n;
		if (marked) {
			uint32_t seq = get_be32(buf + 4);
			numbered++;
			min_seq = seq < min_seq ? seq : min_seq;
			max_seq = seq > max_seq ? seq : max_seq;
		}
	}
	net_close(sd);
	printf("udpsink: received %lu datagrams, %lu bytes in ", (unsigned long)datagrams,
	       (unsigned long)bytes);
	print_secs(last - first);
	printf(": ");
	print_rate(bytes, last - first);
	if (got_end || (numbered && max_seq > min_seq)) { /* else: not a numbered stream */
		uint64_t from_seq = numbered ? min_seq : 0;
		uint64_t expected = got_end ? end_count : (uint64_t)max_seq + 1;
		expected = expected > from_seq ? expected - from_seq : 0;
		uint64_t lost = expected > numbered ? expected - numbered : 0;
		printf(", lost %lu of %lu (%lu%%)%s", (unsigned long)lost, (unsigned long)expected,
		       (unsigned long)(expected ? lost * 100 / expected : 0),
		       got_end ? "" : ", no end marker");
	}
	printf("\n");
	free(buf);
	return datagrams ? 0 : 1;
}

/* ---- ifconfig, netstat ---- */
int cmd_ifconfig(int argc, char **argv)
{
	struct net_if_info ifi;
	char ip[16];
	int n = 0;

	for (int i = 0; net_info(NET_INFO_IF, i, &ifi, sizeof(ifi)) > 0; i++, n++) {
		ip_str(ip, sizeof(ip), ifi.addr);
		printf("eth%d: mac %02x:%02x:%02x:%02x:%02x:%02x inet %s/%u mtu %u %s\n", ifi.index,
		       ifi.mac[0], ifi.mac[1], ifi.mac[2], ifi.mac[3], ifi.mac[4], ifi.mac[5], ip,
		       ifi.prefix_len, ifi.mtu, ifi.up ? "UP" : "DOWN");
		printf("      RX frames %lu bytes %lu dropped %lu\n", (unsigned long)ifi.rx_frames,
		       (unsigned long)ifi.rx_bytes, (unsigned long)ifi.rx_dropped);
		printf("      TX frames %lu bytes %lu dropped %lu\n", (unsigned long)ifi.tx_frames,
		       (unsigned long)ifi.tx_bytes, (unsigned long)ifi.tx_dropped);
	}
	if (n == 0)
		printf("ifconfig: no network interfaces\n");
	return 0;
}

static const char *const stat_names[] = {
#define NET_STAT_NAME(name) #name,
    NET_STATS(NET_STAT_NAME)
#undef NET_STAT_NAME
};

int cmd_netstat(int argc, char **argv)
{
	struct net_sock_info si;
	struct net_stats st;

	printf("Sockets:\n   SD PROTO  PORT   PID QUEUE   RX-DGRAMS    RX-BYTES RX-DROP   "
	       "TX-DGRAMS    TX-BYTES\n");
	for (int i = 0; net_info(NET_INFO_SOCK, i, &si, sizeof(si)) > 0; i++) {
		if (!si.type)
			continue;
		printf("%5d %-5s %5u %5d %2u/%-2u %11lu %11lu %7lu %11lu %11lu\n", si.sd,
		       si.type == NET_SOCK_UDP ? "udp" : "icmp", si.port, si.owner_pid, si.queued,
		       si.queue_max, (unsigned long)si.rx_datagrams, (unsigned long)si.rx_bytes,
		       (unsigned long)si.rx_dropped, (unsigned long)si.tx_datagrams,
		       (unsigned long)si.tx_bytes);
	}
	long rc = net_info(NET_INFO_STATS, 0, &st, sizeof(st));
	if (rc < 0) {
		printf("netstat: %s\n", errname(rc));
		return 1;
	}
	printf("Counters:\n");
	const uint64_t *v = (const uint64_t *)&st;
	for (size_t i = 0; i < ARRAY_SIZE(stat_names); i++)
		printf("  %-22s %lu\n", stat_names[i], (unsigned long)v[i]);
	return 0;
}
