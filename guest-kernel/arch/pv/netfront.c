/*
 * The network front end of a domU (Xen's netfront protocol, public/io/netif.h): placeholder
 * until the driver lands; it finds no device, and the stack's entry points have weak defaults
 * that drop frames so that the kernel links without guest-kernel/net/.
 */
#include <kernel.h>
#include <netdev.h>
#include <xenbus.h>

#include <public/errno.h>

int netdev_count(void)
{
	return 0;
}

struct netdev *netdev_get(int index)
{
	(void)index;
	return NULL;
}

int netdev_send(struct netdev *dev, const void *frame, unsigned int len)
{
	(void)dev, (void)frame, (void)len;
	return -XEN_ENODEV;
}

void netdev_poll(void)
{
}

int netfront_probe(unsigned int devid)
{
	(void)devid;
	return -XEN_ENODEV;
}

__attribute__((weak)) void net_rx(struct netdev *dev, const void *frame, unsigned int len)
{
	(void)frame, (void)len;
	dev->rx_dropped++;
}

__attribute__((weak)) void net_dev_up(struct netdev *dev)
{
	(void)dev;
}
