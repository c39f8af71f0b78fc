/*
 * The agent's one door to dom0's back ends (backends.h): lifecycle hooks, the poll of every
 * back end's rings, bandwidth settings routed by kind, and the link's data channels.
 *
 * Invariant kept for hv's sake: backends_domain_destroy() returns only when no back end maps
 * a page or a grant of the domain any more, so the destroy that follows frees every frame.
 */
#include <kernel.h>
#include <platform.h>

#include "backends.h"

void backends_init(void)
{
	xenstored_init();
	blkback_init();
	netback_init();
}

int backends_domain_built(uint16_t domid)
{
	return xenstored_attach(domid);
}

void backends_domain_destroy(uint16_t domid)
{
	devices_remove_domain(domid);
	xenstored_detach(domid);
}

bool backends_poll(void)
{
	bool busy = xenstored_poll();

	busy |= blkback_poll();
	busy |= netback_poll();
	return busy;
}

int backends_bandwidth_set(const struct hvlink_ctl_bandwidth *bw)
{
	switch (bw->kind) {
	case HVLINK_BW_BLOCK:
		return blkback_iotune_set(bw);
	case HVLINK_BW_NET_IN:
	case HVLINK_BW_NET_OUT:
		return netback_bandwidth_set(bw);
	default:
		return -XEN_EINVAL;
	}
}

int backends_bandwidth_get(struct hvlink_ctl_bandwidth *bw)
{
	switch (bw->kind) {
	case HVLINK_BW_BLOCK:
		return blkback_iotune_get(bw);
	case HVLINK_BW_NET_IN:
	case HVLINK_BW_NET_OUT:
		return netback_bandwidth_get(bw);
	default:
		return -XEN_EINVAL;
	}
}

void backends_link_block(struct hvlink_guest_chan *ch, const struct hvlink_msg *m)
{
	blkback_link_message(ch, m);
}

void backends_link_net(struct hvlink_guest_chan *ch, const struct hvlink_msg *m)
{
	netback_link_message(ch, m);
}

/* The one-shot timer is shared: each back end asks for the time its throttled work may go on,
 * and the earliest deadline still ahead is the one armed (a later request never hides it). */
static uint64_t timer_pending;

void backends_wake_at(uint64_t deadline_ns)
{
	uint64_t now = platform->time_ns();

	if (timer_pending > now && timer_pending < deadline_ns)
		deadline_ns = timer_pending;
	timer_pending = deadline_ns;
	platform->timer_set(deadline_ns);
}
