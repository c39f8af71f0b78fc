/*
 * Test stand-in for dom0's control agent (see fake_agent.h). Every request is checked the way
 * the real agent must check it (payload size, interface version, domain existence, ranges)
 * and answered with -errno and a message on failure.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_agent.h"

void fake_agent_init(struct fake_agent *a, unsigned nr_cpus)
{
	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->lock, NULL);
	a->next_domid = 1;
	a->nr_cpus = nr_cpus;
	a->agent_major = HVLINK_VERSION_MAJOR;
	a->agent_minor = HVLINK_VERSION_MINOR;
}

void fake_agent_destroy(struct fake_agent *a)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		free(a->xfers[i].data);
	pthread_mutex_destroy(&a->lock);
}

uint32_t fake_crc32(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t crc = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc & 1) ? 0xedb88320u ^ (crc >> 1) : crc >> 1;
	}
	return crc ^ 0xffffffffu;
}

/* link/bulk_sum.h's sums, written out plainly (word by word, bytes assembled by hand). */
void fake_sum64(const void *data, size_t len, uint64_t *a, uint64_t *b)
{
	const uint8_t *p = data;
	size_t i, k;

	*a = *b = 0;
	for (i = 0; i < len; i += 8) {
		uint64_t w = 0;

		for (k = 0; k < 8 && i + k < len; k++)
			w |= (uint64_t)p[i + k] << (8 * k);
		*a += w;
		*b += *a;
	}
}

struct reply_to {
	struct fake_agent *a;
	fake_reply_fn fn;
	void *ctx;
	uint16_t chan;
	const struct hvlink_msg *req;
};

static void answer(struct reply_to *r, int32_t status, const void *payload, uint32_t len)
{
	struct hvlink_msg m = {.len = len,
	                       .type = r->req->type,
	                       .flags = HVLINK_MSG_RESPONSE,
	                       .id = r->req->id,
	                       .status = status};

	r->fn(r->ctx, r->chan, &m, payload);
}

static void fail(struct reply_to *r, int e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct reply_to *r, int e, const char *fmt, ...)
{
	char msg[HVLINK_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->a->ugly_errors)
		snprintf(msg, sizeof(msg), "\033[2Jugly\nmessage\377");
	answer(r, -e, msg, (uint32_t)strlen(msg) + 1);
}

static void event(struct fake_agent *a, struct reply_to *r, const struct fake_domain *d)
{
	struct hvlink_ctl_ev_state ev = {
	    .domid = d->domid, .state = d->state, .shutdown_reason = d->reason};
	struct hvlink_msg m = {
	    .len = sizeof(ev), .type = HVLINK_CTL_EV_DOMAIN_STATE, .flags = HVLINK_MSG_EVENT};

	if (a->subscribed)
		r->fn(r->ctx, HVLINK_CHAN_CONTROL, &m, &ev);
}

static struct fake_domain *find(struct fake_agent *a, uint32_t domid)
{
	unsigned i;

	for (i = 0; i < FAKE_MAX_DOMAINS; i++)
		if (a->doms[i].used && a->doms[i].domid == domid)
			return &a->doms[i];
	return NULL;
}

static unsigned reserved_total(struct fake_agent *a, const struct fake_domain *except)
{
	unsigned i, sum = 0;

	for (i = 0; i < FAKE_MAX_DOMAINS; i++)
		if (a->doms[i].used && &a->doms[i] != except)
			sum += a->doms[i].reservation * a->doms[i].max_vcpus;
	return sum;
}

static void to_info(const struct fake_domain *d, struct hvlink_ctl_dominfo *o)
{
	memset(o, 0, sizeof(*o));
	o->domid = d->domid;
	o->state = d->state;
	o->shutdown_reason = d->reason;
	o->nr_vcpus = d->nr_vcpus;
	o->max_vcpus = d->max_vcpus;
	o->max_mem_kib = d->max_kib;
	o->current_mem_kib = d->cur_kib;
	o->guarantee_kib = d->guarantee_kib;
	o->cpu_time_ns = d->state == HVLINK_DOM_RUNNING ? 1000000 : 0;
	memcpy(o->uuid, d->uuid, 16);
}

static struct fake_xfer *find_xfer(struct fake_agent *a, uint32_t x)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		if (a->xfers[i].xfer == x && a->xfers[i].data)
			return &a->xfers[i];
	return NULL;
}

static void handle_bulk(struct fake_agent *a, struct reply_to *r, const struct hvlink_msg *m,
                        const uint8_t *p)
{
	struct fake_xfer *x;

	if (m->type == HVLINK_BULK_BEGIN && m->len == sizeof(struct hvlink_bulk_begin)) {
		struct hvlink_bulk_begin b;
		unsigned i;

		memcpy(&b, p, sizeof(b));
		for (i = 0; i < 4 && a->xfers[i].data; i++)
			;
		if (i == 4 || b.total > (64u << 20)) {
			fail(r, HVLINK_ENOMEM, "no room for an image of %llu bytes",
			     (unsigned long long)b.total);
			return;
		}
		x = &a->xfers[i];
		memset(x, 0, sizeof(*x));
		x->xfer = b.xfer;
		x->kind = b.kind & ~HVLINK_BULK_SUM64;
		x->summed = (b.kind & HVLINK_BULK_SUM64) != 0;
		x->total = b.total;
		x->data = malloc(b.total ? b.total : 1);
		/* A 1.0 agent knows no check flag: the kind is bad, END says so. */
		if (x->summed && a->agent_minor < 1)
			x->error = -HVLINK_EINVAL;
	} else if (m->type == HVLINK_BULK_DATA && m->len >= sizeof(struct hvlink_bulk_data)) {
		struct hvlink_bulk_data d;
		uint32_t n = m->len - sizeof(d);

		memcpy(&d, p, sizeof(d));
		x = find_xfer(a, d.xfer);
		if (!x)
			return;
		if (d.offset != x->got || n > x->total - x->got) {
			if (!x->error)
				x->error = -HVLINK_EINVAL;
			return;
		}
		memcpy(x->data + x->got, p + sizeof(d), n);
		x->got += n;
	} else if (m->type == HVLINK_BULK_END && m->len == sizeof(struct hvlink_bulk_end)) {
		struct hvlink_bulk_end e;

		memcpy(&e, p, sizeof(e));
		x = find_xfer(a, e.xfer);
		if (!x) {
			fail(r, HVLINK_ENOENT, "no image transfer %u", e.xfer);
		} else if (x->error || x->got != x->total) {
			fail(r, HVLINK_EIO, "image transfer %u incomplete: %llu of %llu bytes",
			     e.xfer, (unsigned long long)x->got, (unsigned long long)x->total);
		} else if (fake_crc32(x->data, x->total) != e.crc32) {
			fail(r, HVLINK_EIO, "image transfer %u: checksum mismatch", e.xfer);
		} else {
			x->complete = 1;
			if (x->kind == HVLINK_BULK_KERNEL) {
				a->last_kernel_len = x->total;
				a->last_kernel_crc = e.crc32;
				a->last_kernel_summed = 0;
			}
			answer(r, 0, NULL, 0);
		}
	} else if (m->type == HVLINK_BULK_END_SUM && a->agent_minor < 1) {
		fail(r, HVLINK_ENOSYS, "unknown bulk message type %u", m->type);
	} else if (m->type == HVLINK_BULK_END_SUM && m->len == sizeof(struct hvlink_bulk_end_sum)) {
		struct hvlink_bulk_end_sum e;
		uint64_t sa, sb;

		memcpy(&e, p, sizeof(e));
		x = find_xfer(a, e.xfer);
		if (!x) {
			fail(r, HVLINK_ENOENT, "no image transfer %u", e.xfer);
		} else if (x->error || x->got != x->total || !x->summed) {
			fail(r, HVLINK_EIO, "image transfer %u incomplete or not summed", e.xfer);
		} else if (fake_sum64(x->data, x->total, &sa, &sb),
		           sa != e.sum_a || sb != e.sum_b) {
			fail(r, HVLINK_EIO, "image transfer %u: checksum mismatch", e.xfer);
		} else {
			x->complete = 1;
			if (x->kind == HVLINK_BULK_KERNEL) {
				a->last_kernel_len = x->total;
				a->last_kernel_crc = fake_crc32(x->data, x->total);
				a->last_kernel_summed = 1;
			}
			answer(r, 0, NULL, 0);
		}
	} else {
		fail(r, HVLINK_EINVAL, "malformed bulk message type %u", m->type);
	}
}

static void handle_console(struct fake_agent *a, struct reply_to *r, const struct hvlink_msg *m,
                           const uint8_t *p)
{
	struct hvlink_ctl_head head;
	struct fake_domain *d;

	if (m->len < sizeof(head)) {
		fail(r, HVLINK_EINVAL, "console request too short");
		return;
	}
	memcpy(&head, p, sizeof(head));
	d = find(a, head.domid);
	if (!d) {
		fail(r, HVLINK_ESRCH, "no domain %u", head.domid);
		return;
	}
	if (m->type == HVLINK_CON_WRITE) {
		/* The simulated console echoes input to output, as a shell would. */
		uint32_t n = m->len - sizeof(head), room = FAKE_CONSOLE - d->out_len;
		struct hvlink_con_written w = {.written = n < room ? n : room};

		memcpy(d->out + d->out_len, p + sizeof(head), w.written);
		d->out_len += w.written;
		answer(r, 0, &w, sizeof(w));
	} else if (m->type == HVLINK_CON_READ && m->len == sizeof(struct hvlink_con_read)) {
		struct hvlink_con_read rq;
		size_t n;

		memcpy(&rq, p, sizeof(rq));
		n = rq.max < d->out_len ? rq.max : d->out_len;
		answer(r, 0, d->out, (uint32_t)n);
		memmove(d->out, d->out + n, d->out_len - n);
		d->out_len -= n;
	} else {
		fail(r, HVLINK_EINVAL, "malformed console request");
	}
}

/* Expected request size per control op. */
static uint32_t req_size(uint16_t op)
{
	switch (op) {
	case HVLINK_CTL_HELLO:
		return sizeof(struct hvlink_ctl_hello);
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
		return sizeof(struct hvlink_ctl_head);
	}
}

/* The test-only operations of fake_agent.h: the agent plays dom0's back ends. */
static void handle_test_op(struct fake_agent *a, struct reply_to *r, const struct hvlink_msg *m,
                           const uint8_t *p)
{
	if (m->type == FAKE_OP_BLOCK) {
		struct fake_blk_op op;
		struct hvlink_msg b = {.flags = HVLINK_MSG_REQUEST};
		unsigned i;

		if (m->len < sizeof(op)) {
			fail(r, HVLINK_EINVAL, "short block test op");
			return;
		}
		for (i = 0; i < 16 && a->blk_pending[i].blk_id; i++)
			;
		if (i == 16) {
			fail(r, HVLINK_EBUSY, "too many block requests in flight");
			return;
		}
		memcpy(&op, p, sizeof(op));
		if (op.fill_len > (4u << 20)) {
			fail(r, HVLINK_EINVAL, "fill of %u bytes", op.fill_len);
			return;
		}
		a->blk_pending[i].blk_id = b.id =
		    ++a->next_blk_id ? a->next_blk_id : ++a->next_blk_id;
		a->blk_pending[i].ctl_id = m->id;
		b.type = (uint16_t)op.blk_type;
		b.len = m->len - (uint32_t)sizeof(op) + op.fill_len;
		{
			uint8_t *req = malloc(b.len + 1);
			uint32_t k, given = m->len - (uint32_t)sizeof(op);

			if (!req) {
				a->blk_pending[i].blk_id = 0;
				fail(r, HVLINK_ENOMEM, "no memory");
				return;
			}
			memcpy(req, p + sizeof(op), given);
			for (k = 0; k < op.fill_len; k++)
				req[given + k] = fake_pattern(k, op.seed);
			r->fn(r->ctx, HVLINK_CHAN_BLOCK, &b, req);
			free(req);
		}
	} else if (m->type == FAKE_OP_NET_SEND) {
		struct hvlink_msg n = {
		    .len = m->len, .type = HVLINK_NET_FRAME, .flags = HVLINK_MSG_NOREPLY};

		r->fn(r->ctx, HVLINK_CHAN_NET, &n, p);
		answer(r, 0, NULL, 0);
	} else {
		if (a->net_count == 0) {
			fail(r, HVLINK_ENOENT, "no frame from the host");
			return;
		}
		answer(r, 0, a->net_q[a->net_head].data, a->net_q[a->net_head].len);
		a->net_head = (a->net_head + 1) % FAKE_NET_QUEUE;
		a->net_count--;
	}
}

/* The host's answer to a block request sent by FAKE_OP_BLOCK: answers that call. */
static void handle_block(struct fake_agent *a, struct reply_to *r, const struct hvlink_msg *m,
                         const uint8_t *p)
{
	uint8_t out[sizeof(struct fake_blk_result) + FAKE_BLK_HEAD];
	struct fake_blk_result res = {.len = m->len, .crc32 = fake_crc32(p, m->len)};
	struct hvlink_msg c = {
	    .type = FAKE_OP_BLOCK, .flags = HVLINK_MSG_RESPONSE, .status = m->status};
	uint32_t head = m->len < FAKE_BLK_HEAD ? m->len : FAKE_BLK_HEAD;
	unsigned i;

	if ((m->flags & HVLINK_MSG_KIND_MASK) != HVLINK_MSG_RESPONSE)
		return;
	for (i = 0; i < 16 && a->blk_pending[i].blk_id != m->id; i++)
		;
	if (i == 16 || m->id == 0)
		return; /* an answer to nothing: dom0 drops it */
	c.id = a->blk_pending[i].ctl_id;
	a->blk_pending[i].blk_id = 0;
	memcpy(out, &res, sizeof(res));
	memcpy(out + sizeof(res), p, head);
	c.len = (uint32_t)sizeof(res) + head;
	r->fn(r->ctx, HVLINK_CHAN_CONTROL, &c, out);
}

/* A frame from the host's TAP: kept for FAKE_OP_NET_RECV. */
static void handle_net(struct fake_agent *a, const struct hvlink_msg *m, const uint8_t *p)
{
	unsigned tail;

	if (m->type != HVLINK_NET_FRAME || m->len > sizeof(a->net_q[0].data) ||
	    a->net_count == FAKE_NET_QUEUE) {
		a->net_dropped++;
		return;
	}
	tail = (a->net_head + a->net_count) % FAKE_NET_QUEUE;
	a->net_q[tail].len = m->len;
	memcpy(a->net_q[tail].data, p, m->len);
	a->net_count++;
}

static void handle_control(struct fake_agent *a, struct reply_to *r, const struct hvlink_msg *m,
                           const uint8_t *p)
{
	union {
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
	} q;
	struct fake_domain *d = NULL;
	uint16_t op = m->type;

	if (op == FAKE_OP_BLOCK || op == FAKE_OP_NET_SEND || op == FAKE_OP_NET_RECV) {
		handle_test_op(a, r, m, p);
		return;
	}
	if (op == 0 || op >= HVLINK_CTL_OP_COUNT) {
		fail(r, HVLINK_ENOSYS, "unknown control operation %u", op);
		return;
	}
	if (m->len != req_size(op)) {
		fail(r, HVLINK_EINVAL, "request of %u bytes for op %u (expected %u)", m->len, op,
		     req_size(op));
		return;
	}
	memcpy(&q, p, m->len);
	if (q.head.interface_version != HVLINK_CTL_INTERFACE_VERSION) {
		fail(r, HVLINK_EPROTO, "control interface %u, agent speaks %u",
		     q.head.interface_version, HVLINK_CTL_INTERFACE_VERSION);
		return;
	}
	if (op != HVLINK_CTL_HELLO && op != HVLINK_CTL_PHYSINFO && op != HVLINK_CTL_DOMAIN_CREATE &&
	    op != HVLINK_CTL_DOMAIN_LIST && op != HVLINK_CTL_SUBSCRIBE) {
		d = find(a, q.head.domid);
		if (!d) {
			fail(r, HVLINK_ESRCH, "no domain %u", q.head.domid);
			return;
		}
	}
	if (op == a->short_reply_op) {
		struct hvlink_ctl_dominfo junk = {0};
		answer(r, 0, &junk, sizeof(junk) - 1);
		return;
	}

	switch (op) {
	case HVLINK_CTL_HELLO: {
		struct hvlink_ctl_hello_rsp h = {.agent_link_major = a->agent_major,
		                                 .agent_link_minor = a->agent_minor,
		                                 .interface_version = HVLINK_CTL_INTERFACE_VERSION};
		snprintf(h.hv_version, sizeof(h.hv_version), "fake-agent 0.1");
		answer(r, 0, &h, sizeof(h));
		break;
	}
	case HVLINK_CTL_PHYSINFO: {
		struct hvlink_ctl_physinfo pi = {.nr_cpus = a->nr_cpus,
		                                 .cpu_khz = 2000000,
		                                 .total_kib = 4u << 20,
		                                 .free_kib = 3u << 20};
		pi.reservation_free_pct = a->nr_cpus * 100 - reserved_total(a, NULL);
		answer(r, 0, &pi, sizeof(pi));
		break;
	}
	case HVLINK_CTL_DOMAIN_CREATE: {
		struct hvlink_ctl_domid id = {0};
		unsigned i;

		if (q.create.reservation * q.create.max_vcpus + reserved_total(a, NULL) >
		    a->nr_cpus * 100) {
			fail(r, HVLINK_ENOSPC,
			     "reservation of %u%% x %u vcpus does not fit (%u%% left)",
			     q.create.reservation, q.create.max_vcpus,
			     a->nr_cpus * 100 - reserved_total(a, NULL));
			break;
		}
		for (i = 0; i < FAKE_MAX_DOMAINS && a->doms[i].used; i++)
			;
		if (i == FAKE_MAX_DOMAINS) {
			fail(r, HVLINK_ENOMEM, "too many domains");
			break;
		}
		d = &a->doms[i];
		memset(d, 0, sizeof(*d));
		d->used = 1;
		d->domid = id.domid = a->next_domid++;
		d->state = HVLINK_DOM_CREATED;
		d->nr_vcpus = d->max_vcpus = q.create.max_vcpus;
		d->max_kib = q.create.max_mem_kib;
		d->cur_kib = q.create.current_mem_kib;
		d->guarantee_kib = q.create.guarantee_kib;
		d->weight = q.create.weight;
		d->cap = q.create.cap;
		d->reservation = q.create.reservation;
		memcpy(d->uuid, q.create.uuid, 16);
		answer(r, 0, &id, sizeof(id));
		event(a, r, d);
		break;
	}
	case HVLINK_CTL_DOMAIN_BUILD: {
		struct fake_xfer *k = find_xfer(a, q.build.kernel_xfer);

		if (!k || !k->complete || k->kind != HVLINK_BULK_KERNEL) {
			fail(r, HVLINK_EINVAL, "no completed kernel image %u", q.build.kernel_xfer);
			break;
		}
		if (k->total < 4 || memcmp(k->data, "\177ELF", 4) != 0) {
			fail(r, HVLINK_EINVAL, "kernel image is not an ELF file");
			break;
		}
		q.build.cmdline[HVLINK_CMDLINE_MAX - 1] = '\0';
		memcpy(d->cmdline, q.build.cmdline, HVLINK_CMDLINE_MAX);
		d->built = 1;
		free(k->data);
		k->data = NULL;
		answer(r, 0, NULL, 0);
		break;
	}
	case HVLINK_CTL_DOMAIN_UNPAUSE:
		if (!d->built) {
			fail(r, HVLINK_EINVAL, "domain %u has not been built", d->domid);
			break;
		}
		d->state = HVLINK_DOM_RUNNING;
		answer(r, 0, NULL, 0);
		event(a, r, d);
		break;
	case HVLINK_CTL_DOMAIN_PAUSE:
		d->state = HVLINK_DOM_PAUSED;
		answer(r, 0, NULL, 0);
		event(a, r, d);
		break;
	case HVLINK_CTL_DOMAIN_SHUTDOWN:
		if (q.shutdown.reason > HVLINK_SHUTDOWN_CRASH) {
			fail(r, HVLINK_EINVAL, "bad shutdown reason %u", q.shutdown.reason);
			break;
		}
		d->state = HVLINK_DOM_SHUTDOWN;
		d->reason = q.shutdown.reason;
		answer(r, 0, NULL, 0);
		event(a, r, d);
		break;
	case HVLINK_CTL_DOMAIN_DESTROY:
		d->used = 0;
		d->state = HVLINK_DOM_GONE;
		answer(r, 0, NULL, 0);
		event(a, r, d);
		break;
	case HVLINK_CTL_DOMAIN_INFO: {
		struct hvlink_ctl_dominfo o;
		to_info(d, &o);
		answer(r, 0, &o, sizeof(o));
		break;
	}
	case HVLINK_CTL_DOMAIN_LIST: {
		uint8_t buf[8 + 64 * sizeof(struct hvlink_ctl_dominfo)];
		struct hvlink_ctl_list_rsp head = {0};
		uint32_t id, max = q.list.max_entries < 64 ? q.list.max_entries : 64;

		for (id = q.list.first_domid; id < a->next_domid; id++) {
			struct fake_domain *x = find(a, id);

			if (!x)
				continue;
			if (head.count == max) {
				head.more = 1;
				break;
			}
			to_info(x, (struct hvlink_ctl_dominfo *)(buf + sizeof(head)) + head.count);
			head.count++;
		}
		memcpy(buf, &head, sizeof(head));
		answer(r, 0, buf, sizeof(head) + head.count * sizeof(struct hvlink_ctl_dominfo));
		break;
	}
	case HVLINK_CTL_SET_MAX_MEM:
		if (q.mem.kib < d->cur_kib) {
			fail(r, HVLINK_EINVAL, "maximum %llu KiB below current %llu KiB",
			     (unsigned long long)q.mem.kib, (unsigned long long)d->cur_kib);
			break;
		}
		d->max_kib = q.mem.kib;
		answer(r, 0, NULL, 0);
		break;
	case HVLINK_CTL_SET_CURRENT_MEM:
		if (q.mem.kib > d->max_kib) {
			fail(r, HVLINK_EINVAL, "%llu KiB is above the maximum %llu KiB",
			     (unsigned long long)q.mem.kib, (unsigned long long)d->max_kib);
			break;
		}
		d->cur_kib = q.mem.kib;
		answer(r, 0, NULL, 0);
		break;
	case HVLINK_CTL_SET_MEM_GUARANTEE:
		d->guarantee_kib = q.mem.kib;
		answer(r, 0, NULL, 0);
		break;
	case HVLINK_CTL_SET_VCPUS:
		if (q.vcpus.nr_vcpus > d->max_vcpus) {
			fail(r, HVLINK_EINVAL, "%u vcpus is above the maximum %u", q.vcpus.nr_vcpus,
			     d->max_vcpus);
			break;
		}
		d->nr_vcpus = q.vcpus.nr_vcpus;
		answer(r, 0, NULL, 0);
		break;
	case HVLINK_CTL_SCHED_GET: {
		struct hvlink_ctl_sched s = {.head = q.head,
		                             .weight = d->weight,
		                             .cap = d->cap,
		                             .reservation = d->reservation};
		answer(r, 0, &s, sizeof(s));
		break;
	}
	case HVLINK_CTL_SCHED_SET: {
		unsigned left = a->nr_cpus * 100 - reserved_total(a, d);

		if (q.sched.reservation * d->max_vcpus > left) {
			fail(r, HVLINK_ENOSPC,
			     "reservation of %u%% x %u vcpus does not fit (%u%% left)",
			     q.sched.reservation, d->max_vcpus, left);
			break;
		}
		d->weight = q.sched.weight;
		d->cap = q.sched.cap;
		d->reservation = q.sched.reservation;
		answer(r, 0, NULL, 0);
		break;
	}
	case HVLINK_CTL_BANDWIDTH_GET:
	case HVLINK_CTL_BANDWIDTH_SET:
		if (q.bw.kind < HVLINK_BW_NET_IN || q.bw.kind > HVLINK_BW_BLOCK || q.bw.index > 0) {
			fail(r, HVLINK_ENOENT, "domain %u has no such device", d->domid);
			break;
		}
		if (op == HVLINK_CTL_BANDWIDTH_SET) {
			d->bw[q.bw.kind] = q.bw;
			answer(r, 0, NULL, 0);
		} else {
			struct hvlink_ctl_bandwidth o = d->bw[q.bw.kind];
			o.head = q.head;
			o.kind = q.bw.kind;
			answer(r, 0, &o, sizeof(o));
		}
		break;
	case HVLINK_CTL_SUBSCRIBE:
		a->subscribed = q.sub.enable != 0;
		answer(r, 0, NULL, 0);
		break;
	case HVLINK_CTL_DEVICE_ADD: {
		unsigned i, freei = 8;

		if (q.dev.kind != HVLINK_DEV_VBD && q.dev.kind != HVLINK_DEV_VIF) {
			fail(r, HVLINK_EINVAL, "unknown device kind %u", q.dev.kind);
			break;
		}
		if (q.dev.kind == HVLINK_DEV_VBD && q.dev.sectors == 0) {
			fail(r, HVLINK_EINVAL, "a disk of 0 sectors");
			break;
		}
		for (i = 0; i < 8; i++) {
			if (!d->devs[i].used) {
				if (freei == 8)
					freei = i;
			} else if (d->devs[i].kind == q.dev.kind &&
			           d->devs[i].devid == q.dev.devid) {
				break;
			}
		}
		if (i < 8) {
			fail(r, HVLINK_EEXIST, "domain %u already has device %u", d->domid,
			     q.dev.devid);
			break;
		}
		if (freei == 8) {
			fail(r, HVLINK_ENOSPC, "domain %u has too many devices", d->domid);
			break;
		}
		d->devs[freei] = (struct fake_device){.used = 1,
		                                      .kind = q.dev.kind,
		                                      .devid = q.dev.devid,
		                                      .flags = q.dev.flags,
		                                      .sectors = q.dev.sectors};
		memcpy(d->devs[freei].mac, q.dev.mac, 6);
		answer(r, 0, NULL, 0);
		break;
	}
	case HVLINK_CTL_DEVICE_REMOVE: {
		unsigned i;

		for (i = 0; i < 8; i++)
			if (d->devs[i].used && d->devs[i].kind == q.dev.kind &&
			    d->devs[i].devid == q.dev.devid)
				break;
		if (i == 8) {
			fail(r, HVLINK_ENOENT, "domain %u has no device %u", d->domid, q.dev.devid);
			break;
		}
		d->devs[i].used = 0;
		answer(r, 0, NULL, 0);
		break;
	}
	default:
		fail(r, HVLINK_ENOSYS, "operation %u not implemented", op);
		break;
	}
}

void fake_agent_handle(struct fake_agent *a, uint16_t chan, const struct hvlink_msg *msg,
                       const void *payload, fake_reply_fn reply, void *ctx)
{
	struct reply_to r = {.a = a, .fn = reply, .ctx = ctx, .chan = chan, .req = msg};
	unsigned kind = msg->flags & HVLINK_MSG_KIND_MASK;
	int delay;

	pthread_mutex_lock(&a->lock);
	a->requests++;
	delay = a->delay_ms;
	if (kind == HVLINK_MSG_REQUEST && chan == HVLINK_CHAN_CONTROL && msg->type == a->hang_op) {
		pthread_mutex_unlock(&a->lock);
		return;
	}
	pthread_mutex_unlock(&a->lock);
	if (delay && kind == HVLINK_MSG_REQUEST)
		usleep((useconds_t)delay * 1000);
	pthread_mutex_lock(&a->lock);
	if (chan == HVLINK_CHAN_CONTROL)
		handle_control(a, &r, msg, payload);
	else if (chan == HVLINK_CHAN_CONSOLE)
		handle_console(a, &r, msg, payload);
	else if (chan == HVLINK_CHAN_BULK)
		handle_bulk(a, &r, msg, payload);
	else if (chan == HVLINK_CHAN_BLOCK)
		handle_block(a, &r, msg, payload);
	else if (chan == HVLINK_CHAN_NET)
		handle_net(a, msg, payload);
	else if (kind == HVLINK_MSG_REQUEST)
		fail(&r, HVLINK_ENOSYS, "no channel %u", chan);
	pthread_mutex_unlock(&a->lock);
}
