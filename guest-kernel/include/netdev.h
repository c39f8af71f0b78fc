/*
 * The seam between network device drivers (arch/pv/netfront.c) and the network stack
 * (guest-kernel/net/): Ethernet frames in and out of numbered interfaces.
 *
 * Receive: the driver calls net_rx() for each frame, from its event handler or from
 * netdev_poll(), with events masked; the stack copies what it keeps before returning.
 * Transmit: netdev_send() copies the frame into the device's ring; -XEN_EAGAIN when the ring
 * is full (the stack drops or retries after netdev_poll()).
 */
#ifndef GK_NETDEV_H
#define GK_NETDEV_H

#include <klib/compiler.h>

#define ETH_ALEN      6
#define ETH_HLEN      14
#define ETH_FRAME_MAX 1514 /* MTU 1500, no FCS */

struct netdev {
	int index; /* 0, 1, ... */
	uint8_t mac[ETH_ALEN];
	unsigned int mtu;
	uint64_t rx_frames, tx_frames, rx_bytes, tx_bytes, rx_dropped, tx_dropped;
	void *priv; /* the driver's */
};

/* Driver side (netfront.c). */
int netdev_count(void);
struct netdev *netdev_get(int index); /* NULL if none */
int netdev_send(struct netdev *dev, const void *frame, unsigned int len);
/* Processes completed transmits and received frames of every device (net_rx for each). */
void netdev_poll(void);

/* Stack side (net/): called by the driver for every received frame. */
void net_rx(struct netdev *dev, const void *frame, unsigned int len);
/* Configures interface index from the domain's configuration (called by the driver once the
 * device is connected): the stack reads its IPv4 address from the command line `ip=`. */
void net_dev_up(struct netdev *dev);

#endif
