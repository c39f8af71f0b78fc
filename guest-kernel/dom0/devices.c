/*
 * The devices the host adds to domains (HVLINK_CTL_DEVICE_ADD / REMOVE): for each, the
 * XenStore nodes of its back end (dom0) and front end (the domU), written as Xen's toolstack
 * writes them (docs: coord io-design), then the back end started (blkback_add / netback_add).
 *
 *   /local/domain/0/backend/<class>/<U>/<D>: frontend, frontend-id, online, state = InitWait,
 *     vbd: sectors, sector-size, info, mode, feature-flush-cache, feature-discard;
 *     vif: mac, handle, feature-rx-copy. Owned by dom0, readable by the domU.
 *   /local/domain/<U>/device/<class>/<D>: backend, backend-id, state = Initialising,
 *     vbd: virtual-device, device-type; vif: handle, mac. Owned by the domU, which writes
 *     its ring references and state there.
 *
 * Invariant: a device is in devs[] iff its nodes exist and its back end accepted it; removal
 * stops the back end first (it unmaps the guest's pages), then removes the nodes.
 */
#include <kernel.h>
#include <klib/printf.h>
#include <klib/string.h>
#include <xenbus.h>

#include "backends.h"
#include "xs_tree.h"

#define MAX_DEVICES 256

static struct device {
	bool used;
	uint16_t domid, kind, devid;
} devs[MAX_DEVICES];

static const char *class_of(uint16_t kind)
{
	return kind == HVLINK_DEV_VBD ? "vbd" : kind == HVLINK_DEV_VIF ? "vif" : NULL;
}

static struct device *find(uint16_t domid, uint16_t kind, uint16_t devid)
{
	for (int i = 0; i < MAX_DEVICES; i++)
		if (devs[i].used && devs[i].domid == domid && devs[i].kind == kind &&
		    devs[i].devid == devid)
			return &devs[i];
	return NULL;
}

static void back_path(char *buf, size_t size, const char *cls, uint16_t domid, uint16_t devid)
{
	snprintf(buf, size, "/local/domain/0/backend/%s/%u/%u", cls, domid, devid);
}

static void front_path(char *buf, size_t size, const char *cls, uint16_t domid, uint16_t devid)
{
	snprintf(buf, size, "/local/domain/%u/device/%s/%u", domid, cls, devid);
}

/* dir/name = formatted value. */
static int put(const char *dir, const char *name, const char *fmt, ...) __printf(3, 4);
static int put(const char *dir, const char *name, const char *fmt, ...)
{
	char path[96], value[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return xs_write(path, value);
}

/* Removes dir, then its parent when that is left empty (backend/<class>/<U>). */
static void remove_nodes(const char *cls, uint16_t domid, uint16_t devid)
{
	char path[96], list[8];

	back_path(path, sizeof(path), cls, domid, devid);
	xs_rm(path);
	snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%u", cls, domid);
	if (xs_tree_directory(0, path, list, sizeof(list)) == 0)
		xs_rm(path);
	front_path(path, sizeof(path), cls, domid, devid);
	xs_rm(path);
}

static int write_nodes(const struct hvlink_ctl_device *d, const char *cls, uint16_t domid)
{
	char back[96], front[96], mac[18];
	bool ro = d->flags & HVLINK_DEV_READONLY;
	int rc = 0;

	back_path(back, sizeof(back), cls, domid, d->devid);
	front_path(front, sizeof(front), cls, domid, d->devid);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", d->mac[0], d->mac[1], d->mac[2],
	         d->mac[3], d->mac[4], d->mac[5]);

	/* Back end first, so the front end finds it complete once its own nodes appear. */
	rc |= xs_tree_mkdir(0, back);
	rc |= xs_set_perms(back, 0, domid);
	rc |= put(back, "frontend", "%s", front);
	rc |= put(back, "frontend-id", "%u", domid);
	rc |= put(back, "online", "1");
	if (d->kind == HVLINK_DEV_VBD) {
		rc |= put(back, "sectors", "%llu", (unsigned long long)d->sectors);
		rc |= put(back, "sector-size", "512");
		rc |= put(back, "info", "%u", ro ? 4u : 0u); /* VDISK_READONLY */
		rc |= put(back, "mode", ro ? "r" : "w");
		rc |= put(back, "feature-flush-cache", "1");
		rc |= put(back, "feature-discard", ro ? "0" : "1");
	} else {
		rc |= put(back, "mac", "%s", mac);
		rc |= put(back, "handle", "%u", d->devid);
		rc |= put(back, "feature-rx-copy", "1");
	}
	rc |= put(back, "state", "%d", XenbusStateInitialising);

	rc |= xs_tree_mkdir(0, front);
	rc |= xs_set_perms(front, domid, 0);
	rc |= put(front, "backend", "%s", back);
	rc |= put(front, "backend-id", "0");
	if (d->kind == HVLINK_DEV_VBD) {
		rc |= put(front, "virtual-device", "%u", d->devid);
		rc |= put(front, "device-type", "disk");
	} else {
		rc |= put(front, "handle", "%u", d->devid);
		rc |= put(front, "mac", "%s", mac);
	}
	rc |= put(front, "state", "%d", XenbusStateInitialising);
	return rc ? -XEN_ENOMEM : 0;
}

int devices_add(const struct hvlink_ctl_device *d)
{
	uint16_t domid = (uint16_t)d->head.domid;
	const char *cls = class_of(d->kind);
	struct device *slot = NULL;
	char path[96];
	int rc;

	if (!cls || d->head.domid == 0 || d->head.domid > 0x7fef)
		return -XEN_EINVAL;
	if (d->kind == HVLINK_DEV_VBD && d->sectors == 0)
		return -XEN_EINVAL;
	if (d->kind == HVLINK_DEV_VIF && (d->mac[0] & 1)) /* multicast: not a station */
		return -XEN_EINVAL;
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	if (!xs_tree_exists(path))
		return -XEN_ENODEV; /* no such domain, or it has no store */
	if (find(domid, d->kind, d->devid))
		return -XEN_EEXIST;
	for (int i = 0; i < MAX_DEVICES && !slot; i++)
		if (!devs[i].used)
			slot = &devs[i];
	if (!slot)
		return -XEN_ENOSPC;
	front_path(path, sizeof(path), cls, domid, d->devid);
	if (xs_tree_exists(path))
		return -XEN_EEXIST; /* the domU made these nodes itself */
	if ((rc = write_nodes(d, cls, domid))) {
		remove_nodes(cls, domid, d->devid);
		return rc;
	}
	back_path(path, sizeof(path), cls, domid, d->devid);
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/state");
	xs_printf(path, "%d", XenbusStateInitWait);
	rc = d->kind == HVLINK_DEV_VBD
	         ? blkback_add(domid, d->devid, d->sectors, d->flags & HVLINK_DEV_READONLY)
	         : netback_add(domid, d->devid, d->mac);
	if (rc) {
		printk("devices: %s %u of domain %u refused by its back end (%d)\n", cls, d->devid,
		       domid, rc);
		remove_nodes(cls, domid, d->devid);
		return rc;
	}
	slot->used = true;
	slot->domid = domid;
	slot->kind = d->kind;
	slot->devid = d->devid;
	printk("devices: %s %u of domain %u added\n", cls, d->devid, domid);
	return 0;
}

int devices_remove(uint16_t domid, uint16_t kind, uint16_t devid)
{
	struct device *dev = find(domid, kind, devid);
	const char *cls = class_of(kind);

	if (!cls)
		return -XEN_EINVAL;
	if (!dev)
		return -XEN_ENOENT;
	if (kind == HVLINK_DEV_VBD)
		blkback_remove(domid, devid);
	else
		netback_remove(domid, devid);
	remove_nodes(cls, domid, devid);
	dev->used = false;
	printk("devices: %s %u of domain %u removed\n", cls, devid, domid);
	return 0;
}

void devices_remove_domain(uint16_t domid)
{
	char path[64];

	for (int i = 0; i < MAX_DEVICES; i++)
		if (devs[i].used && devs[i].domid == domid)
			devices_remove(domid, devs[i].kind, devs[i].devid);
	snprintf(path, sizeof(path), "/local/domain/0/backend/vbd/%u", domid);
	xs_rm(path);
	snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u", domid);
	xs_rm(path);
}
