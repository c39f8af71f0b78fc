/*
 * dom0's block back end (placeholder: no block devices yet).
 */
#include <kernel.h>

#include "backends.h"

void blkback_init(void)
{
}
int blkback_add(uint16_t domid, uint16_t devid, uint64_t sectors, bool readonly)
{
	(void)domid, (void)devid, (void)sectors, (void)readonly;
	return -XEN_ENOSYS;
}
void blkback_remove(uint16_t domid, uint16_t devid)
{
	(void)domid, (void)devid;
}
bool blkback_poll(void)
{
	return false;
}
void blkback_link_message(struct hvlink_guest_chan *ch, const struct hvlink_msg *m)
{
	(void)ch, (void)m;
}
int blkback_iotune_set(const struct hvlink_ctl_bandwidth *bw)
{
	(void)bw;
	return -XEN_ENOENT;
}
int blkback_iotune_get(struct hvlink_ctl_bandwidth *bw)
{
	(void)bw;
	return -XEN_ENOENT;
}
