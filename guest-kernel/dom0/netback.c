/*
 * dom0's network back end (placeholder: no network devices yet).
 */
#include <kernel.h>

#include "backends.h"

void netback_init(void)
{
}
int netback_add(uint16_t domid, uint16_t devid, const uint8_t mac[6])
{
	(void)domid, (void)devid, (void)mac;
	return -XEN_ENOSYS;
}
void netback_remove(uint16_t domid, uint16_t devid)
{
	(void)domid, (void)devid;
}
bool netback_poll(void)
{
	return false;
}
void netback_link_message(struct hvlink_guest_chan *ch, const struct hvlink_msg *m)
{
	(void)ch, (void)m;
}
int netback_bandwidth_set(const struct hvlink_ctl_bandwidth *bw)
{
	(void)bw;
	return -XEN_ENOENT;
}
int netback_bandwidth_get(struct hvlink_ctl_bandwidth *bw)
{
	(void)bw;
	return -XEN_ENOENT;
}
