/*
 * dom0's control agent: serves the management link (link/link_proto.h, link/link_ctl.h).
 *
 * Loop: with events masked, serve every channel's host-to-machine ring until all are empty,
 * ask the host to notify on the next record (hvlink_ring_prepare_wait), and block in the
 * hypervisor (platform->idle) until the device's event arrives. After serving a request the
 * agent looks at the rings again for agent_spin_us= (default 300 us) before blocking, which
 * halves the round trip of back-to-back requests under emulation (no wake-up of a halted
 * vCPU); once that time has passed without a request it blocks: nothing polls while idle.
 *
 * Every request is checked before anything is done: its kind, its payload length against the
 * exact size of the operation's struct, the control interface version; a request the agent
 * does not understand, or one with a bad length or version, gets an error response with a
 * message for a person and changes nothing. A control request maps 1:1 onto one operation of
 * hv's control hypercall (public/domctl.h, same numbers); the hypercall's result is the
 * response status, so an hv without the operation answers -ENOSYS through the agent.
 *
 * Images arrive on the bulk channel (image.c); DOMAIN_BUILD hands the completed kernel and
 * ramdisk to hv (build_buffer).
 *
 * A peer that breaks the ring protocol (a ring fault) ends our use of the link: we write FAULT
 * in our header line, ring the host, and wait for it to lay the link out again.
 */
#include <kernel.h>
#include <mm.h>
#include <platform.h>
#include <klib/printf.h>
#include <klib/string.h>

#include "../arch/pv/pv.h"
#include "agent.h"
#include "backends.h"
#include "console-back.h"
#include "dom0.h"
#include "guest.h"
#include "link_ctl.h"

#include <public/version.h>

/*
 * The control calls go through dom0's domctl library (include/domctl.h, kernel/domctl.c):
 * domctl_forward() makes the hypercall on a request the agent fills in itself, since every link
 * request carries fields the library's convenience calls do not take (uuid, guarantee, ...).
 */
#include <domctl.h>

#define LIST_MAX        64
#define AGENT_SPIN_US   300 /* default of agent_spin_us= (see the loop) */

static struct dom0_link dev;
static struct hvlink_guest guest;
static bool attached, tried;
static uint32_t attached_generation;
static bool subscribed;
static uint64_t requests_served, errors_answered;

/* ---- sending ------------------------------------------------------------------------- */

static void ring_host(uint16_t vector)
{
	dom0_link_ring(&dev, guest.hdr.host_peer_id, vector);
}

static void link_fault(struct hvlink_ring *r, const char *where)
{
	uint32_t value, ref;
	enum hvlink_fault f = hvlink_ring_fault(r, &value, &ref);

	printk("agent: the host broke the link on %s: %s (value %u, limit %u); stopping\n", where,
	       hvlink_fault_str(f), value, ref);
	hvlink_guest_stop(&guest, HVLINK_STATE_FAULT, f);
	ring_host(0);
	attached = false;
}

/* Writes one record on ch's tx ring, waiting (blocked, not polling) for room. */
static int send_msg(struct hvlink_guest_chan *ch, const struct hvlink_msg *m, const void *payload)
{
	int rc;

	while ((rc = hvlink_ring_write(&ch->tx, m, payload)) == -HVLINK_EAGAIN) {
		if (hvlink_ring_publish(&ch->tx) == 1)
			ring_host(ch->vector);
		rc = hvlink_ring_want_space(&ch->tx, m->len);
		if (rc < 0)
			break;
		if (rc == 0)
			platform->idle();
	}
	if (hvlink_is_fault(rc)) {
		link_fault(&ch->tx, "a response ring");
		return rc;
	}
	if (rc == 0 && hvlink_ring_publish(&ch->tx) == 1)
		ring_host(ch->vector);
	return rc;
}

int agent_link_send(struct hvlink_guest_chan *ch, uint16_t type, uint16_t flags, uint32_t id,
                    const void *head, uint32_t head_len, const void *data, uint32_t data_len)
{
	struct hvlink_msg m = {.len = head_len + data_len, .type = type, .flags = flags, .id = id};
	int rc;

	if (!attached)
		return -HVLINK_EAGAIN;
	rc = hvlink_ring_write2(&ch->tx, &m, head, head_len, data);
	if (hvlink_is_fault(rc)) {
		link_fault(&ch->tx, "a data ring");
		return rc;
	}
	if (rc == 0 && hvlink_ring_publish(&ch->tx) == 1)
		ring_host(ch->vector);
	return rc;
}

struct hvlink_guest_chan *agent_link_channel(uint16_t type)
{
	return attached ? hvlink_guest_chan(&guest, type) : NULL;
}

void agent_respond(struct hvlink_guest_chan *ch, const struct hvlink_msg *req, int32_t status,
                   const void *payload, uint32_t len)
{
	struct hvlink_msg m = {.len = len,
	                       .type = req->type,
	                       .flags = HVLINK_MSG_RESPONSE,
	                       .id = req->id,
	                       .status = status};

	requests_served++;
	send_msg(ch, &m, payload);
}

void agent_fail(struct hvlink_guest_chan *ch, const struct hvlink_msg *req, int err,
                const char *fmt, ...)
{
	char msg[HVLINK_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errors_answered++;
	agent_respond(ch, req, -err, msg, (uint32_t)strlen(msg) + 1);
}

/* ---- hv's control hypercall ---------------------------------------------------------- */

static long domctl(uint32_t cmd, uint32_t domid, struct hv_domctl *op)
{
	op->interface_version = HV_DOMCTL_INTERFACE_VERSION;
	op->cmd = cmd;
	op->domain = domid;
	op->reserved = 0;
	return domctl_forward(op);
}

/* A failed hypercall as a response: the errno passes through unchanged (link_proto.h). */
static void fail_hv(struct hvlink_guest_chan *ch, const struct hvlink_msg *req, long rc,
                    const char *what, uint32_t domid)
{
	if (rc == -HVLINK_ENOSYS)
		agent_fail(ch, req, HVLINK_ENOSYS,
		           "%s: hv does not implement this control operation", what);
	else
		agent_fail(ch, req, (int)-rc, "%s (domain %u): hv answered %ld", what, domid, rc);
}

static void to_link_info(const struct hv_domctl_dominfo *in, struct hvlink_ctl_dominfo *o)
{
	memset(o, 0, sizeof(*o));
	o->domid = in->domid;
	o->state = in->state;
	o->shutdown_reason = in->shutdown_reason;
	o->nr_vcpus = in->nr_vcpus;
	o->max_vcpus = in->max_vcpus;
	o->max_mem_kib = in->max_mem_kib;
	o->current_mem_kib = in->current_mem_kib;
	o->guarantee_kib = in->guarantee_kib;
	o->cpu_time_ns = in->cpu_time_ns;
	memcpy(o->uuid, in->uuid, sizeof(o->uuid));
}

/* After an operation that changes a domain's state: tell a subscribed host. */
static void state_event(uint32_t domid, bool gone)
{
	struct hvlink_guest_chan *ch = hvlink_guest_chan(&guest, HVLINK_CHAN_CONTROL);
	struct hvlink_ctl_ev_state ev = {.domid = domid, .state = HVLINK_DOM_GONE};
	struct hvlink_msg m = {
	    .len = sizeof(ev), .type = HVLINK_CTL_EV_DOMAIN_STATE, .flags = HVLINK_MSG_EVENT};
	static struct hv_domctl op;

	if (!subscribed || !ch)
		return;
	if (!gone) {
		memset(&op, 0, sizeof(op));
		if (domctl(HV_DOMCTL_getinfo, domid, &op))
			return;
		ev.state = op.u.info.state;
		ev.shutdown_reason = op.u.info.shutdown_reason;
	}
	send_msg(ch, &m, &ev);
}

/* ---- control channel ----------------------------------------------------------------- */

/* Exact request size of each control operation (0: unknown). */
static uint32_t ctl_req_size(uint16_t op)
{
	switch (op) {
	case HVLINK_CTL_HELLO:
		return sizeof(struct hvlink_ctl_hello);
	case HVLINK_CTL_PHYSINFO:
	case HVLINK_CTL_DOMAIN_UNPAUSE:
	case HVLINK_CTL_DOMAIN_PAUSE:
	case HVLINK_CTL_DOMAIN_DESTROY:
	case HVLINK_CTL_DOMAIN_INFO:
	case HVLINK_CTL_SCHED_GET:
		return sizeof(struct hvlink_ctl_head);
	case HVLINK_CTL_DOMAIN_CREATE:
		return sizeof(struct hvlink_ctl_create);
	case HVLINK_CTL_DOMAIN_BUILD:
		return sizeof(struct hvlink_ctl_build);
	case HVLINK_CTL_DOMAIN_SHUTDOWN:
		return sizeof(struct hvlink_ctl_shutdown);
	case HVLINK_CTL_DOMAIN_LIST:
		return sizeof(struct hvlink_ctl_list);
	case HVLINK_CTL_SET_MAX_MEM:
	case HVLINK_CTL_SET_CURRENT_MEM:
	case HVLINK_CTL_SET_MEM_GUARANTEE:
		return sizeof(struct hvlink_ctl_mem);
	case HVLINK_CTL_SET_VCPUS:
		return sizeof(struct hvlink_ctl_vcpus);
	case HVLINK_CTL_SCHED_SET:
		return sizeof(struct hvlink_ctl_sched);
	case HVLINK_CTL_BANDWIDTH_GET:
	case HVLINK_CTL_BANDWIDTH_SET:
		return sizeof(struct hvlink_ctl_bandwidth);
	case HVLINK_CTL_SUBSCRIBE:
		return sizeof(struct hvlink_ctl_subscribe);
	case HVLINK_CTL_DEVICE_ADD:
	case HVLINK_CTL_DEVICE_REMOVE:
		return sizeof(struct hvlink_ctl_device);
	default:
		return 0;
	}
}

static void hv_version(char *buf, size_t size)
{
	char extra[16] = "";
	long v = HYPERVISOR_xen_version(XENVER_version, NULL);

	HYPERVISOR_xen_version(XENVER_extraversion, extra);
	extra[sizeof(extra) - 1] = '\0';
	snprintf(buf, size, "%ld.%ld%s", v >> 16, v & 0xffff, extra);
}

static union {
	struct hvlink_ctl_head head;
	struct hvlink_ctl_hello hello;
	struct hvlink_ctl_create create;
	struct hvlink_ctl_build build;
	struct hvlink_ctl_shutdown shutdown;
	struct hvlink_ctl_list list;
	struct hvlink_ctl_mem mem;
	struct hvlink_ctl_vcpus vcpus;
	struct hvlink_ctl_sched sched;
	struct hvlink_ctl_bandwidth bw;
	struct hvlink_ctl_subscribe sub;
	struct hvlink_ctl_device dev;
} q; /* the request being served (copied out of the ring) */

/* Domain 0 itself asked to shut down: answer, close the link in order, go. */
static __noreturn void shutdown_self(struct hvlink_guest_chan *ch, const struct hvlink_msg *m)
{
	agent_respond(ch, m, 0, NULL, 0);
	printk("agent: shutdown asked through the link (reason %u)\n", q.shutdown.reason);
	hvlink_guest_stop(&guest, HVLINK_STATE_CLOSED, HVLINK_FAULT_NONE);
	ring_host(0);
	platform->shutdown((int)q.shutdown.reason);
}

/* The operations that are one call of hv's control hypercall each. */
static void ctl_hv_op(struct hvlink_guest_chan *ch, const struct hvlink_msg *m)
{
	static struct hv_domctl op;
	static struct hv_domctl_dominfo infos[LIST_MAX];
	static uint8_t
	    out[sizeof(struct hvlink_ctl_list_rsp) + LIST_MAX * sizeof(struct hvlink_ctl_dominfo)];
	uint16_t type = m->type;
	uint32_t domid = q.head.domid;
	long rc;

	memset(&op, 0, sizeof(op));
	switch (type) {
	case HVLINK_CTL_PHYSINFO: {
		struct hvlink_ctl_physinfo pi;

		if ((rc = domctl(HV_DOMCTL_physinfo, 0, &op))) {
			fail_hv(ch, m, rc, "physinfo", 0);
			return;
		}
		memset(&pi, 0, sizeof(pi));
		pi.nr_cpus = op.u.physinfo.nr_cpus;
		pi.cpu_khz = op.u.physinfo.cpu_khz;
		pi.total_kib = op.u.physinfo.total_kib;
		pi.free_kib = op.u.physinfo.free_kib;
		/* hv's physinfo does not report admissible reservation yet: 0 = unknown. */
		agent_respond(ch, m, 0, &pi, sizeof(pi));
		return;
	}
	case HVLINK_CTL_DOMAIN_CREATE: {
		struct hvlink_ctl_domid id = {0};

		if (q.create.flags) {
			agent_fail(ch, m, HVLINK_EINVAL, "create: flags %#x are reserved",
			           q.create.flags);
			return;
		}
		memcpy(op.u.create.uuid, q.create.uuid, sizeof(op.u.create.uuid));
		op.u.create.max_vcpus = q.create.max_vcpus;
		op.u.create.max_mem_kib = q.create.max_mem_kib;
		op.u.create.current_mem_kib = q.create.current_mem_kib;
		op.u.create.guarantee_kib = q.create.guarantee_kib;
		op.u.create.weight = q.create.weight;
		op.u.create.cap = q.create.cap;
		op.u.create.reservation = q.create.reservation;
		op.u.create.domid = domid;
		if ((rc = domctl(HV_DOMCTL_create, 0, &op))) {
			fail_hv(ch, m, rc, "create", domid);
			return;
		}
		id.domid = op.u.create.domid;
		agent_respond(ch, m, 0, &id, sizeof(id));
		state_event(id.domid, false);
		return;
	}
	case HVLINK_CTL_DOMAIN_BUILD: {
		struct agent_image *kernel, *ramdisk = NULL;

		kernel = image_completed(q.build.kernel_xfer, HVLINK_BULK_KERNEL);
		if (!kernel) {
			agent_fail(ch, m, HVLINK_EINVAL, "no completed kernel image transfer %u",
			           q.build.kernel_xfer);
			return;
		}
		if (q.build.ramdisk_xfer &&
		    !(ramdisk = image_completed(q.build.ramdisk_xfer, HVLINK_BULK_RAMDISK))) {
			agent_fail(ch, m, HVLINK_EINVAL, "no completed ramdisk image transfer %u",
			           q.build.ramdisk_xfer);
			return;
		}
		op.u.build.image = (uint64_t)(uintptr_t)kernel->buf;
		op.u.build.image_len = kernel->total;
		if (ramdisk) {
			op.u.build.ramdisk = (uint64_t)(uintptr_t)ramdisk->buf;
			op.u.build.ramdisk_len = ramdisk->total;
		}
		q.build.cmdline[HVLINK_CMDLINE_MAX - 1] = '\0';
		strlcpy(op.u.build.cmdline, q.build.cmdline, sizeof(op.u.build.cmdline));
		rc = domctl(HV_DOMCTL_build_buffer, domid, &op);
		image_release_all(); /* used once, whatever the result */
		if (rc) {
			fail_hv(ch, m, rc, "build", domid);
			return;
		}
		console_back_attach((uint16_t)domid); /* without it the domU still runs */
		if ((rc = backends_domain_built((uint16_t)domid)))
			printk("agent: domain %u has no XenStore (%ld): it gets no devices\n",
			       domid, rc);
		agent_respond(ch, m, 0, NULL, 0);
		return;
	}
	case HVLINK_CTL_DOMAIN_SHUTDOWN:
		op.u.shutdown.reason = q.shutdown.reason;
		if ((rc = domctl(HV_DOMCTL_shutdown, domid, &op))) {
			fail_hv(ch, m, rc, "shutdown", domid);
			return;
		}
		agent_respond(ch, m, 0, NULL, 0);
		state_event(domid, false);
		return;
	case HVLINK_CTL_DOMAIN_UNPAUSE:
	case HVLINK_CTL_DOMAIN_PAUSE:
	case HVLINK_CTL_DOMAIN_DESTROY:
		if (type == HVLINK_CTL_DOMAIN_DESTROY) {
			backends_domain_destroy((uint16_t)domid); /* unmaps all we map of it */
			console_back_detach((uint16_t)domid);     /* hv frees the page we map */
		}
		rc = domctl(type == HVLINK_CTL_DOMAIN_UNPAUSE ? HV_DOMCTL_unpause
		            : type == HVLINK_CTL_DOMAIN_PAUSE ? HV_DOMCTL_pause
		                                              : HV_DOMCTL_destroy,
		            domid, &op);
		if (rc) {
			fail_hv(ch, m, rc,
			        type == HVLINK_CTL_DOMAIN_UNPAUSE ? "unpause"
			        : type == HVLINK_CTL_DOMAIN_PAUSE ? "pause"
			                                          : "destroy",
			        domid);
			return;
		}
		agent_respond(ch, m, 0, NULL, 0);
		state_event(domid, type == HVLINK_CTL_DOMAIN_DESTROY);
		return;
	case HVLINK_CTL_DOMAIN_INFO: {
		struct hvlink_ctl_dominfo o;

		if ((rc = domctl(HV_DOMCTL_getinfo, domid, &op))) {
			fail_hv(ch, m, rc, "info", domid);
			return;
		}
		to_link_info(&op.u.info, &o);
		agent_respond(ch, m, 0, &o, sizeof(o));
		return;
	}
	case HVLINK_CTL_DOMAIN_LIST: {
		struct hvlink_ctl_list_rsp head = {0};

		op.u.list.first_domid = q.list.first_domid;
		op.u.list.max_entries = MIN(q.list.max_entries, (uint32_t)LIST_MAX);
		op.u.list.buffer = (uint64_t)(uintptr_t)infos;
		if ((rc = domctl(HV_DOMCTL_list, 0, &op))) {
			fail_hv(ch, m, rc, "list", 0);
			return;
		}
		head.count = MIN(op.u.list.count, op.u.list.max_entries);
		head.more = op.u.list.more;
		memcpy(out, &head, sizeof(head));
		for (uint32_t i = 0; i < head.count; i++)
			to_link_info(&infos[i],
			             (struct hvlink_ctl_dominfo *)(out + sizeof(head)) + i);
		agent_respond(
		    ch, m, 0, out,
		    (uint32_t)(sizeof(head) + head.count * sizeof(struct hvlink_ctl_dominfo)));
		return;
	}
	case HVLINK_CTL_SET_MAX_MEM:
	case HVLINK_CTL_SET_CURRENT_MEM:
	case HVLINK_CTL_SET_MEM_GUARANTEE:
		op.u.mem.kib = q.mem.kib;
		if ((rc = domctl(type, domid, &op))) /* same numbers (public/domctl.h) */
		{
			fail_hv(ch, m, rc, "set memory", domid);
			return;
		}
		agent_respond(ch, m, 0, NULL, 0);
		return;
	case HVLINK_CTL_SET_VCPUS:
		op.u.vcpus.nr_vcpus = q.vcpus.nr_vcpus;
		if ((rc = domctl(HV_DOMCTL_set_vcpus, domid, &op))) {
			fail_hv(ch, m, rc, "set vcpus", domid);
			return;
		}
		agent_respond(ch, m, 0, NULL, 0);
		return;
	case HVLINK_CTL_SCHED_GET: {
		struct hvlink_ctl_sched s = {.head = q.head};

		if ((rc = domctl(HV_DOMCTL_sched_get, domid, &op))) {
			fail_hv(ch, m, rc, "scheduler parameters", domid);
			return;
		}
		s.weight = op.u.sched.weight;
		s.cap = op.u.sched.cap;
		s.reservation = op.u.sched.reservation;
		agent_respond(ch, m, 0, &s, sizeof(s));
		return;
	}
	case HVLINK_CTL_SCHED_SET:
		op.u.sched.weight = q.sched.weight;
		op.u.sched.cap = q.sched.cap;
		op.u.sched.reservation = q.sched.reservation;
		if ((rc = domctl(HV_DOMCTL_sched_set, domid, &op))) {
			fail_hv(ch, m, rc, "set scheduler parameters", domid);
			return;
		}
		agent_respond(ch, m, 0, NULL, 0);
		return;
	default:
		agent_fail(ch, m, HVLINK_ENOSYS, "control operation %u is not implemented", type);
		return;
	}
}

static void ctl_request(struct hvlink_guest_chan *ch, const struct hvlink_msg *m)
{
	uint16_t type = m->type;
	uint32_t want = ctl_req_size(type);
	unsigned int kind = m->flags & HVLINK_MSG_KIND_MASK;

	if (kind != HVLINK_MSG_REQUEST) {
		if (kind == HVLINK_MSG_NOREPLY)
			agent_fail(ch, m, HVLINK_EINVAL, "control messages must be requests");
		return; /* responses and events from the host: nothing to answer */
	}
	if (want == 0) {
		agent_fail(ch, m, HVLINK_ENOSYS, "unknown control operation %u", type);
		return;
	}
	if (m->len != want) {
		agent_fail(ch, m, HVLINK_EINVAL, "control operation %u: %u bytes, expected %u",
		           type, m->len, want);
		return;
	}
	hvlink_ring_copy_payload(&ch->rx, 0, &q, want);
	if (q.head.interface_version != HVLINK_CTL_INTERFACE_VERSION) {
		agent_fail(ch, m, HVLINK_EPROTO,
		           "control interface version %u, the agent speaks %u",
		           q.head.interface_version, HVLINK_CTL_INTERFACE_VERSION);
		return;
	}
	switch (type) {
	case HVLINK_CTL_HELLO: {
		struct hvlink_ctl_hello_rsp h = {.agent_link_major = HVLINK_VERSION_MAJOR,
		                                 .agent_link_minor = HVLINK_VERSION_MINOR,
		                                 .interface_version = HVLINK_CTL_INTERFACE_VERSION};

		hv_version(h.hv_version, sizeof(h.hv_version));
		agent_respond(ch, m, 0, &h, sizeof(h));
		return;
	}
	case HVLINK_CTL_DOMAIN_SHUTDOWN:
		if (q.shutdown.reason > HVLINK_SHUTDOWN_CRASH) {
			agent_fail(ch, m, HVLINK_EINVAL, "bad shutdown reason %u",
			           q.shutdown.reason);
			return;
		}
		if (q.head.domid == 0)
			shutdown_self(ch, m);
		ctl_hv_op(ch, m);
		return;
	case HVLINK_CTL_BANDWIDTH_GET: {
		struct hvlink_ctl_bandwidth bw = q.bw;
		int rc = backends_bandwidth_get(&bw);

		if (rc)
			agent_fail(ch, m, -rc, "no bandwidth settings for kind %u index %u of domain %u",
			           q.bw.kind, q.bw.index, q.head.domid);
		else
			agent_respond(ch, m, 0, &bw, sizeof(bw));
		return;
	}
	case HVLINK_CTL_BANDWIDTH_SET: {
		int rc = backends_bandwidth_set(&q.bw);

		if (rc)
			agent_fail(ch, m, -rc, "bandwidth of kind %u index %u of domain %u not set",
			           q.bw.kind, q.bw.index, q.head.domid);
		else
			agent_respond(ch, m, 0, NULL, 0);
		return;
	}
	case HVLINK_CTL_DEVICE_ADD:
	case HVLINK_CTL_DEVICE_REMOVE: {
		int rc = type == HVLINK_CTL_DEVICE_ADD
		             ? devices_add(&q.dev)
		             : devices_remove((uint16_t)q.head.domid, q.dev.kind, q.dev.devid);

		if (rc)
			agent_fail(ch, m, -rc, "device kind %u id %u of domain %u: %s failed (%d)",
			           q.dev.kind, q.dev.devid, q.head.domid,
			           type == HVLINK_CTL_DEVICE_ADD ? "add" : "remove", rc);
		else
			agent_respond(ch, m, 0, NULL, 0);
		return;
	}
	case HVLINK_CTL_SUBSCRIBE:
		subscribed = q.sub.enable != 0;
		agent_respond(ch, m, 0, NULL, 0);
		return;
	default:
		ctl_hv_op(ch, m);
		return;
	}
}

/* Console channel: the domU's log read from the host's cursor, input into its ring. */
static void console_request(struct hvlink_guest_chan *ch, const struct hvlink_msg *m)
{
	static uint8_t buf[4096];
	union {
		struct hvlink_con_read rd;
		struct hvlink_con_write wr;
	} q;
	uint32_t n = 0, len = m->len;
	int rc;

	if ((m->flags & HVLINK_MSG_KIND_MASK) != HVLINK_MSG_REQUEST)
		return;
	if (len >= sizeof(struct hvlink_ctl_head)) {
		struct hvlink_ctl_head head;

		hvlink_ring_copy_payload(&ch->rx, 0, &head, sizeof(head));
		if (head.interface_version != HVLINK_CTL_INTERFACE_VERSION) {
			agent_fail(ch, m, HVLINK_EPROTO,
			           "control interface version %u, the agent speaks %u",
			           head.interface_version, HVLINK_CTL_INTERFACE_VERSION);
			return;
		}
	}
	if (m->type == HVLINK_CON_READ && len == sizeof(q.rd)) {
		hvlink_ring_copy_payload(&ch->rx, 0, &q.rd, sizeof(q.rd));
		rc = console_back_read((uint16_t)q.rd.head.domid, buf,
		                       q.rd.max < sizeof(buf) ? q.rd.max : sizeof(buf), &n);
		if (rc)
			agent_fail(ch, m, HVLINK_ENOENT, "domain %u has no console",
			           q.rd.head.domid);
		else
			agent_respond(ch, m, 0, buf, n);
	} else if (m->type == HVLINK_CON_WRITE && len >= sizeof(q.wr) &&
	           len - sizeof(q.wr) <= sizeof(buf)) {
		struct hvlink_con_written w = {0};

		hvlink_ring_copy_payload(&ch->rx, 0, &q.wr, sizeof(q.wr));
		hvlink_ring_copy_payload(&ch->rx, sizeof(q.wr), buf, len - (uint32_t)sizeof(q.wr));
		rc = console_back_write((uint16_t)q.wr.head.domid, buf,
		                        len - (uint32_t)sizeof(q.wr), &w.written);
		if (rc)
			agent_fail(ch, m, HVLINK_ENOENT, "domain %u has no console",
			           q.wr.head.domid);
		else
			agent_respond(ch, m, 0, &w, sizeof(w));
	} else {
		agent_fail(ch, m, HVLINK_EINVAL, "bad console request (type %u, %u bytes)", m->type,
		           len);
	}
}

/* ---- the loop ------------------------------------------------------------------------ */

/* Serves every record waiting on ch. Returns false if the link faulted. */
static bool serve_channel(struct hvlink_guest_chan *ch)
{
	struct hvlink_msg m;
	int rc;

	while (attached && (rc = hvlink_ring_peek(&ch->rx, &m)) == 1) {
		if (ch->type == HVLINK_CHAN_CONTROL)
			ctl_request(ch, &m);
		else if (ch->type == HVLINK_CHAN_BULK)
			bulk_request(ch, &m);
		else if (ch->type == HVLINK_CHAN_CONSOLE)
			console_request(ch, &m);
		else if (ch->type == HVLINK_CHAN_BLOCK)
			backends_link_block(ch, &m);
		else if (ch->type == HVLINK_CHAN_NET)
			backends_link_net(ch, &m);
		else if ((m.flags & HVLINK_MSG_KIND_MASK) == HVLINK_MSG_REQUEST)
			agent_fail(ch, &m, HVLINK_ENOSYS, "channel type %u is not served",
			           ch->type);
		if (!attached)
			return false;
		rc = hvlink_ring_consume(&ch->rx);
		if (hvlink_is_fault(rc)) {
			link_fault(&ch->rx, "a request ring");
			return false;
		}
		if (rc == 1)
			ring_host(ch->vector);
	}
	if (attached && hvlink_is_fault(rc)) {
		link_fault(&ch->rx, "a request ring");
		return false;
	}
	return attached;
}

static void try_attach(void)
{
	enum hvlink_fault f;

	if (!hvlink_guest_host_ready(dev.shm))
		return;
	tried = true;
	f = hvlink_guest_attach(&guest, dev.shm, dev.shm_size, dev.ivposition);
	ring_host(0);
	if (f != HVLINK_FAULT_NONE) {
		printk("agent: refused the link: %s\n", hvlink_fault_str(f));
		attached_generation = guest.hdr.generation;
		return;
	}
	attached = true;
	attached_generation = guest.hdr.generation;
	subscribed = false;
	image_release_all();
	printk("agent: attached to the link (generation %u, %u channels)\n", guest.hdr.generation,
	       guest.nr_chans);
}

/* Copies between two buffers of dom0's memory for a while: MiB/s of klib's memcpy. */
static void memcpy_bandwidth(void)
{
	const unsigned long pages = 256; /* 1 MiB */
	static void *bufs[2][256];
	static uint64_t mfns[2][256];
	uint8_t *a, *b;
	uint64_t t0, t1, bytes = 0;

	for (int k = 0; k < 2; k++)
		for (unsigned long i = 0; i < pages; i++) {
			bufs[k][i] = alloc_page();
			if (!bufs[k][i]) {
				printk("agent: no memory for the memcpy measurement\n");
				return;
			}
			mfns[k][i] = pv_virt_to_mfn(bufs[k][i]);
		}
	a = dom0_map_frames(mfns[0], pages, false);
	b = dom0_map_frames(mfns[1], pages, false);
	if (!a || !b)
		return;
	memcpy(b, a, pages * PAGE_SIZE); /* warm up */
	t0 = platform->time_ns();
	do {
		memcpy(b, a, pages * PAGE_SIZE);
		bytes += pages * PAGE_SIZE;
		t1 = platform->time_ns();
	} while (t1 - t0 < 200000000ULL && bytes < (256UL << 20));
	printk("agent: memcpy bandwidth %llu KiB/s (%llu bytes in %llu ns)\n",
	       (unsigned long long)(bytes * 1000000000ULL / 1024 / (t1 - t0)),
	       (unsigned long long)bytes, (unsigned long long)(t1 - t0));
	dom0_unmap(a, pages);
	dom0_unmap(b, pages);
	for (int k = 0; k < 2; k++)
		for (unsigned long i = 0; i < pages; i++)
			free_page(bufs[k][i]);
}

__noreturn void dom0_agent_main(void)
{
	if (strcmp(platform->name, "xen-pv") != 0) {
		printk("agent: dom0's agent needs the Xen-PV platform (this is %s)\n", platform->name);
		platform->shutdown(PLATFORM_CRASH);
	}
	if (dom0_link_init(&dev)) {
		printk("agent: no management link; powering off\n");
		platform->shutdown(PLATFORM_CRASH);
	}
	char arg[24];
	uint64_t spin_ns = AGENT_SPIN_US * 1000ULL, seen = 0, busy_at = 0;

	if (cmdline_get(platform->cmdline, "agent_spin_us", arg, sizeof(arg)) == 0) {
		spin_ns = 0;
		for (const char *p = arg; *p >= '0' && *p <= '9' && spin_ns < 1000000000ULL; p++)
			spin_ns = spin_ns * 10 + (uint64_t)(*p - '0') * 1000;
	}
	printk("agent: looking again for %llu us after each request before blocking\n",
	       (unsigned long long)(spin_ns / 1000));
	crc32_init_tables();
	memcpy_bandwidth();
	backends_init();
	platform->irq_save();
	for (;;) {
		bool again = false;

		if (!attached) {
			/* The first layout, or a new one (generation) after a close or fault. */
			const struct hvlink_header *h = (const void *)dev.shm;

			if (hvlink_guest_host_ready(dev.shm) &&
			    (!tried || READ_ONCE(h->generation) != attached_generation))
				try_attach();
		} else if (hvlink_guest_host_state(&guest) != HVLINK_STATE_READY) {
			printk("agent: the host left the link (state %u)\n",
			       hvlink_guest_host_state(&guest));
			attached = false;
			continue;
		}
		console_back_poll(); /* domUs' output into their logs (they may wait for room) */
		if (backends_poll())
			again = true; /* a back end did work: look at every ring again before idling */
		for (unsigned int i = 0; attached && i < guest.nr_chans; i++) {
			struct hvlink_guest_chan *ch = &guest.chans[i];
			int rc;

			if (ch->type == HVLINK_CHAN_NONE || !serve_channel(ch))
				continue;
			rc = hvlink_ring_prepare_wait(&ch->rx);
			if (hvlink_is_fault(rc))
				link_fault(&ch->rx, "a request ring");
			else if (rc == 1)
				again = true;
		}
		if (again)
			continue;
		/* Right after serving, look again for a short while before blocking: a client that
		 * sends its next request at once then finds us awake. Idle means blocked. */
		if (requests_served != seen) {
			seen = requests_served;
			busy_at = platform->time_ns();
		}
		if (spin_ns && platform->time_ns() - busy_at < spin_ns)
			continue;
		platform->idle(); /* blocks until the device's event (or a timer) */
	}
}
