/*
 * libhvctl's machine-wide and scheduling operations: HELLO (version check), physical
 * information, scheduler parameters, bandwidth limits, and the event subscription.
 * Same pattern as domain.c: one request struct per call, checked, sent through ctl_call.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

int hvctl_hello(hvctl *h, hvctl_version *v)
{
	struct hvlink_ctl_hello req = {.host_link_major = HVLINK_VERSION_MAJOR,
	                               .host_link_minor = HVLINK_VERSION_MINOR};
	struct hvlink_ctl_hello_rsp rsp;
	int rc;

	ctl_head(&req.head, 0);
	rc = ctl_call(h, HVLINK_CHAN_CONTROL, HVLINK_CTL_HELLO, &req, sizeof(req), &rsp,
	              sizeof(rsp), "greet the machine's agent", -1);
	if (rc != HVCTL_OK)
		return rc;
	if (rsp.agent_link_major != HVLINK_VERSION_MAJOR ||
	    rsp.interface_version != HVLINK_CTL_INTERFACE_VERSION) {
		hvctl_error err;

		err_set(&err, HVCTL_ERR_VERSION,
		        "the machine's agent speaks link protocol %u.%u with control interface %u; "
		        "this library speaks %u.%u with interface %u",
		        rsp.agent_link_major, rsp.agent_link_minor, rsp.interface_version,
		        (unsigned)HVLINK_VERSION_MAJOR, (unsigned)HVLINK_VERSION_MINOR,
		        (unsigned)HVLINK_CTL_INTERFACE_VERSION);
		return err_publish(&err, "cannot use the machine");
	}
	if (v) {
		v->link_major = rsp.agent_link_major;
		v->link_minor = rsp.agent_link_minor;
		v->interface_version = rsp.interface_version;
		rsp.hv_version[sizeof(rsp.hv_version) - 1] = '\0';
		snprintf(v->hv_version, sizeof(v->hv_version), "%s", rsp.hv_version);
	}
	return HVCTL_OK;
}

int hvctl_physinfo_get(hvctl *h, hvctl_physinfo *info)
{
	struct hvlink_ctl_head req;
	struct hvlink_ctl_physinfo rsp;
	int rc;

	if (!info)
		return ctl_invalid("get the machine's information", -1, "no result buffer");
	ctl_head(&req, 0);
	rc = ctl_call(h, HVLINK_CHAN_CONTROL, HVLINK_CTL_PHYSINFO, &req, sizeof(req), &rsp,
	              sizeof(rsp), "get the machine's information", -1);
	if (rc == HVCTL_OK) {
		info->nr_cpus = rsp.nr_cpus;
		info->cpu_khz = rsp.cpu_khz;
		info->total_kib = rsp.total_kib;
		info->free_kib = rsp.free_kib;
		info->reservation_free_pct = rsp.reservation_free_pct;
	}
	return rc;
}

int hvctl_sched_get(hvctl *h, uint32_t domid, hvctl_sched_params *p)
{
	struct hvlink_ctl_head req;
	struct hvlink_ctl_sched rsp;
	int rc;

	if (!p)
		return ctl_invalid("get the scheduler parameters of", domid, "no result buffer");
	ctl_head(&req, domid);
	rc = ctl_call(h, HVLINK_CHAN_CONTROL, HVLINK_CTL_SCHED_GET, &req, sizeof(req), &rsp,
	              sizeof(rsp), "get the scheduler parameters of", domid);
	if (rc == HVCTL_OK) {
		p->weight = rsp.weight;
		p->cap = rsp.cap;
		p->reservation = rsp.reservation;
	}
	return rc;
}

int hvctl_sched_set(hvctl *h, uint32_t domid, const hvctl_sched_params *p)
{
	struct hvlink_ctl_sched req;
	const char *action = "set the scheduler parameters of";

	if (!p)
		return ctl_invalid(action, domid, "no parameters given");
	if (p->weight < 1 || p->weight > 65535)
		return ctl_invalid(action, domid, "weight %u out of range (1 to 65535)", p->weight);
	if (p->reservation > 100)
		return ctl_invalid(action, domid,
		                   "reservation %u%% is more than one CPU (at most 100%%)",
		                   p->reservation);
	if (p->cap && p->cap < p->reservation)
		return ctl_invalid(action, domid, "cap %u%% is below the reservation %u%%", p->cap,
		                   p->reservation);
	memset(&req, 0, sizeof(req));
	ctl_head(&req.head, domid);
	req.weight = p->weight;
	req.cap = p->cap;
	req.reservation = p->reservation;
	return ctl_call(h, HVLINK_CHAN_CONTROL, HVLINK_CTL_SCHED_SET, &req, sizeof(req), NULL, 0,
	                action, domid);
}

static int bw_to_wire(struct hvlink_ctl_bandwidth *w, uint32_t domid, const hvctl_bandwidth *bw,
                      const char *action)
{
	if (!bw)
		return ctl_invalid(action, domid, "no parameters given");
	if (bw->kind < HVCTL_BW_NET_IN || bw->kind > HVCTL_BW_BLOCK)
		return ctl_invalid(action, domid, "unknown bandwidth kind %d", (int)bw->kind);
	memset(w, 0, sizeof(*w));
	ctl_head(&w->head, domid);
	w->kind = (uint32_t)bw->kind;
	w->index = bw->index;
	w->average = bw->average;
	w->peak = bw->peak;
	w->burst = bw->burst;
	w->floor = bw->floor;
	w->iops = bw->iops;
	return HVCTL_OK;
}

int hvctl_bandwidth_get(hvctl *h, uint32_t domid, hvctl_bandwidth *bw)
{
	const char *action = "get the bandwidth limits of";
	struct hvlink_ctl_bandwidth req, rsp;
	int rc = bw_to_wire(&req, domid, bw, action);

	if (rc != HVCTL_OK)
		return rc;
	rc = ctl_call(h, HVLINK_CHAN_CONTROL, HVLINK_CTL_BANDWIDTH_GET, &req, sizeof(req), &rsp,
	              sizeof(rsp), action, domid);
	if (rc == HVCTL_OK) {
		bw->average = rsp.average;
		bw->peak = rsp.peak;
		bw->burst = rsp.burst;
		bw->floor = rsp.floor;
		bw->iops = rsp.iops;
	}
	return rc;
}

int hvctl_bandwidth_set(hvctl *h, uint32_t domid, const hvctl_bandwidth *bw)
{
	const char *action = "set the bandwidth limits of";
	struct hvlink_ctl_bandwidth req;
	int rc = bw_to_wire(&req, domid, bw, action);

	if (rc != HVCTL_OK)
		return rc;
	if (bw->peak && bw->average && bw->peak < bw->average)
		return ctl_invalid(action, domid, "peak %llu KiB/s is below the average %llu KiB/s",
		                   (unsigned long long)bw->peak, (unsigned long long)bw->average);
	if (bw->floor && bw->kind != HVCTL_BW_NET_IN)
		return ctl_invalid(action, domid,
		                   "a floor applies to inbound network traffic only");
	if (bw->floor && bw->average && bw->floor > bw->average)
		return ctl_invalid(action, domid,
		                   "floor %llu KiB/s is above the average %llu KiB/s",
		                   (unsigned long long)bw->floor, (unsigned long long)bw->average);
	return ctl_call(h, HVLINK_CHAN_CONTROL, HVLINK_CTL_BANDWIDTH_SET, &req, sizeof(req), NULL,
	                0, action, domid);
}

static int subscribe(hvctl *h, uint32_t enable)
{
	struct hvlink_ctl_subscribe req = {.enable = enable};

	ctl_head(&req.head, 0);
	return ctl_call(h, HVLINK_CHAN_CONTROL, HVLINK_CTL_SUBSCRIBE, &req, sizeof(req), NULL, 0,
	                enable ? "subscribe to domain events" : "unsubscribe from domain events",
	                -1);
}

int hvctl_subscribe(hvctl *h, hvctl_event_cb cb, void *opaque)
{
	int rc;

	if (!h || !cb)
		return ctl_invalid("subscribe to domain events", -1, "no callback given");
	core_set_subscriber(h, cb, opaque);
	rc = subscribe(h, 1);
	if (rc != HVCTL_OK)
		core_set_subscriber(h, NULL, NULL);
	return rc;
}

int hvctl_unsubscribe(hvctl *h)
{
	int rc;

	if (!h)
		return ctl_invalid("unsubscribe from domain events", -1, "no handle");
	rc = subscribe(h, 0);
	core_set_subscriber(h, NULL, NULL);
	return rc;
}
