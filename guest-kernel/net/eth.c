/*
 * Interfaces and Ethernet: the stack side of netdev.h (net_dev_up, net_rx), the demultiplexing
 * of received frames by destination and EtherType, the Ethernet header of sent frames, the
 * Internet checksum, and the stack's counters.
 *
 * Interface i takes its IPv4 address from the command line: `ip=A.B.C.D/NN` for interface 0,
 * `ipI=` for the others. A frame is kept only if it is addressed to the interface's MAC or to
 * broadcast, is long enough for its header, and carries ARP or IPv4; everything else is
 * counted and dropped.
 */
#include <kernel.h>
#include <klib/printf.h>
#include <klib/string.h>
#include "net_priv.h"

static struct net_if net_ifs[NET_MAX_IFS];
struct net_stats net_stats;
const uint8_t eth_broadcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

struct net_if *net_if_get(int index)
{
	if (index < 0 || index >= NET_MAX_IFS || !net_ifs[index].dev)
		return NULL;
	return &net_ifs[index];
}

int net_parse_addr(const char *s, uint32_t *addr, int *prefix_len)
{
	uint32_t a = 0;

	for (int i = 0; i < 4; i++) {
		if (!isdigit(*s))
			return -E_INVAL;
		unsigned int v = 0, digits = 0;
		while (isdigit(*s) && digits < 4) {
			v = v * 10 + (unsigned int)(*s++ - '0');
			digits++;
		}
		if (v > 255 || isdigit(*s))
			return -E_INVAL;
		a = a << 8 | v;
		if (i < 3 && *s++ != '.')
			return -E_INVAL;
	}
	int plen = 32;
	if (*s == '/' && prefix_len) {
		s++;
		if (!isdigit(*s))
			return -E_INVAL;
		plen = 0;
		while (isdigit(*s) && plen <= 32)
			plen = plen * 10 + (*s++ - '0');
		if (plen > 32)
			return -E_INVAL;
	}
	if (*s)
		return -E_INVAL;
	*addr = a;
	if (prefix_len)
		*prefix_len = plen;
	return 0;
}

static void format_addr(char *buf, size_t size, uint32_t a)
{
	snprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

void net_dev_up(struct netdev *dev)
{
	char key[16] = "ip", val[32], ip[16];
	struct net_if *nif;

	if (!dev || dev->index < 0 || dev->index >= NET_MAX_IFS) {
		printk("net: interface %d ignored (at most %d)\n", dev ? dev->index : -1,
		       NET_MAX_IFS);
		return;
	}
	nif = &net_ifs[dev->index];
	if (nif->dev && nif->dev != dev)
		arp_flush_if(nif);
	*nif = (struct net_if){.dev = dev};
	if (dev->index > 0)
		snprintf(key, sizeof(key), "ip%d", dev->index);
	if (cmdline_get(net_cmdline(), key, val, sizeof(val)) == 0) {
		uint32_t addr;
		int plen;
		if (net_parse_addr(val, &addr, &plen) == 0 && plen > 0 && addr != 0) {
			nif->addr = addr;
			nif->prefix_len = plen;
			nif->mask = plen == 32 ? 0xffffffffu : ~(0xffffffffu >> plen);
		} else {
			printk("net: eth%d: bad %s=%s (want A.B.C.D/NN)\n", dev->index, key, val);
		}
	}
	format_addr(ip, sizeof(ip), nif->addr);
	printk("net: eth%d up, mac %02x:%02x:%02x:%02x:%02x:%02x, inet %s/%d\n", dev->index,
	       dev->mac[0], dev->mac[1], dev->mac[2], dev->mac[3], dev->mac[4], dev->mac[5], ip,
	       nif->prefix_len);
}

int net_if_info(int index, struct net_if_info *info)
{
	struct netdev *dev = index < netdev_count() ? netdev_get(index) : NULL;

	if (index < 0 || !dev)
		return -E_NOENT;
	memset(info, 0, sizeof(*info));
	info->index = index;
	memcpy(info->mac, dev->mac, ETH_ALEN);
	info->mtu = dev->mtu;
	info->rx_frames = dev->rx_frames;
	info->tx_frames = dev->tx_frames;
	info->rx_bytes = dev->rx_bytes;
	info->tx_bytes = dev->tx_bytes;
	info->rx_dropped = dev->rx_dropped;
	info->tx_dropped = dev->tx_dropped;
	struct net_if *nif = net_if_get(index);
	if (nif && nif->dev == dev) {
		info->up = 1;
		info->addr = nif->addr;
		info->prefix_len = (uint8_t)nif->prefix_len;
	}
	return 0;
}

void net_rx(struct netdev *dev, const void *frame, unsigned int len)
{
	const uint8_t *f = frame;
	struct net_if *nif = dev ? net_if_get(dev->index) : NULL;

	net_stats.eth_rx++;
	if (!f || len < ETH_HLEN) {
		net_stats.eth_short++;
		return;
	}
	bool bcast = memcmp(f, eth_broadcast, ETH_ALEN) == 0;
	if (!nif || nif->dev != dev || (!bcast && memcmp(f, dev->mac, ETH_ALEN) != 0)) {
		net_stats.eth_not_ours++;
		return;
	}
	switch (get16(f + 12)) {
	case ETH_TYPE_ARP:
		arp_input(nif, f + ETH_HLEN, len - ETH_HLEN);
		break;
	case ETH_TYPE_IPV4:
		ip_input(nif, f + ETH_HLEN, len - ETH_HLEN, bcast);
		break;
	default:
		net_stats.eth_unknown_type++;
		break;
	}
}

int eth_output(struct net_if *nif, const uint8_t *dst, uint16_t type, uint8_t *frame,
               unsigned int len)
{
	memcpy(frame, dst, ETH_ALEN);
	memcpy(frame + ETH_ALEN, nif->dev->mac, ETH_ALEN);
	put16(frame + 12, type);
	int rc = netdev_send(nif->dev, frame, len);
	if (rc == -E_AGAIN) {
		net_stats.tx_ring_full++;
		return -E_AGAIN;
	}
	return rc < 0 ? rc : 0;
}

uint32_t net_csum_add(uint32_t sum, const void *data, unsigned int len)
{
	const uint8_t *p = data;

	while (len >= 2) {
		sum += get16(p);
		p += 2;
		len -= 2;
		if (sum & 0x80000000u)
			sum = (sum & 0xffff) + (sum >> 16);
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t net_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}
