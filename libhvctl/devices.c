/*
 * libhvctl's device calls (hvctl.h, "Devices"): attaching what backs a disk or a network
 * interface in the holder process (host operations on the relay, relay.h), and adding and
 * removing the devices themselves on the control channel (HVLINK_CTL_DEVICE_ADD / REMOVE).
 * Arguments are checked here first, so that an obviously bad one never leaves the process.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "link_io.h"
#include "relay.h"

int hvctl_disk_devid(const char *name)
{
	if (!name || strncmp(name, "xvd", 3) != 0 || name[3] < 'a' || name[3] > 'p' || name[4])
		return -1;
	return (202 << 8) | ((name[3] - 'a') << 4);
}

int hvctl_disk_attach(hvctl *h, uint32_t domid, unsigned devid, const char *path, int readonly,
                      uint64_t *sectors)
{
	const char *action = "attach a disk to";
	struct relay_host_disk *q;
	struct relay_host_disk_rsp rsp;
	char *abs;
	int rc;

	if (!path || !*path)
		return ctl_invalid(action, domid, "no file given");
	if (devid > 0xffff)
		return ctl_invalid(action, domid, "device number %u is out of range", devid);
	abs = realpath(path, NULL);
	if (!abs)
		return ctl_invalid(action, domid, "cannot find %s", path);
	if (strlen(abs) >= sizeof(q->path)) {
		free(abs);
		return ctl_invalid(action, domid, "the path is too long");
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		free(abs);
		return ctl_invalid(action, domid, "out of memory");
	}
	q->domid = domid;
	q->devid = (uint16_t)devid;
	q->flags = readonly ? RELAY_HOST_RO : 0;
	strcpy(q->path, abs);
	free(abs);
	rc = ctl_call(h, RELAY_CHAN_HOST, RELAY_HOST_DISK_ATTACH, q, sizeof(*q), &rsp, sizeof(rsp),
	              action, domid);
	free(q);
	if (rc == HVCTL_OK && sectors)
		*sectors = rsp.sectors;
	return rc;
}

int hvctl_nic_attach(hvctl *h, uint32_t domid, unsigned devid, const char *tap,
                     const char *ipv4_cidr, char tap_out[16])
{
	const char *action = "attach a network interface to";
	struct relay_host_nic q = {.domid = domid, .devid = (uint16_t)devid};
	struct relay_host_nic_rsp rsp;
	int rc;

	if (devid > 0xffff)
		return ctl_invalid(action, domid, "interface number %u is out of range", devid);
	if (tap && strlen(tap) >= sizeof(q.tap))
		return ctl_invalid(action, domid, "TAP name %s is longer than 15 characters", tap);
	if (tap)
		strcpy(q.tap, tap);
	if (ipv4_cidr && *ipv4_cidr) {
		char addr[32], *slash, *end;
		long prefix;
		struct in_addr in;

		if (strlen(ipv4_cidr) >= sizeof(addr))
			return ctl_invalid(action, domid, "bad address %s", ipv4_cidr);
		strcpy(addr, ipv4_cidr);
		slash = strchr(addr, '/');
		if (!slash)
			return ctl_invalid(action, domid, "address %s lacks its /prefix",
			                   ipv4_cidr);
		*slash = '\0';
		prefix = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1 || prefix < 1 || prefix > 30 ||
		    inet_pton(AF_INET, addr, &in) != 1)
			return ctl_invalid(action, domid, "bad address %s (A.B.C.D/NN, NN 1 to 30)",
			                   ipv4_cidr);
		q.ipv4 = in.s_addr;
		q.prefix = (uint8_t)prefix;
	}
	rc = ctl_call(h, RELAY_CHAN_HOST, RELAY_HOST_NIC_ATTACH, &q, sizeof(q), &rsp, sizeof(rsp),
	              action, domid);
	if (rc == HVCTL_OK && tap_out) {
		memcpy(tap_out, rsp.tap, 16);
		tap_out[15] = '\0';
	}
	return rc;
}

static int kind_to_wire(hvctl_device_kind kind)
{
	return kind == HVCTL_DEVICE_DISK  ? HVLINK_DEV_VBD
	       : kind == HVCTL_DEVICE_NIC ? HVLINK_DEV_VIF
	                                  : 0;
}

int hvctl_device_detach(hvctl *h, uint32_t domid, hvctl_device_kind kind, unsigned devid)
{
	const char *action = "detach a device's backing from";
	struct relay_host_dev q = {.domid = domid, .devid = (uint16_t)devid};

	q.kind = (uint16_t)kind_to_wire(kind);
	if (!q.kind || devid > 0xffff)
		return ctl_invalid(action, domid, "no such kind of device, or number out of range");
	return ctl_call(h, RELAY_CHAN_HOST, RELAY_HOST_DETACH, &q, sizeof(q), NULL, 0, action,
	                domid);
}

int hvctl_domain_detach_all(hvctl *h, uint32_t domid)
{
	struct relay_host_dev q = {.domid = domid};

	return ctl_call(h, RELAY_CHAN_HOST, RELAY_HOST_DETACH_DOMAIN, &q, sizeof(q), NULL, 0,
	                "detach the devices' backing of", domid);
}

int hvctl_backing_list(hvctl *h, hvctl_backing *out, unsigned max, unsigned *count)
{
	size_t cap = sizeof(struct relay_host_list_rsp) +
	             RELAY_HOST_LIST_MAX * sizeof(struct relay_host_entry);
	struct relay_host_list_rsp head;
	const struct relay_host_entry *e;
	hvctl_error err = {0};
	uint32_t got = 0;
	uint8_t *buf;
	unsigned i;
	int rc;

	if (!h || !count || (max && !out))
		return ctl_invalid("list the devices' backing", -1, "no result buffer");
	*count = 0;
	buf = malloc(cap);
	if (!buf)
		return ctl_invalid("list the devices' backing", -1, "out of memory");
	rc =
	    core_call(h, RELAY_CHAN_HOST, RELAY_HOST_LIST, NULL, 0, buf, (uint32_t)cap, &got, &err);
	if (rc == HVCTL_OK) {
		memcpy(&head, buf, sizeof(head));
		if (got < sizeof(head) || head.count > RELAY_HOST_LIST_MAX ||
		    got != sizeof(head) + head.count * sizeof(*e))
			rc = err_set(&err, HVCTL_ERR_PROTOCOL, "malformed list of %u bytes", got);
	}
	if (rc != HVCTL_OK) {
		free(buf);
		return err_publish(&err, "cannot list the devices' backing");
	}
	e = (const struct relay_host_entry *)(buf + sizeof(head));
	for (i = 0; i < head.count && i < max; i++) {
		hvctl_backing *b = &out[i];

		memset(b, 0, sizeof(*b));
		b->domid = e[i].domid;
		b->kind = e[i].kind == HVLINK_DEV_VIF ? HVCTL_DEVICE_NIC : HVCTL_DEVICE_DISK;
		b->devid = e[i].devid;
		b->readonly = (e[i].flags & RELAY_HOST_RO) != 0;
		b->sectors = e[i].sectors;
		memcpy(b->ops, e[i].ops, sizeof(b->ops));
		memcpy(b->bytes, e[i].bytes, sizeof(b->bytes));
		b->errors = e[i].errors;
		memcpy(b->name, e[i].name, sizeof(b->name));
		b->name[sizeof(b->name) - 1] = '\0';
	}
	*count = i;
	free(buf);
	return HVCTL_OK;
}

int hvctl_device_add(hvctl *h, uint32_t domid, const hvctl_device *dev)
{
	const char *action = "add a device to";
	struct hvlink_ctl_device q;

	if (!dev)
		return ctl_invalid(action, domid, "no device given");
	memset(&q, 0, sizeof(q));
	ctl_head(&q.head, domid);
	q.kind = (uint16_t)kind_to_wire(dev->kind);
	if (!q.kind)
		return ctl_invalid(action, domid, "unknown device kind %d", (int)dev->kind);
	if (dev->devid > 0xffff)
		return ctl_invalid(action, domid, "device number %u is out of range", dev->devid);
	q.devid = (uint16_t)dev->devid;
	if (dev->kind == HVCTL_DEVICE_DISK) {
		if (dev->sectors == 0)
			return ctl_invalid(action, domid, "a disk of 0 sectors");
		q.sectors = dev->sectors;
		q.flags = dev->readonly ? HVLINK_DEV_READONLY : 0;
	} else {
		if (dev->mac[0] & 1)
			return ctl_invalid(
			    action, domid,
			    "%02x:%02x:%02x:%02x:%02x:%02x is a multicast MAC address", dev->mac[0],
			    dev->mac[1], dev->mac[2], dev->mac[3], dev->mac[4], dev->mac[5]);
		memcpy(q.mac, dev->mac, 6);
	}
	return ctl_call(h, HVLINK_CHAN_CONTROL, HVLINK_CTL_DEVICE_ADD, &q, sizeof(q), NULL, 0,
	                action, domid);
}

int hvctl_device_remove(hvctl *h, uint32_t domid, hvctl_device_kind kind, unsigned devid)
{
	const char *action = "remove a device from";
	struct hvlink_ctl_device q;

	memset(&q, 0, sizeof(q));
	ctl_head(&q.head, domid);
	q.kind = (uint16_t)kind_to_wire(kind);
	if (!q.kind || devid > 0xffff)
		return ctl_invalid(action, domid, "no such kind of device, or number out of range");
	q.devid = (uint16_t)devid;
	return ctl_call(h, HVLINK_CHAN_CONTROL, HVLINK_CTL_DEVICE_REMOVE, &q, sizeof(q), NULL, 0,
	                action, domid);
}
