/*
 * libhvctl's domain operations: create, build, lifecycle, info and list, memory, vcpus.
 *
 * Each call fills one request struct of link_ctl.h (as Xen's xc_domain.c fills a domctl),
 * checks what can be checked here (so that an obviously bad argument never crosses the link),
 * and goes through ctl_call, which sends it, waits for the response of the expected size and
 * turns failures into "cannot <action> domain <id>: <reason>".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void ctl_head(struct hvlink_ctl_head *head, uint32_t domid)
{
	head->interface_version = HVLINK_CTL_INTERFACE_VERSION;
	head->domid = domid;
}

static void describe(char *buf, size_t size, const char *action, int64_t domid)
{
	if (domid >= 0)
		snprintf(buf, size, "cannot %s domain %lld", action, (long long)domid);
	else
		snprintf(buf, size, "cannot %s", action);
}

int ctl_invalid(const char *action, int64_t domid, const char *fmt, ...)
{
	hvctl_error err = {.code = HVCTL_ERR_INVALID};
	char what[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err.message, sizeof(err.message), fmt, ap);
	va_end(ap);
	describe(what, sizeof(what), action, domid);
	return err_publish(&err, what);
}

int ctl_call(hvctl *h, uint16_t chan, uint16_t op, const void *req, uint32_t req_len, void *rsp,
             uint32_t rsp_len, const char *action, int64_t domid)
{
	hvctl_error err = {0};
	uint32_t got = 0;
	char what[96];
	int rc;

	if (!h)
		return ctl_invalid(action, domid, "no handle");
	rc = core_call(h, chan, op, req, req_len, rsp, rsp_len, &got, &err);
	if (rc == HVCTL_OK && got != rsp_len)
		rc = err_set(&err, HVCTL_ERR_PROTOCOL,
		             "the machine answered with %u bytes where %u were expected", got,
		             rsp_len);
	if (rc == HVCTL_OK)
		return HVCTL_OK;
	describe(what, sizeof(what), action, domid);
	return err_publish(&err, what);
}

static int simple(hvctl *h, uint16_t op, uint32_t domid, const char *action)
{
	struct hvlink_ctl_head req;

	ctl_head(&req, domid);
	return ctl_call(h, HVLINK_CHAN_CONTROL, op, &req, sizeof(req), NULL, 0, action, domid);
}

int hvctl_domain_create(hvctl *h, const hvctl_domain_create_args *a, uint32_t *domid)
{
	struct hvlink_ctl_create req;
	struct hvlink_ctl_domid rsp;
	int rc;

	if (!a || !domid)
		return ctl_invalid("create domain", -1, "no arguments given");
	if (a->max_vcpus == 0)
		return ctl_invalid("create domain", -1, "a domain needs at least one vcpu");
	if (a->max_mem_kib == 0 || a->current_mem_kib > a->max_mem_kib ||
	    a->guarantee_kib > a->max_mem_kib)
		return ctl_invalid("create domain", -1,
		                   "memory %llu KiB, current %llu KiB, guarantee %llu KiB: current "
		                   "and guarantee must not exceed a nonzero maximum",
		                   (unsigned long long)a->max_mem_kib,
		                   (unsigned long long)a->current_mem_kib,
		                   (unsigned long long)a->guarantee_kib);
	if (a->weight > 65535 || a->reservation > 100 || (a->cap && a->cap < a->reservation))
		return ctl_invalid("create domain", -1,
		                   "scheduler weight %u, cap %u%%, reservation %u%%: weight is at "
		                   "most 65535, reservation at most 100%% and not above the cap",
		                   a->weight, a->cap, a->reservation);
	memset(&req, 0, sizeof(req));
	ctl_head(&req.head, 0);
	memcpy(req.uuid, a->uuid, sizeof(req.uuid));
	req.max_vcpus = a->max_vcpus;
	req.max_mem_kib = a->max_mem_kib;
	req.current_mem_kib = a->current_mem_kib ? a->current_mem_kib : a->max_mem_kib;
	req.guarantee_kib = a->guarantee_kib;
	req.weight = a->weight ? a->weight : 256;
	req.cap = a->cap;
	req.reservation = a->reservation;
	rc = ctl_call(h, HVLINK_CHAN_CONTROL, HVLINK_CTL_DOMAIN_CREATE, &req, sizeof(req), &rsp,
	              sizeof(rsp), "create domain", -1);
	if (rc == HVCTL_OK)
		*domid = rsp.domid;
	return rc;
}

int hvctl_domain_build(hvctl *h, uint32_t domid, const hvctl_build_args *a)
{
	struct hvlink_ctl_build *req;
	hvctl_error err = {0};
	uint32_t kx = 0, rx = 0;
	size_t cl;
	int rc;

	if (!a || !a->kernel || a->kernel_len == 0)
		return ctl_invalid("build", domid, "no kernel image given");
	if (a->ramdisk_len && !a->ramdisk)
		return ctl_invalid("build", domid, "ramdisk length without a ramdisk");
	cl = a->cmdline ? strlen(a->cmdline) : 0;
	if (cl >= HVLINK_CMDLINE_MAX)
		return ctl_invalid("build", domid, "command line of %zu bytes (at most %u)", cl,
		                   HVLINK_CMDLINE_MAX - 1);
	if (!h)
		return ctl_invalid("build", domid, "no handle");

	rc = bulk_upload(h, HVLINK_BULK_KERNEL, a->kernel, a->kernel_len, &kx, &err);
	if (rc == HVCTL_OK && a->ramdisk_len)
		rc = bulk_upload(h, HVLINK_BULK_RAMDISK, a->ramdisk, a->ramdisk_len, &rx, &err);
	if (rc != HVCTL_OK) {
		char what[96];

		describe(what, sizeof(what), "build", domid);
		return err_publish(&err, what);
	}
	req = calloc(1, sizeof(*req));
	if (!req)
		return err_publish(
		    &(hvctl_error){.code = HVCTL_ERR_SYSTEM, .message = "out of memory"},
		    "cannot build domain");
	ctl_head(&req->head, domid);
	req->kernel_xfer = kx;
	req->ramdisk_xfer = rx;
	if (cl)
		memcpy(req->cmdline, a->cmdline, cl);
	rc = ctl_call(h, HVLINK_CHAN_CONTROL, HVLINK_CTL_DOMAIN_BUILD, req, sizeof(*req), NULL, 0,
	              "build", domid);
	free(req);
	return rc;
}

int hvctl_domain_unpause(hvctl *h, uint32_t domid)
{
	return simple(h, HVLINK_CTL_DOMAIN_UNPAUSE, domid, "unpause");
}

int hvctl_domain_pause(hvctl *h, uint32_t domid)
{
	return simple(h, HVLINK_CTL_DOMAIN_PAUSE, domid, "pause");
}

int hvctl_domain_destroy(hvctl *h, uint32_t domid)
{
	return simple(h, HVLINK_CTL_DOMAIN_DESTROY, domid, "destroy");
}

int hvctl_domain_shutdown(hvctl *h, uint32_t domid, hvctl_shutdown_reason reason)
{
	struct hvlink_ctl_shutdown req = {.reason = (uint32_t)reason};

	if ((unsigned)reason > HVCTL_SHUTDOWN_CRASH)
		return ctl_invalid("shut down", domid, "unknown shutdown reason %d", (int)reason);
	ctl_head(&req.head, domid);
	return ctl_call(h, HVLINK_CHAN_CONTROL, HVLINK_CTL_DOMAIN_SHUTDOWN, &req, sizeof(req), NULL,
	                0, "shut down", domid);
}

static void info_from_wire(hvctl_domain_info *out, const struct hvlink_ctl_dominfo *in)
{
	out->domid = in->domid;
	out->state = (hvctl_domain_state)in->state;
	out->shutdown_reason = (hvctl_shutdown_reason)in->shutdown_reason;
	out->nr_vcpus = in->nr_vcpus;
	out->max_vcpus = in->max_vcpus;
	out->max_mem_kib = in->max_mem_kib;
	out->current_mem_kib = in->current_mem_kib;
	out->guarantee_kib = in->guarantee_kib;
	out->cpu_time_ns = in->cpu_time_ns;
	memcpy(out->uuid, in->uuid, sizeof(out->uuid));
}

int hvctl_domain_info_get(hvctl *h, uint32_t domid, hvctl_domain_info *info)
{
	struct hvlink_ctl_head req;
	struct hvlink_ctl_dominfo rsp;
	int rc;

	if (!info)
		return ctl_invalid("get information on", domid, "no result buffer");
	ctl_head(&req, domid);
	rc = ctl_call(h, HVLINK_CHAN_CONTROL, HVLINK_CTL_DOMAIN_INFO, &req, sizeof(req), &rsp,
	              sizeof(rsp), "get information on", domid);
	if (rc == HVCTL_OK) {
		if (rsp.domid != domid)
			return ctl_invalid("get information on", domid,
			                   "the machine answered for domain %u", rsp.domid);
		info_from_wire(info, &rsp);
	}
	return rc;
}

int hvctl_domain_list(hvctl *h, uint32_t first, hvctl_domain_info *infos, unsigned max,
                      unsigned *count)
{
	const uint32_t entry = sizeof(struct hvlink_ctl_dominfo);
	struct hvlink_ctl_list req;
	uint32_t room, got = 0, per_call;
	hvctl_error err = {0};
	uint8_t *buf;
	int rc = HVCTL_OK;

	if (!count || (max && !infos))
		return ctl_invalid("list domains", -1, "no result buffer");
	*count = 0;
	if (!h)
		return ctl_invalid("list domains", -1, "no handle");
	room = core_max_payload(h, HVLINK_CHAN_CONTROL, 0);
	if (room < sizeof(struct hvlink_ctl_list_rsp) + entry)
		return ctl_invalid("list domains", -1, "the control channel is too small");
	per_call = (room - sizeof(struct hvlink_ctl_list_rsp)) / entry;
	buf = malloc(room);
	if (!buf)
		return err_publish(
		    &(hvctl_error){.code = HVCTL_ERR_SYSTEM, .message = "out of memory"},
		    "cannot list domains");
	/* Page through the list: each response holds as many entries as the ring allows. */
	while (*count < max) {
		struct hvlink_ctl_list_rsp head;
		unsigned i;

		memset(&req, 0, sizeof(req));
		ctl_head(&req.head, 0);
		req.first_domid = first;
		req.max_entries = max - *count < per_call ? max - *count : per_call;
		rc = core_call(h, HVLINK_CHAN_CONTROL, HVLINK_CTL_DOMAIN_LIST, &req, sizeof(req),
		               buf, room, &got, &err);
		if (rc != HVCTL_OK)
			break;
		memcpy(&head, buf, got >= sizeof(head) ? sizeof(head) : 0);
		if (got < sizeof(head) || head.count > req.max_entries ||
		    got != sizeof(head) + head.count * entry) {
			rc = err_set(&err, HVCTL_ERR_PROTOCOL, "malformed domain list (%u bytes)",
			             got);
			break;
		}
		for (i = 0; i < head.count; i++) {
			struct hvlink_ctl_dominfo di;

			memcpy(&di, buf + sizeof(head) + i * entry, entry);
			if (di.domid < first) {
				rc = err_set(&err, HVCTL_ERR_PROTOCOL,
				             "domain list out of order (%u after %u)", di.domid,
				             first);
				break;
			}
			info_from_wire(&infos[(*count)++], &di);
			first = di.domid + 1;
		}
		if (rc != HVCTL_OK || !head.more || head.count == 0)
			break;
	}
	free(buf);
	if (rc != HVCTL_OK)
		return err_publish(&err, "cannot list domains");
	return HVCTL_OK;
}

static int set_mem(hvctl *h, uint16_t op, uint32_t domid, uint64_t kib, const char *action)
{
	struct hvlink_ctl_mem req = {.kib = kib};

	ctl_head(&req.head, domid);
	return ctl_call(h, HVLINK_CHAN_CONTROL, op, &req, sizeof(req), NULL, 0, action, domid);
}

int hvctl_domain_set_max_mem(hvctl *h, uint32_t domid, uint64_t kib)
{
	if (kib == 0)
		return ctl_invalid("set the maximum memory of", domid, "memory cannot be 0");
	return set_mem(h, HVLINK_CTL_SET_MAX_MEM, domid, kib, "set the maximum memory of");
}

int hvctl_domain_set_current_mem(hvctl *h, uint32_t domid, uint64_t kib)
{
	if (kib == 0)
		return ctl_invalid("set the memory of", domid, "memory cannot be 0");
	return set_mem(h, HVLINK_CTL_SET_CURRENT_MEM, domid, kib, "set the memory of");
}

int hvctl_domain_set_mem_guarantee(hvctl *h, uint32_t domid, uint64_t kib)
{
	return set_mem(h, HVLINK_CTL_SET_MEM_GUARANTEE, domid, kib, "set the memory guarantee of");
}

int hvctl_domain_set_vcpus(hvctl *h, uint32_t domid, unsigned nr_vcpus)
{
	struct hvlink_ctl_vcpus req = {.nr_vcpus = nr_vcpus};

	if (nr_vcpus == 0)
		return ctl_invalid("set the vcpus of", domid, "a domain needs at least one vcpu");
	ctl_head(&req.head, domid);
	return ctl_call(h, HVLINK_CHAN_CONTROL, HVLINK_CTL_SET_VCPUS, &req, sizeof(req), NULL, 0,
	                "set the vcpus of", domid);
}
