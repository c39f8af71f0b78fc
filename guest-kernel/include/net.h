/*
 * The network stack (guest-kernel/net/) as the rest of the kernel sees it: interfaces with
 * their IPv4 configuration, sockets, counters. Frames come in through net_rx() (netdev.h).
 *
 * The stack runs with events masked (from a driver's event handler, from netdev_poll() or in a
 * system call); it never waits. A socket operation that cannot complete returns -E_AGAIN and
 * the system-call layer (net/sys_net.c) decides whether to block: a socket's wait channel is
 * woken (net_wake) whenever a datagram is queued on it.
 *
 * The protocol files (everything but sys_net.c) use only net_now_ns(), net_wake(),
 * net_page_alloc/free(), printk(), cmdline_get() and the driver side of netdev.h, so that
 * tests/unit/net builds them for the host with stand-ins for these.
 */
#ifndef GK_NET_H
#define GK_NET_H

#include <klib/compiler.h>
#include <netdev.h>
#include <uapi.h>
#include <uapi-net.h>

#define NET_MAX_IFS       4
#define NET_MAX_SOCKS     32
#define NET_SOCK_QUEUE    64 /* datagrams a socket holds before it drops */
#define NET_EPHEMERAL_MIN 49152

/* ---- interfaces (net/eth.c) ---- */
struct net_if {
	struct netdev *dev;  /* NULL: no such interface */
	uint32_t addr, mask; /* host byte order; addr 0: not configured */
	int prefix_len;
};

struct net_if *net_if_get(int index); /* NULL unless the driver has brought it up */
/* Parse "A.B.C.D" or "A.B.C.D/NN" (prefix_len may be NULL when no prefix is allowed); 0 or
 * -E_INVAL. */
int net_parse_addr(const char *s, uint32_t *addr, int *prefix_len);
/* Fill a net_if_info for interface index: 0, or -E_NOENT. */
int net_if_info(int index, struct net_if_info *info);

extern struct net_stats net_stats;

/* ---- sockets (net/socket.c) ---- */
/* A new socket of NET_SOCK_* owned by owner_pid: its descriptor, or -E_INVAL/-E_MFILE/
 * -E_NOMEM. */
int sock_open(int type, int owner_pid);
int sock_owner(int sd); /* owner pid, or -1 if sd is not an open socket */
int sock_bind(int sd, uint16_t port);
/* Send one datagram (UDP payload, or an ICMP echo request). -E_AGAIN: the device's ring is
 * full, nothing was sent, try again later. */
int sock_sendto(int sd, const void *data, unsigned int len, const struct net_sockaddr *to);
/* Take the oldest queued datagram, truncated to len: the bytes copied, or -E_AGAIN if none. */
int sock_recv(int sd, void *buf, unsigned int len, struct net_sockaddr *from);
int sock_close(int sd);
/* What a process waiting for data on sd sleeps on. */
const void *sock_chan(int sd);
int sock_info(int slot, struct net_sock_info *info);

/* ---- services the environment provides (net/sys_net.c in the kernel, the test on the host) */
uint64_t net_now_ns(void);
void net_wake(const void *chan);
void *net_page_alloc(void); /* a zeroed page or NULL */
void net_page_free(void *page);
const char *net_cmdline(void);

#endif
