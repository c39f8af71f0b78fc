/*
 * The devices the host adds to domains (placeholder until XenStore exists: refused).
 */
#include <kernel.h>

#include "backends.h"

int devices_add(const struct hvlink_ctl_device *d)
{
	(void)d;
	return -XEN_ENOSYS;
}
int devices_remove(uint16_t domid, uint16_t kind, uint16_t devid)
{
	(void)domid, (void)kind, (void)devid;
	return -XEN_ENOENT;
}
void devices_remove_domain(uint16_t domid)
{
	(void)domid;
}
