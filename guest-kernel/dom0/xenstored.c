/*
 * dom0's XenStore daemon (placeholder: the store is not implemented yet; every domain is
 * refused a store, so the agent adds no devices).
 */
#include <kernel.h>

#include "backends.h"

void xenstored_init(void)
{
}
int xenstored_attach(uint16_t domid)
{
	(void)domid;
	return -XEN_ENOSYS;
}
void xenstored_detach(uint16_t domid)
{
	(void)domid;
}
bool xenstored_poll(void)
{
	return false;
}
