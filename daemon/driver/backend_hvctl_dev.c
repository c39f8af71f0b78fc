/*
 * The real machine's devices (backend_hvctl.c): a domain's <disk> and <interface> elements
 * become Xen split-driver devices, backed on this host by the machine's holder process
 * (hv-machine: libhvctl's hostio), added after the build and before the domain runs.
 *
 *  <disk type='file'>        the file, opened by the holder (read-only with <readonly/>), is
 *                            disk devid = Xen's number of <target dev> (xvda = 51712, ...);
 *  <interface type='ethernet'> a TAP named <target dev> (default hv<domid>.<n>) with the
 *                            address of <ip> if any, interface devid = its position (0, 1, ...);
 *  <interface type='bridge'> the same TAP, then made a port of <source bridge> (which must
 *                            exist: hv does not make bridges);
 *  <interface type='network'> refused: it needs libvirt's network driver, which hv has not.
 *
 * Nothing is half done: on a failure the caller destroys the domain, and the holder lets go of
 * whatever it attached for it. Bandwidth and iotune name devices by the same devids.
 */
#include "driver/backend_hvctl_dev.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/sockios.h>

#include "util/error.h"

int hv_hvctl_disk_devid(const hvDiskDef *disk, GError **err)
{
	int devid = hvctl_disk_devid(disk->target_dev);

	if (devid < 0)
		hv_error_set(err, VIR_ERR_CONFIG_UNSUPPORTED,
		             "disk '%s': hv names disks xvda to xvdp (Xen's first 16 disks)",
		             disk->target_dev ? disk->target_dev : "");
	return devid;
}

static int failed(GError **err, const char *fmt, const char *arg, unsigned domid)
{
	const hvctl_error *e = hvctl_last_error();
	virErrorNumber code;

	switch (e->code) {
	case HVCTL_ERR_INVALID:
		code = VIR_ERR_INVALID_ARG;
		break;
	case HVCTL_ERR_PERMISSION:
		code = VIR_ERR_OPERATION_DENIED;
		break;
	case HVCTL_ERR_EXISTS:
		code = VIR_ERR_OPERATION_INVALID;
		break;
	case HVCTL_ERR_UNSUPPORTED:
		code = VIR_ERR_OPERATION_UNSUPPORTED;
		break;
	default:
		code = VIR_ERR_OPERATION_FAILED;
		break;
	}
	{
		g_autofree char *what = g_strdup_printf(fmt, arg, domid);

		return hv_error_set(err, code, "%s: %s", what,
		                    e->message[0] ? e->message : hvctl_strerror(e->code));
	}
}

/* Makes TAP tap a port of bridge br (the classic bridge ioctl, as brctl addif does). */
static int bridge_add(const char *br, const char *tap, GError **err)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	memset(&ifr, 0, sizeof(ifr));
	g_strlcpy(ifr.ifr_name, br, sizeof(ifr.ifr_name));
	ifr.ifr_ifindex = (int)if_nametoindex(tap);
	if (s < 0 || ifr.ifr_ifindex == 0 || ioctl(s, SIOCBRADDIF, &ifr) != 0)
		rc = hv_error_set(err, VIR_ERR_OPERATION_FAILED,
		                  "cannot make TAP %s a port of bridge %s: %s", tap, br,
		                  g_strerror(errno));
	if (s >= 0)
		close(s);
	return rc;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned m[6];
	char end;

	if (!s ||
	    sscanf(s, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
	return 0;
}

static int add_disk(hvctl *h, uint32_t domid, const hvDiskDef *disk, GError **err)
{
	hvctl_device dev = {.kind = HVCTL_DEVICE_DISK, .readonly = disk->readonly};
	int devid = hv_hvctl_disk_devid(disk, err);

	if (devid < 0)
		return -1;
	dev.devid = (unsigned)devid;
	if (hvctl_disk_attach(h, domid, dev.devid, disk->source_file, disk->readonly,
	                      &dev.sectors) != HVCTL_OK)
		return failed(err, "cannot open %s for hv domain %u", disk->source_file, domid);
	if (hvctl_device_add(h, domid, &dev) != HVCTL_OK)
		return failed(err, "cannot add disk %s to hv domain %u", disk->target_dev, domid);
	return 0;
}

static int add_interface(hvctl *h, uint32_t domid, unsigned index, hvInterfaceDef *iface,
                         GError **err)
{
	hvctl_device dev = {.kind = HVCTL_DEVICE_NIC, .devid = index};
	g_autofree char *ip = NULL;
	char tap[16] = "";

	if (!g_strcmp0(iface->type, "network"))
		return hv_error_set(err, VIR_ERR_CONFIG_UNSUPPORTED,
		                    "interface %s: type='network' needs libvirt's network driver, "
		                    "which hv does not have; use type='ethernet' (a TAP on this "
		                    "host) or type='bridge'",
		                    iface->mac);
	if (iface->target_dev && strlen(iface->target_dev) > 15)
		return hv_error_set(err, VIR_ERR_CONFIG_UNSUPPORTED,
		                    "interface %s: target dev '%s' is longer than a network "
		                    "interface name may be (15)",
		                    iface->mac, iface->target_dev);
	if (parse_mac(iface->mac, dev.mac) < 0)
		return hv_error_set(err, VIR_ERR_INTERNAL_ERROR, "interface with a bad MAC '%s'",
		                    iface->mac ? iface->mac : "");
	if (iface->ip_address)
		ip = g_strdup_printf("%s/%u", iface->ip_address, iface->ip_prefix);
	if (hvctl_nic_attach(h, domid, index, iface->target_dev, ip, tap) != HVCTL_OK)
		return failed(err, "cannot make the TAP of interface %s of hv domain %u",
		              iface->mac, domid);
	if (!g_strcmp0(iface->type, "bridge") && bridge_add(iface->source, tap, err) < 0)
		return -1;
	if (hvctl_device_add(h, domid, &dev) != HVCTL_OK)
		return failed(err, "cannot add interface %s to hv domain %u", iface->mac, domid);
	if (!iface->target_dev) /* the live XML names it (and it keeps the name on a restart) */
		iface->target_dev = g_strdup(tap);
	g_message("hv domain %u: interface %s on TAP %s", domid, iface->mac, tap);
	return 0;
}

int hv_hvctl_add_devices(hvctl *h, uint32_t domid, hvDomainDef *def, GError **err)
{
	for (guint i = 0; i < def->disks->len; i++)
		if (add_disk(h, domid, def->disks->pdata[i], err) < 0)
			return -1;
	for (guint i = 0; i < def->interfaces->len; i++)
		if (add_interface(h, domid, i, def->interfaces->pdata[i], err) < 0)
			return -1;
	return 0;
}
