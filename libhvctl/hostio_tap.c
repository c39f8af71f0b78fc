/*
 * Making a network interface's TAP device on the host (hostio.h): /dev/net/tun with
 * IFF_TAP | IFF_NO_PI (whole Ethernet frames, no packet-information prefix), non-blocking,
 * brought up, with an IPv4 address when one is asked for, through the classic interface
 * ioctls (no iproute2 needed). The TAP lives as long as its descriptor: closing it removes
 * the interface, so nothing outlives the holder process.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostio.h"

static int set_addr(int s, const char *name, unsigned long req, uint32_t addr)
{
	struct ifreq ifr;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = addr};

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
	return ioctl(s, req, &ifr);
}

int hostio_tap_open(char name[16], uint32_t domid, uint16_t devid, uint32_t ipv4, unsigned prefix,
                    char *msg, size_t msg_size)
{
	struct ifreq ifr;
	int fd, s, e;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		snprintf(msg, msg_size,
		         "cannot open /dev/net/tun for interface %u of domain %u: %s", devid, domid,
		         strerror(e));
		return -e;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
		e = errno;
		close(fd);
		snprintf(msg, msg_size, "cannot make TAP %s: %s", name, strerror(e));
		return -e;
	}
	snprintf(name, 16, "%s", ifr.ifr_name);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		e = errno;
		close(fd);
		snprintf(msg, msg_size, "socket: %s", strerror(e));
		return -e;
	}
	if (ipv4) {
		uint32_t mask = htonl(prefix >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix));

		if (set_addr(s, name, SIOCSIFADDR, ipv4) != 0 ||
		    set_addr(s, name, SIOCSIFNETMASK, mask) != 0) {
			char a[INET_ADDRSTRLEN];

			e = errno;
			inet_ntop(AF_INET, &ipv4, a, sizeof(a));
			snprintf(msg, msg_size, "cannot give TAP %s the address %s/%u: %s", name, a,
			         prefix, strerror(e));
			goto fail;
		}
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) != 0)) {
		e = errno;
		snprintf(msg, msg_size, "cannot bring TAP %s up: %s", name, strerror(e));
		goto fail;
	}
	close(s);
	return fd;
fail:
	close(s);
	close(fd);
	return -e;
}
