/*
 * udpflood: the host's side of the UDP benchmark (bench/io/run).
 *
 *   udpflood send ADDR PORT SIZE SECONDS   datagrams of SIZE bytes as fast as sendto goes
 *   udpflood sink ADDR PORT SECONDS        receive until an end marker, SECONDS, or 3 s of
 *                                          silence after the first datagram
 *   udpflood loop SIZE SECONDS             both at once over 127.0.0.1 (a child sinks)
 *
 * The datagrams are numbered as the guest's udpsend numbers them (guest-kernel/user/net.c):
 * "HVUD", the sequence number and flags, big-endian; the end marker has flag 1 and carries the
 * count sent. So the guest's udpsend can be sunk here and this sender sunk by the guest's
 * udpsink. The sender does what the guest's does, one sendto per datagram without pacing, so
 * that the loopback figure is the host doing the same work as the guest.
 *
 * Each side prints one line with counts, the seconds between the first and the last datagram
 * (sink) or of sending (send), and MB/s (10^6 bytes/s of UDP payload):
 *   udpflood sink: datagrams N bytes B seconds S rate R MB/s lost L
 *   udpflood send: datagrams N bytes B seconds S rate R MB/s errors E
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define UDP_MAGIC    0x48565544u /* "HVUD" */
#define UDP_FLAG_END 1
#define UDP_HDR      12
#define SIZE_MAX_UDP 65507
#define SILENCE_MS   3000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int address(const char *addr, const char *port, struct sockaddr_in *sa)
{
	char *end;
	long p = strtol(port, &end, 10);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (*end || p <= 0 || p > 65535 || inet_pton(AF_INET, addr, &sa->sin_addr) != 1) {
		fprintf(stderr, "udpflood: bad address %s:%s\n", addr, port);
		return -1;
	}
	sa->sin_port = htons((uint16_t)p);
	return 0;
}

static int sink(int sd, double seconds)
{
	static unsigned char buf[SIZE_MAX_UDP + 1];
	unsigned long long datagrams = 0, bytes = 0;
	uint32_t end_count = 0, max_seq = 0;
	double start = now_s(), first = 0, last = 0;
	int got_end = 0;

	struct timeval tick = {.tv_sec = 0, .tv_usec = 100000};

	/* A blocking recv per datagram (one system call, as the guest's udpsink makes); the
	 * timeout only lets the deadlines be checked. */
	setsockopt(sd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof(tick));
	for (;;) {
		double t = now_s(), deadline = start + seconds;
		ssize_t n;

		if (first && last + SILENCE_MS / 1000.0 < deadline)
			deadline = last + SILENCE_MS / 1000.0;
		if (t >= deadline)
			break;
		n = recv(sd, buf, sizeof(buf), 0);
		if (n < 0)
			continue;
		if (n >= UDP_HDR && get_be32(buf) == UDP_MAGIC &&
		    (get_be32(buf + 8) & UDP_FLAG_END)) {
			got_end = 1;
			end_count = get_be32(buf + 4);
			break;
		}
		last = now_s();
		if (!first)
			first = last;
		datagrams++;
		bytes += (unsigned long long)n;
		if (n >= UDP_HDR && get_be32(buf) == UDP_MAGIC && get_be32(buf + 4) > max_seq)
			max_seq = get_be32(buf + 4);
	}
	double secs = last - first;
	unsigned long long expected = got_end ? end_count : (datagrams ? max_seq + 1ULL : 0);
	printf("udpflood sink: datagrams %llu bytes %llu seconds %.6f rate %.3f MB/s lost %lld%s\n",
	       datagrams, bytes, secs, secs > 0 ? (double)bytes / secs / 1e6 : 0.0,
	       (long long)expected - (long long)datagrams, got_end ? "" : " (no end marker)");
	fflush(stdout);
	return datagrams ? 0 : 1;
}

static int send_for(int sd, const struct sockaddr_in *to, long size, double seconds)
{
	unsigned char *buf = calloc(1, (size_t)size);
	unsigned long long sent = 0, errors = 0;
	double start = now_s(), t = start;
	long i;

	if (!buf)
		return 1;
	for (i = 0; i < size; i++)
		buf[i] = (unsigned char)i;
	put_be32(buf, UDP_MAGIC);
	put_be32(buf + 8, 0);
	while (t - start < seconds) {
		put_be32(buf + 4, (uint32_t)sent);
		if (sendto(sd, buf, (size_t)size, 0, (const struct sockaddr *)to, sizeof(*to)) ==
		    size)
			sent++;
		else
			errors++;
		if ((sent & 15) == 0)
			t = now_s();
	}
	t = now_s() - start;
	put_be32(buf + 4, (uint32_t)sent);
	put_be32(buf + 8, UDP_FLAG_END);
	for (i = 0; i < 3; i++) {
		usleep(10000);
		sendto(sd, buf, UDP_HDR, 0, (const struct sockaddr *)to, sizeof(*to));
	}
	printf("udpflood send: datagrams %llu bytes %llu seconds %.6f rate %.3f MB/s errors %llu\n",
	       sent, sent * (unsigned long long)size, t, (double)(sent * size) / t / 1e6, errors);
	fflush(stdout);
	free(buf);
	return sent ? 0 : 1;
}

static int bound_socket(const struct sockaddr_in *sa)
{
	int sd = socket(AF_INET, SOCK_DGRAM, 0);

	if (sd < 0 || bind(sd, (const struct sockaddr *)sa, sizeof(*sa)) != 0) {
		fprintf(stderr, "udpflood: bind %s:%u: %s\n", inet_ntoa(sa->sin_addr),
		        ntohs(sa->sin_port), strerror(errno));
		return -1;
	}
	return sd;
}

static int loop(long size, double seconds)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int sd, out, status;
	pid_t child;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((sd = bound_socket(&sa)) < 0 || getsockname(sd, (struct sockaddr *)&sa, &len) != 0)
		return 1;
	fflush(stdout);
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0)
		_exit(sink(sd, seconds + 10));
	close(sd);
	if ((out = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		return 1;
	usleep(100000); /* the child is in its loop */
	if (send_for(out, &sa, size, seconds) != 0) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
		return 1;
	}
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status))
		return 1;
	return WEXITSTATUS(status);
}

static int usage(void)
{
	fprintf(stderr, "usage: udpflood send ADDR PORT SIZE SECONDS\n"
	                "       udpflood sink ADDR PORT SECONDS\n"
	                "       udpflood loop SIZE SECONDS\n");
	return 2;
}

static int number(const char *s, double lo, double hi, double *v)
{
	char *end;

	*v = strtod(s, &end);
	return *s && !*end && *v >= lo && *v <= hi;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	double size, secs;
	int sd;

	if (argc == 6 && strcmp(argv[1], "send") == 0) {
		if (!number(argv[4], UDP_HDR, SIZE_MAX_UDP, &size) ||
		    !number(argv[5], 0.1, 3600, &secs) || address(argv[2], argv[3], &sa) != 0)
			return usage();
		if ((sd = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
			return 1;
		return send_for(sd, &sa, (long)size, secs);
	}
	if (argc == 5 && strcmp(argv[1], "sink") == 0) {
		if (!number(argv[4], 0.1, 3600, &secs) || address(argv[2], argv[3], &sa) != 0)
			return usage();
		if ((sd = bound_socket(&sa)) < 0)
			return 1;
		printf("udpflood sink: listening\n");
		fflush(stdout);
		return sink(sd, secs);
	}
	if (argc == 4 && strcmp(argv[1], "loop") == 0) {
		if (!number(argv[2], UDP_HDR, SIZE_MAX_UDP, &size) ||
		    !number(argv[3], 0.1, 3600, &secs))
			return usage();
		return loop((long)size, secs);
	}
	return usage();
}
