/*
 * The real machine's devices (backend_hvctl_dev.c): what a domain's <disk> and <interface>
 * elements become on hv, and the device numbers by which hv names them.
 */
#ifndef HV_DRIVER_BACKEND_HVCTL_DEV_H
#define HV_DRIVER_BACKEND_HVCTL_DEV_H

#include <glib.h>

#include "hvctl.h"
#include "xml/domain_conf.h"

/* Attaches the backing of every disk and interface of def and adds the devices to the built
 * domain domid (before it is unpaused); an interface without <target dev> gets its TAP's name
 * there. -1 with err set on the first failure. */
int hv_hvctl_add_devices(hvctl *h, uint32_t domid, hvDomainDef *def, GError **err);

/* Xen's device number of a disk (xvda = 51712, ...), or -1 with err set. */
int hv_hvctl_disk_devid(const hvDiskDef *disk, GError **err);

#endif
